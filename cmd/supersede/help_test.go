package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/internal/testreal"
)

// runArgs runs supersede in process with argv and returns its outputs.
func runArgs(t *testing.T, argv ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), argv, os.Environ(), &o, &e)
	return o.String(), e.String(), code
}

// Every flag a command takes is in its usage line, and help texts name no
// file of the repository (an installed user has none).
func TestHelpUsageListsEveryFlag(t *testing.T) {
	for _, c := range commands {
		if c.hidden {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runArgs(t, "supersede", "help", c.name)
			if code != 0 {
				t.Fatalf("help %s: exit %d: %s", c.name, code, errOut)
			}
			first, _, _ := strings.Cut(out, "\n")
			fs := describeFlags(c)
			if c.name == "ctl" {
				fs = ctlFlags()
			}
			if fs != nil {
				fs.VisitAll(func(f *pflag.Flag) {
					if f.Hidden {
						return
					}
					name := "--" + f.Name
					if f.Shorthand != "" {
						name = "-" + f.Shorthand
					}
					if c.name == "ctl" {
						// supervisorctl's own usage text lists its options below
						if !strings.Contains(out, name) {
							t.Errorf("help ctl does not mention %s:\n%s", name, out)
						}
						return
					}
					if !regexp.MustCompile(`\[` + regexp.QuoteMeta(name) + `[ \]\[]`).MatchString(first) {
						t.Errorf("usage line of %s lacks %s: %s", c.name, name, first)
					}
					if varname, _ := pflag.UnquoteUsage(f); f.Value.Type() != "bool" && varname == f.Value.Type() {
						t.Errorf("%s %s: its usage text names no value (`NAME`): %q", c.name, name, f.Usage)
					}
				})
			}
			for _, bad := range []string{"shared/", "../", "testdata"} {
				if strings.Contains(out, bad) {
					t.Errorf("help %s mentions %q, which an installed user does not have:\n%s", c.name, bad, out)
				}
			}
		})
	}
}

func TestVersionFlags(t *testing.T) {
	for _, arg := range []string{"-v", "--version", "version"} {
		out, errOut, code := runArgs(t, "supersede", arg)
		if code != 0 || !strings.HasPrefix(out, "supersede ") {
			t.Errorf("supersede %s: exit %d, stdout %q, stderr %q; want the version", arg, code, out, errOut)
		}
	}
	// supervisord -v is supervisord's version, as before
	if out, _, code := runArgs(t, "supervisord", "-v"); code != 0 || out != supervisordVersion+"\n" {
		t.Errorf("supervisord -v: exit %d, %q", code, out)
	}
}

