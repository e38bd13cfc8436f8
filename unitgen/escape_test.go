package unitgen

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/supersede/supersede/translate"
)

func TestEscapeName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"gunicorn", "gunicorn"},
		{"my-app", "my-app"},
		{"my prog", `my\x20prog`},
		{".hidden", `\x2ehidden`},
		{"a.b", "a.b"},
		{"ü", `\xc3\xbc`},
		{"@at", `\x40at`},
		{"tab\there", `tab\x09here`},
		{"a/b", `a\x2fb`},
		{`back\slash`, `back\x5cslash`},
		{"co:lon", `co\x3alon`},
	} {
		if got := escapeName(c.in); got != c.want {
			t.Errorf("escapeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUnitName(t *testing.T) {
	for _, c := range []struct{ prefix, name, suffix, want string }{
		{"", "gunicorn", Service, "gunicorn.service"},
		{"", "web:web_00", Service, "web@web_00.service"},
		{"supervisor-", "web:web 1", Service, `supervisor-web@web\x201.service`},
		{"", "web", Target, "web.target"},
		{"", "a@b", Service, `a\x40b.service`},
	} {
		got, err := UnitName(c.prefix, c.name, c.suffix)
		if err != nil || got != c.want {
			t.Errorf("UnitName(%q, %q, %q) = %q, %v; want %q", c.prefix, c.name, c.suffix, got, err, c.want)
		}
	}
	if _, err := UnitName("", strings.Repeat("x", 250), Service); !errors.Is(err, ErrName) {
		t.Errorf("a 258-character name: err = %v, want ErrName", err)
	}
	if _, err := UnitName("", "", Service); !errors.Is(err, ErrName) {
		t.Errorf("empty name: err = %v, want ErrName", err)
	}
	// One-to-one: different names never share a unit.
	seen := map[string]string{}
	for _, n := range []string{"a-b", "a/b", `a\x2fb`, "a:b", "a@b", "a b", "a_b", "a.b", ".ab", `\x2eab`, "a:b-c", "a-b:c"} {
		u, err := UnitName("", n, Service)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[u]; ok {
			t.Errorf("%q and %q both become %s", prev, n, u)
		}
		seen[u] = n
	}
}

func TestQuoteWordRoundTrip(t *testing.T) {
	for _, s := range []string{
		"", "plain", "two words", `$HOME`, "${HOME}", "$$", "100%", "%n", `a\tb`, "a\tb",
		`"quoted"`, "'single'", `back\slash\`, "new\nline", ";", "ü→", "\x01\x7f", "\xff\xfe", "é\xc3",
	} {
		fn, argv, err := parseExec(execLine("/bin/x", []string{"x", s}))
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if fn != "/bin/x" || !slices.Equal(argv, []string{"x", s}) {
			t.Errorf("%q came back as %q %q", s, fn, argv)
		}
	}
}

func TestQuoteEnv(t *testing.T) {
	for _, c := range []struct{ name, value string }{
		{"A", "x y"}, {"B", `"q" \ %n $HOME`}, {"C", ""}, {"D", "a=b"}, {"E", "ü"},
		{"F", "line 1\nline 2"}, {"G", "a\tb\rc\x1b[1m\x7f"},
	} {
		line, err := quoteEnv(c.name, c.value)
		if err != nil {
			t.Fatalf("%s=%q: %v", c.name, c.value, err)
		}
		n, v, err := parseEnv(line)
		if err != nil || n != c.name || v != c.value {
			t.Errorf("%s=%q came back as %q=%q (%v)", c.name, c.value, n, v, err)
		}
	}
	for _, c := range []struct{ name, value string }{
		{"A", "nul\x00"}, {"1A", "x"}, {"A-B", "x"}, {"", "x"}, {"A", "\xff"},
	} {
		if _, err := quoteEnv(c.name, c.value); err == nil {
			t.Errorf("%q=%q: no error", c.name, c.value)
		}
	}
}

// fuzzConfig builds a model directly, so that any string can reach any
// field, including what the config parser would refuse.
func fuzzConfig(dir string, name, group, arg, envName, envValue, wd, user, logPath, sockPath string) *translate.Config {
	pos := translate.Pos{File: filepath.Join(dir, "supervisord.conf"), Line: 3}
	p := &translate.Process{
		Name: name, Group: group, Section: "program:" + group,
		Argv: []string{"/bin/sh", arg, "-c", "exit 0"}, Dir: &wd,
		Env:  translate.Env{{Name: envName, Value: envValue}},
		User: &user, AutoStart: true, AutoRestart: translate.RestartUnexpected,
		ExitCodes: []int{0, 2}, MinUptime: time.Second, StartRetries: 3,
		StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
		Stdout: translate.Log{Kind: translate.LogFile, Path: logPath},
		Stderr: translate.Log{Kind: translate.LogAuto},
		Pos:    pos, KeyPos: map[string]translate.Pos{},
	}
	mode := 0o660
	g := &translate.Group{Name: group, Type: translate.GroupFCGI, Section: p.Section, Priority: 999, Processes: []*translate.Process{p}, Pos: pos,
		Socket: &translate.Socket{URL: "unix://" + sockPath, Mode: &mode, Pos: pos}}
	return &translate.Config{File: pos.File, Here: dir, Groups: []*translate.Group{g}, Supervisord: translate.Supervisord{Umask: 0o22}}
}

// FuzzUnits checks that no string in any field can add a directive, a
// section or a unit, and that what systemd will read back is what
// Supervisor had: argv, environment, paths.
func FuzzUnits(f *testing.F) {
	f.Add("web", "web", "a b", "A", "x y", "/srv", "www", "/var/log/x.log", "/run/x.sock")
	f.Add("w\nExecStartPre=/bin/evil", "g", "x\n[Service]\nExecStartPre=/evil", "B", "v\n[Install]", "/a\nUser=root", "root\nX=1", "/l\n", "/s\nListenStream=1")
	f.Add("%n", "%i", "$HOME %n ${X}", "C", "%%d $Y", "/%h", "%u", "/log/%p", "/s/%t")
	f.Add(`a\`, `b\`, `c\`, "D", `e\`, `/f\`, `g\`, `/h\`, `/i\`)
	f.Add(" lead", "trail ", "\t", "E", " ", " /x", "u ", "/y ", "/z ")
	f.Add("web", "web", "a", "JOURNAL_STREAM", "mine", "/srv", "www", "/l", "/s")
	f.Fuzz(func(t *testing.T, name, group, arg, envName, envValue, wd, user, logPath, sockPath string) {
		dir := t.TempDir()
		cfg := fuzzConfig(dir, name, group, arg, envName, envValue, wd, user, logPath, sockPath)
		res, err := Generate(cfg, Options{LogFiles: true, Environ: []string{"PATH=/usr/bin:/bin"}, Dir: dir})
		if err != nil {
			var list translate.ErrorList
			if !errors.As(err, &list) {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error that is not a translate.ErrorList spans lines: %v", err)
				}
				return
			}
			for _, e := range list {
				if !e.Pos.IsValid() {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		checkUnits(t, cfg, res)
	})
}

// checkUnits reads every unit back and checks structure and values.
func checkUnits(t *testing.T, cfg *translate.Config, res *Result) {
	t.Helper()
	p := cfg.Groups[0].Processes[0]
	var names []string
	for _, u := range res.Units {
		names = append(names, u.Name)
		if strings.ContainsAny(u.Name, "/\n\x00") || len(u.Name) > MaxNameLen {
			t.Fatalf("bad unit name %q", u.Name)
		}
		opts, err := parseUnit(u.Data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", u.Name, err, u.Data)
		}
		if len(u.Data) < 2000 {
			if _, err := unit.DeserializeOptions(strings.NewReader(string(u.Data))); err != nil {
				t.Fatalf("%s: go-systemd cannot read it back: %v", u.Name, err)
			}
		}
		for _, o := range opts {
			if !slices.Contains([]string{"Unit", "Service", "Socket", "Install"}, o.section) {
				t.Fatalf("%s: unexpected section [%s]", u.Name, o.section)
			}
			if !knownKeys[o.name] {
				t.Fatalf("%s: unexpected directive %s=%s", u.Name, o.name, o.value)
			}
			switch o.name {
			case "ExecStart":
				fn, argv, err := parseExec(o.value)
				if err != nil {
					t.Fatalf("%s: ExecStart: %v", u.Name, err)
				}
				if fn != "/bin/sh" || !slices.Equal(argv, p.Argv) {
					t.Fatalf("%s: ExecStart gives %q %q, want /bin/sh %q", u.Name, fn, argv, p.Argv)
				}
			case "Environment":
				n, v, err := parseEnv(o.value)
				if err != nil {
					t.Fatalf("%s: Environment: %v", u.Name, err)
				}
				if n == p.Env[0].Name && v != p.Env[0].Value {
					t.Fatalf("%s: %s=%q, want %q", u.Name, n, v, p.Env[0].Value)
				}
			case "UnsetEnvironment":
				// systemd's own variables, never one environment= sets
				for _, w := range strings.Fields(o.value) {
					if !slices.Contains(SystemdServiceVars[:], w) || w == p.Env[0].Name {
						t.Fatalf("%s: UnsetEnvironment=%s removes %s (environment= sets %q)", u.Name, o.value, w, p.Env[0].Name)
					}
				}
			case "WorkingDirectory", "User", "ListenStream", "SyslogIdentifier":
				v, err := unspecify(o.value)
				if err != nil {
					t.Fatalf("%s: %s: %v", u.Name, o.name, err)
				}
				want := map[string]string{"WorkingDirectory": *p.Dir, "User": *p.User, "ListenStream": strings.TrimPrefix(cfg.Groups[0].Socket.URL, "unix://"), "SyslogIdentifier": p.Name}[o.name]
				if o.name == "WorkingDirectory" && !filepath.IsAbs(want) {
					continue
				}
				if o.name == "SyslogIdentifier" && v != want {
					continue // free text, cleaned
				}
				if v != want {
					t.Fatalf("%s: %s=%q, want %q", u.Name, o.name, v, want)
				}
			case "StandardOutput":
				if path, ok := strings.CutPrefix(o.value, "append:"); ok {
					if v, err := unspecify(path); err != nil || (filepath.IsAbs(p.Stdout.Path) && v != p.Stdout.Path) {
						t.Fatalf("%s: StandardOutput=%s, want append:%s (%v)", u.Name, o.value, p.Stdout.Path, err)
					}
				}
			}
		}
	}
	// Exactly the units one fcgi program makes: service, socket, anchor,
	// and a group target when the process is named apart from its group.
	want := 3
	if p.Name != p.Group {
		want = 4
	}
	if len(names) != want {
		t.Fatalf("units %q, want a service, a socket, the anchor (and a group target)", names)
	}
}

var knownKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`Description SourcePath PartOf After Before Requires Wants
		StartLimitIntervalSec StartLimitBurst StartLimitInterval Type ExecStart WorkingDirectory User
		UMask Environment LimitNOFILE LimitNPROC Restart SuccessExitStatus RestartForceExitStatus RestartSec
		KillSignal TimeoutStopSec KillMode OOMPolicy Sockets StandardInput StandardOutput StandardError
		SyslogIdentifier WantedBy ListenStream Backlog SocketMode SocketUser SocketGroup Service
		UnsetEnvironment`) {
		knownKeys[k] = true
	}
}

func TestShimOf(t *testing.T) {
	for _, shim := range []string{"/usr/local/bin/supersede", `/opt/my "odd" dir/100%/$x/supersede`, "/tmp/tab\there/ü/supersede"} {
		line := "ExecStartPre=" + execLine(shim, []string{shim, "shim", "backoff"}) + " %t/supersede/%N 3\n"
		got, ok := ShimOf([]byte("[Service]\n" + line + "ExecStart=/bin/true\n"))
		if !ok || got != shim {
			t.Errorf("ShimOf(%q) = %q, %v; want %q", line, got, ok, shim)
		}
	}
	if got, ok := ShimOf([]byte("[Service]\nExecStartPre=\"/bin/true\"\nExecStart=/bin/true\n")); ok {
		t.Errorf("a unit without the step: %q", got)
	}
}

// WithoutExecStep turns the step's ExecStart= back into the one a unit
// without the step has, for every argv the quoting has to survive.
func TestWithoutExecStep(t *testing.T) {
	for _, shim := range []string{"/usr/local/bin/supersede", `/opt/my "odd" dir/100%/$x/supersede`} {
		for _, argv := range [][]string{
			{"/bin/true"},
			{"/usr/bin/python3", "-c", `print("a \"q\" b")`, "$HOME", "%n", `back\slash`, "tab\there", ""},
			{"python3", "app.py"}, // argv[0] differs from the path: @
		} {
			path := argv[0]
			if !strings.HasPrefix(path, "/") {
				path = "/usr/bin/" + path
			}
			want := "[Service]\nType=exec\nExecStart=" + execLine(path, argv) + "\nUMask=0022\n"
			for _, state := range []string{"", " --state " + StateDir} {
				line := execLine(shim, []string{shim, "shim", "exec"}) + state
				for _, w := range append([]string{path}, argv...) {
					line += " " + quoteWord(w)
				}
				step := "[Service]\nType=exec\nExecStart=" + line + "\nUMask=0022\n"
				if got := string(WithoutExecStep([]byte(step))); got != want {
					t.Errorf("WithoutExecStep:\n%s\ngot\n%s\nwant\n%s", step, got, want)
				}
			}
		}
	}
	for _, other := range []string{
		"[Service]\nExecStart=\"/bin/true\"\n",
		"[Service]\nExecStart=\"/usr/local/bin/supersede\" \"shim\" \"hold-stdin\" \"/bin/l\" \"/bin/l\"\n",
		"[Service]\nExecStart=/bin/true\n",
	} {
		if got := string(WithoutExecStep([]byte(other))); got != other {
			t.Errorf("WithoutExecStep changed %q into %q", other, got)
		}
	}
}

// FuzzPlainWord: the words quoteWord and quoteEnv copy as they are
// (plainWord) come out as escaping them rune by rune would write them.
func FuzzPlainWord(f *testing.F) {
	for _, s := range []string{"", "/srv/app", "a b", "$HOME", "100%", `a"b`, `a\b`, "tab\there", "é", "\x7f", "\xff", "~!@#&*()_+-=[]{}|;':,./<>?`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainWord(s, true) {
			if want := escapeWord(s); quoteWord(s) != want {
				t.Errorf("quoteWord(%q) = %s, want %s", s, quoteWord(s), want)
			}
		}
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return
		}
		got, err := quoteEnv("X", s)
		if want := escapeEnv("X", s); err != nil || got != want {
			t.Errorf("quoteEnv(X, %q) = %s, %v; want %s", s, got, err, want)
		}
	})
}