// sample-config is echo_supervisord_conf's output byte for byte, which
// show accepts and convert converts without a warning.
func TestSampleConfig(t *testing.T) {
	t.Parallel()
	out, errOut, code := runArgs(t, "supersede", "sample-config")
	if code != 0 || errOut != "" {
		t.Fatalf("sample-config: exit %d, stderr %q", code, errOut)
	}
	// As echo_supervisord_conf it ignores its arguments, as Supervisor's does.
	if out2, _, code := runArgs(t, "/usr/local/bin/echo_supervisord_conf", "--help", "x"); code != 0 || out2 != out {
		t.Errorf("as echo_supervisord_conf: exit %d, and a different output", code)
	}
	if _, errOut, code := runArgs(t, "supersede", "sample-config", "x"); code != 2 || !strings.Contains(errOut, "takes no arguments") {
		t.Errorf("sample-config x: exit %d, stderr %q; want a usage error", code, errOut)
	}
	conf := filepath.Join(t.TempDir(), "supervisord.conf")
	if err := os.WriteFile(conf, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runArgs(t, "supersede", "show", "-c", conf); code != 0 || errOut != "" {
		t.Errorf("show -c the sample: exit %d, stderr %q", code, errOut)
	}
	if units, errOut, code := runArgs(t, "supersede", "convert", "--strict", "-c", conf); code != 0 || errOut != "" || !strings.Contains(units, "-- supersede.target --") {
		t.Errorf("convert --strict -c the sample: exit %d, stderr %q, stdout %q", code, errOut, units)
	}

	testreal.RequireSupervisor(t)
	const echo = "/usr/bin/echo_supervisord_conf"
	if _, err := os.Stat(echo); err != nil {
		testreal.Missing(t, echo+" is not installed (make deps)")
	}
	want, err := exec.Command(echo).Output()
	if err != nil {
		t.Fatalf("%s: %v", echo, err)
	}
	if out != string(want) {
		t.Errorf("sample-config differs from %s's output", echo)
	}
}

// completionConf is a configuration with a program, a numprocs group
// and a heterogeneous group, in a directory of its own, where ctl finds
// it as ./supervisord.conf.
func completionConf(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	conf := `[supervisord]
[supervisorctl]
[program:gunicorn]
command=/bin/sleep 1000
[program:web]
command=/bin/sleep 1000
process_name=web_%(process_num)02d
numprocs=2
`
	if err := os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wantRestartCandidates are what `supersede ctl restart <TAB>` offers for
// completionConf, as supervisorctl's shell does.
var wantRestartCandidates = []string{"gunicorn", "web:*", "web:web_00", "web:web_01"}

// The completion scripts load in Debian's bash (with bash-completion),
// zsh and fish, and complete `supersede ctl restart <TAB>` with the
// program names of ./supervisord.conf. The scripts call back into the
// test binary, which is supersede on PATH (TestMain).
func TestCompletionInShells(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("supersede"); err != nil {
		t.Fatalf("the test binary is not on PATH as supersede: %v", err)
	}
	scripts := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := runArgs(t, "supersede", "completion", sh)
		if code != 0 || out == "" {
			t.Fatalf("completion %s: exit %d: %s", sh, code, errOut)
		}
		name := map[string]string{"bash": "supersede.bash", "zsh": "_supersede", "fish": "supersede.fish"}[sh]
		if err := os.WriteFile(filepath.Join(scripts, name), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := runArgs(t, "supersede", "completion", "tcsh"); code != 2 || !strings.Contains(errOut, "bash, zsh, fish") {
		t.Errorf("completion tcsh: exit %d, stderr %q; want a usage error naming the shells", code, errOut)
	}
	dir := completionConf(t)
	shell := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		path, err := exec.LookPath(name)
		if err != nil {
			testreal.Missing(t, name+" is not installed (make deps)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TERM=dumb", "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
		cmd.WaitDelay = time.Second
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", name, err, out, stderr.String())
		}
		return string(out)
	}
	check := func(t *testing.T, out string) {
		t.Helper()
		for _, w := range wantRestartCandidates {
			if !strings.Contains(out, w) {
				t.Errorf("ctl restart <TAB> does not offer %q:\n%s", w, out)
			}
		}
	}
	t.Run("bash", func(t *testing.T) {
		t.Parallel()
		const bashCompletion = "/usr/share/bash-completion/bash_completion"
		if _, err := os.Stat(bashCompletion); err != nil {
			testreal.Missing(t, bashCompletion+" is not installed (apt-get install bash-completion; make deps)")
		}
		// What bash does on Tab: the function `complete -p` names, with
		// the words of the line; compopt complains outside a real Tab.
		script := `source "$1" && source "$2" || exit 1
f=$(complete -p supersede | sed -E 's/.* -F ([^ ]+) .*/\1/')
[ -n "$f" ] || { echo "no completion function for supersede" >&2; exit 1; }
COMP_WORDS=(supersede ctl restart "")
COMP_CWORD=3
COMP_LINE="supersede ctl restart "
COMP_POINT=${#COMP_LINE}
"$f" supersede "" restart 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
`
		out := shell(t, "bash", "--norc", "--noprofile", "-c", script, "bash", bashCompletion, filepath.Join(scripts, "supersede.bash"))
		check(t, out)
	})
	t.Run("zsh", func(t *testing.T) {
		t.Parallel()
		// An interactive zsh on a pseudo-terminal (zsh/zpty) with the
		// script on its fpath, compinit, and Tab typed after the words.
		script := `zmodload zsh/zpty || exit 1
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; zstyle ':completion:*' list-prompt ''"
zpty -w -n z $'supersede ctl restart \t'
out=
integer i
for (( i = 0; i < 600; i++ )); do
	if zpty -r -t z chunk; then
		out+=$chunk
		[[ $out == *web_01* ]] && break
	else
		sleep 0.05
	fi
done
zpty -d z
print -r -- ${out//$'\r'/}
`
		out := shell(t, "zsh", "-f", "-c", script, "zsh", scripts)
		// the candidates are listed below the line typed
		_, after, _ := strings.Cut(out, "supersede ctl restart ")
		check(t, after)
	})
	t.Run("fish", func(t *testing.T) {
		t.Parallel()
		out := shell(t, "fish", "--no-config", "-c", `source $argv[1]; and complete -C"supersede ctl restart "`, filepath.Join(scripts, "supersede.fish"))
		check(t, out)
		if strings.Contains(out, "version") {
			t.Errorf("ctl restart <TAB> offers actions, want processes:\n%s", out)
		}
	})
}

// `make install` installs the man pages, so that man supersede-convert
// works, and the completion scripts.
func TestMakeInstallMan(t *testing.T) {
	t.Parallel()
	man, err := exec.LookPath("man")
	if err != nil {
		testreal.Missing(t, "man is not installed (apt-get install man-db; make deps)")
	}
	if _, err := exec.LookPath("make"); err != nil {
		testreal.Missing(t, "make is not installed (apt-get install make)")
	}
	prefix := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", filepath.Join("..", ".."), "install", "PREFIX="+prefix, "GENERATORDIR="+filepath.Join(prefix, "generators"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{"bin/supersede", "share/bash-completion/completions/supersede", "share/zsh/site-functions/_supersede", "share/fish/vendor_completions.d/supersede.fish", "share/man/man1/supersede.1"} {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			t.Errorf("make install: %v", err)
		}
	}
	for _, page := range []string{"supersede", "supersede-convert", "supersede-ctl", "supersede-show", "supersede-run", "supersede-sample-config"} {
		cmd := exec.CommandContext(ctx, man, "-M", filepath.Join(prefix, "share", "man"), page)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("man %s: %v\n%s", page, err, out)
			continue
		}
		if !strings.Contains(string(out), "NAME") || !strings.Contains(string(out), page) {
			t.Errorf("man %s:\n%s", page, out)
		}
		if page == "supersede-convert" && !strings.Contains(string(out), "--output") {
			t.Errorf("man supersede-convert does not list --output:\n%s", out)
		}
	}
}

// convert -o's last line is right for the host: enable the units where
// systemd runs (after copying them where it reads units, if needed);
// where it does not, where the units go and what runs the programs here.
func TestConvertNextSteps(t *testing.T) {
	env := []string{"HOME=/home/u", "XDG_CONFIG_HOME=/cfg"}
	for _, c := range []struct {
		dir           string
		user, running bool
		want          string
	}{
		{"/etc/systemd/system", false, true, "next: systemctl daemon-reload, then systemctl enable --now supersede.target (it starts"},
		{"/etc/systemd/system/", false, true, "next: systemctl daemon-reload"},
		{"/cfg/systemd/user", true, true, "next: systemctl --user daemon-reload, then systemctl --user enable --now supersede.target"},
		{"/home/u/.config/systemd/user", true, true, "next: systemctl --user daemon-reload"},
		{"/srv/units", false, true, "next: systemd does not read units from /srv/units: copy them into /etc/systemd/system, then run systemctl daemon-reload"},
		{"/etc/systemd/system", true, true, "next: systemd does not read units from /etc/systemd/system: copy them into ~/.config/systemd/user"},
		{"/etc/systemd/system", false, false, "next: this host does not run systemd (no /run/systemd/system): on a host that does, put the units into /etc/systemd/system and run systemctl daemon-reload, then systemctl enable --now supersede.target (it starts the autostart programs, as supervisord would); here, supersede run -c app.conf supervises"},
	} {
		got := nextSteps(env, c.dir, "app.conf", "supersede.target", c.user, c.running)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("nextSteps(%s, user=%v, systemd=%v) = %q, want it to start %q", c.dir, c.user, c.running, got, c.want)
		}
	}
}
