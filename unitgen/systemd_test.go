package unitgen_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// The units on a real systemd user manager (internal/sdtest): programs
// get the argv and environment Supervisor would give them, systemd
// restarts them when Supervisor would, a crash loop ends failed as
// Supervisor's FATAL, a group target restarts its members and an
// fcgi-program's process finds the listening socket on fd 0.

// settle bounds every wait on the manager; a healthy one needs far less.
const settle = 30 * time.Second

// deployment is a config turned into units and loaded by a manager.
type deployment struct {
	m   *sdtest.Manager
	dir string            // the config's directory; {DIR} in its text
	env []string          // the manager's environment, which stands for supervisord's
	cfg *translate.Config // what Supervisor understands of the config
}

// deploy writes files (name → content; {DIR} stands for the directory)
// and supervisord.conf into a new directory, loads the config as
// Supervisor would in the manager's environment, generates user units
// with unitgen, writes them into the manager's unit directory and
// reloads it.
func deploy(t *testing.T, m *sdtest.Manager, conf string, files map[string]string) *deployment {
	t.Helper()
	return deployEnv(t, m, conf, files, nil)
}

// deployEnv is deploy with extra variables in supervisord's environment
// (for %(ENV_X)s), which the manager's services do not have.
func deployEnv(t *testing.T, m *sdtest.Manager, conf string, files map[string]string, extra []string) *deployment {
	t.Helper()
	dir := t.TempDir()
	// Stop the manager before the directory its services use goes away
	// (cleanups run last-registered first).
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("sdtest: teardown: %v", err)
		}
	})
	d := &deployment{m: m, dir: dir, env: append(managerEnviron(t, m), extra...)}
	files = maps.Clone(files)
	if files == nil {
		files = map[string]string{}
	}
	if !strings.Contains(conf, "[supervisord]") {
		conf = "[supervisord]\n\n" + conf
	}
	files["supervisord.conf"] = conf
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(content, "{DIR}", dir)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := translate.Load(filepath.Join(dir, "supervisord.conf"), translate.Options{Environ: d.env, Dir: dir})
	if err != nil {
		t.Fatalf("Supervisor would not load the config: %v", err)
	}
	d.cfg = cfg
	res, err := unitgen.Generate(cfg, unitgen.Options{User: true, Environ: d.env, Dir: dir, Shim: testBinary(t)})
	if err != nil {
		t.Fatalf("unitgen.Generate: %v", err)
	}
	for _, w := range res.Warnings {
		t.Logf("unitgen warning: %s", w)
	}
	if _, err := unitgen.WriteDir(m.UnitDir, res, unitgen.WriteOptions{}); err != nil {
		t.Fatalf("unitgen.WriteDir: %v", err)
	}
	m.DaemonReload()
	return d
}

// managerEnviron is the manager's environment, which every service
// inherits as supervisord's children inherit supervisord's.
func managerEnviron(t *testing.T, m *sdtest.Manager) []string {
	t.Helper()
	var env []string
	for line := range strings.Lines(m.Systemctl("show-environment")) {
		line = strings.TrimSuffix(line, "\n")
		if _, v, _ := strings.Cut(line, "="); strings.HasPrefix(v, "$'") {
			t.Fatalf("show-environment quoted a value, which this test does not decode: %q", line)
		}
		env = append(env, line)
	}
	return env
}

// unitName is the unit of a namespec, a group or a socket, as unitgen
// names it.
func unitName(t *testing.T, name, suffix string) string {
	t.Helper()
	n, err := unitgen.UnitName("", name, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// process is the process of cfg with namespec name.
func (d *deployment) process(t *testing.T, namespec string) *translate.Process {
	t.Helper()
	for _, g := range d.cfg.Groups {
		for _, p := range g.Processes {
			if p.Namespec() == namespec {
				return p
			}
		}
	}
	t.Fatalf("no process %s in the config", namespec)
	return nil
}

// mainPID returns the unit's MainPID once it is active.
func mainPID(t *testing.T, m *sdtest.Manager, unit string) int {
	t.Helper()
	props := m.WaitUntil(unit, settle, func(p map[string]string) bool {
		return p["ActiveState"] == "active" && p["MainPID"] != "0"
	}, "ActiveState", "MainPID")
	pid, err := strconv.Atoi(props["MainPID"])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitFile waits for path to exist and returns its content.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(settle)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			return data
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dumper writes what its process was given, as the kernel holds it, into
// OUT.exe, OUT.cmdline and OUT.environ (last), then waits. It reads
// /proc/self rather than sys.argv and os.environ, which Python may have
// changed (locale coercion adds LC_CTYPE).
const dumper = `import os, sys, time
out = sys.argv[1]
for name, data in (("exe", os.readlink("/proc/self/exe").encode()),
                   ("cmdline", open("/proc/self/cmdline", "rb").read()),
                   ("environ", open("/proc/self/environ", "rb").read())):
    with open(out + "." + name + ".tmp", "wb") as f:
        f.write(data)
    os.rename(out + "." + name + ".tmp", out + "." + name)
time.sleep(3600)
`

// nastyArgs are command-line words as written in supervisord.conf (after
// the dumper's output path), and the argument each becomes: what
// Supervisor's shlex.split gives after %(…)s expansion. Every one of them
// means something else to systemd (reference/systemd.md §1.2).
var nastyArgs = []struct{ conf, arg string }{
	{`$HOME`, `$HOME`},
	{`${HOME}`, `${HOME}`},
	{`'$HOME'`, `$HOME`},
	{`"$UNSET"`, `$UNSET`},
	{`$$`, `$$`},
	{`pre${HOME}post`, `pre${HOME}post`},
	{`100%%`, `100%`},
	{`%%n`, `%n`},
	{`%%i%%Z`, `%i%Z`},
	{`"double \"quoted\""`, `double "quoted"`},
	{`'single'"double"`, `singledouble`},
	{`back\\slash`, `back\slash`},
	{`'a\tb'`, `a\tb`},
	{`"c\sd"`, `c\sd`},
	{"\"tab\there\"", "tab\there"},
	{`ü→✓`, `ü→✓`},
	{`""`, ``},
	{`''`, ``},
	{`x;y`, `x;y`},
	{`';'`, `;`},
	{`"--opt=a b"`, `--opt=a b`},
	{`'trail\'`, `trail\`},
	{`*.txt`, `*.txt`},
	{`~/x`, `~/x`},
	{`@at`, `@at`},
	{`-dash`, `-dash`},
	{`\;`, `;`},
}

// nastyEnv is an environment= value, and nastyEnvWant what each name
// holds for Supervisor 4.2.5 (checked with its dict_of_key_value_pairs:
// a backslash is literal inside double quotes, and 'say "hi"' loses its
// last character).
const nastyEnv = `DOLLAR="$HOME ${HOME} $$ $",PCT="100%% %%n %%i",QUOTES="it's",DQ='say "hi"',BACK="back\\slash \t not a tab",UTF8="ü→✓",EMPTY="",SEMI="a;b#c",EQ="x=y=z",SPACES="  lead and trail  ",HOME="/over ridden"`

var nastyEnvWant = map[string]string{
	"DOLLAR": `$HOME ${HOME} $$ $`,
	"PCT":    `100% %n %i`,
	"QUOTES": `it's`,
	"DQ":     `say "hi`,
	"BACK":   `back\\slash \t not a tab`,
	"UTF8":   `ü→✓`,
	"EMPTY":  ``,
	"SEMI":   `a;b#c`,
	"EQ":     `x=y=z`,
	"SPACES": `  lead and trail  `,
	"HOME":   `/over ridden`,
}

// supervisorEnviron is the environment Supervisor 4.2.5 gives p's process
// (supervisor/process.py, Subprocess._spawn_as_child): supervisord's own
// environment (with LC_CTYPE=C.UTF-8 when Python coerced its C locale) (with [supervisord] environment applied at start-up), then
// SUPERVISOR_ENABLED, SUPERVISOR_SERVER_URL when there is a server URL,
// SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME, then the program's
// environment (p.Env, which holds [supervisord]'s under the program's).
func supervisorEnviron(cfg *translate.Config, p *translate.Process, supervisord []string) map[string]string {
	env := map[string]string{}
	for _, kv := range supervisord {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// Python 3.11's locale coercion, in supervisord's own environment
	if l := translate.CoercedLocale(supervisord); l != "" {
		env["LC_CTYPE"] = l
	}
	for _, kv := range cfg.Supervisord.Environment {
		env[kv.Name] = kv.Value
	}
	env["SUPERVISOR_ENABLED"] = "1"
	url := p.ServerURL
	if url == nil {
		url = cfg.ServerURL
	}
	if url != nil && *url != "" {
		env["SUPERVISOR_SERVER_URL"] = *url
	}
	env["SUPERVISOR_PROCESS_NAME"] = p.Name
	env["SUPERVISOR_GROUP_NAME"] = p.Group
	for _, kv := range p.Env {
		env[kv.Name] = kv.Value
	}
	return env
}

func TestSystemdArgvAndEnvironment(t *testing.T) {
	t.Parallel()
	python := testreal.RequirePython(t)
	m := sdtest.Start(t, sdtest.Options{})
	var words []string
	var wantArgs []string
	for _, a := range nastyArgs {
		words = append(words, a.conf)
		wantArgs = append(wantArgs, a.arg)
	}
	args := strings.Join(words, " ")
	conf := `[supervisord]
environment=GLOBAL="from [supervisord]",OVERRIDDEN="by [supervisord]"

; found on PATH, as Supervisor looks for it: ExecStart= must name the file
; and still pass argv[0] as written
[program:bare]
command=python3 {DIR}/dumper.py {DIR}/bare ` + args + `
autorestart=false
environment=` + nastyEnv + `,OVERRIDDEN="by the program"

[program:absolute]
command=` + python + ` {DIR}/dumper.py {DIR}/absolute ` + args + `
autorestart=false
directory={DIR}

; a space and a percent sign in the path of the program itself
[program:odd_path]
command="{DIR}/my 100%% dumper" {DIR}/odd_path ` + args + `
autorestart=false
`
	d := deploy(t, m, conf, map[string]string{
		"dumper.py":      dumper,
		"my 100% dumper": "#!" + python + "\n" + dumper,
	})
	for _, name := range []string{"bare", "absolute", "odd_path"} {
		t.Run(name, func(t *testing.T) {
			m := m.For(t)
			p := d.process(t, name)
			skip := 3 // python3 dumper.py OUT
			if name == "odd_path" {
				skip = 2 // "my 100% dumper" OUT
			}
			if got := p.Argv[skip:]; !slices.Equal(got, wantArgs) {
				t.Fatalf("Supervisor's argv is not what the test means (fix nastyArgs) (-want +got):\n%s", diffSlices(wantArgs, got))
			}
			unit := unitName(t, p.Namespec(), unitgen.Service)
			m.Systemctl("start", unit)
			out := filepath.Join(d.dir, name)
			environ := waitFile(t, out+".environ")
			cmdline := waitFile(t, out+".cmdline")
			exe := waitFile(t, out+".exe")

			want := translate.ResolveExec(p, d.env, d.dir)
			if want.Err != "" {
				t.Fatalf("Supervisor could not spawn it: %s", want.Err)
			}
			gotArgv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
			wantArgv, wantFile := want.Argv, want.Filename
			if name == "odd_path" {
				// A #! script: the kernel runs the interpreter with the
				// script's path in place of argv[0].
				wantArgv = append([]string{python, want.Filename}, want.Argv[1:]...)
				wantFile = python
			}
			if diff := diffSlices(wantArgv, gotArgv); diff != "" {
				t.Errorf("argv differs from Supervisor's (-want +got):\n%s", diff)
			}
			wantExe, err := filepath.EvalSymlinks(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if string(exe) != wantExe {
				t.Errorf("executable = %s, want %s (Supervisor execs %s)", exe, wantExe, want.Filename)
			}

			got := map[string]string{}
			for _, kv := range strings.Split(strings.TrimSuffix(string(environ), "\x00"), "\x00") {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
			}
			if diff := diffMaps(supervisorEnviron(d.cfg, p, d.env), got); diff != "" {
				t.Errorf("environment differs from Supervisor's (-want +got):\n%s", diff)
			}
			if name == "bare" {
				for k, v := range nastyEnvWant {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
			}
		})
	}
}

// Control characters reach an environment value through %(ENV_X)s (or
// the newline of a continuation line); Supervisor passes them on, and
// systemd 252 takes C escapes in Environment= for all of them.
func TestSystemdEnvironmentControlCharacters(t *testing.T) {
	t.Parallel()
	python := testreal.RequirePython(t)
	m := sdtest.Start(t, sdtest.Options{})
	want := map[string]string{"TAB": "a\tb", "NEWLINE": "line 1\nline 2", "CR": "c\rd", "ESC": "\x1b[1mbold"}
	var extra, pairs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		extra = append(extra, "X_"+k+"="+want[k])
		pairs = append(pairs, fmt.Sprintf(`%s="%%(ENV_X_%s)s"`, k, k))
	}
	d := deployEnv(t, m, `[program:ctl]
command=`+python+` {DIR}/dumper.py {DIR}/ctl
autorestart=false
environment=`+strings.Join(pairs, ",")+"\n", map[string]string{"dumper.py": dumper}, extra)
	p := d.process(t, "ctl")
	for k, v := range want {
		if got, _ := p.Env.Get(k); got != v {
			t.Fatalf("Supervisor's %s = %q, want %q (fix the test)", k, got, v)
		}
	}
	m.Systemctl("start", unitName(t, p.Namespec(), unitgen.Service))
	got := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(waitFile(t, filepath.Join(d.dir, "ctl.environ"))), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// cause is how a program's process ends.
type cause struct {
	name   string
	code   int            // exit status, when sig is 0
	sig    syscall.Signal // signal sent from outside
	inCode bool           // the exit status is in exitcodes
}

// supervisorRestarts is Supervisor 4.2.5's decision for a process that
// was RUNNING (it ran startsecs) and ended (supervisor/process.py,
// Subprocess.finish and transition): autorestart=true restarts it,
// false never does, unexpected does when the exit was not expected, and
// an exit is expected only for an exit status in exitcodes (a death by
// signal never is).
func supervisorRestarts(ar translate.Restart, c cause) bool {
	switch ar {
	case translate.RestartAlways:
		return true
	case translate.RestartNever:
		return false
	}
	expected := c.sig == 0 && c.inCode
	return !expected
}

// actor runs until its trigger file appears, then exits with the status
// written in it.
const actor = `#!/bin/sh
echo "started $$"
while :; do
	if [ -e "$1" ]; then
		code=$(cat "$1")
		rm -f "$1"
		exit "$code"
	fi
	sleep 0.02
done
`

func TestSystemdRestartDecisions(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	autorestarts := []struct {
		conf string
		ar   translate.Restart
	}{{"true", translate.RestartAlways}, {"false", translate.RestartNever}, {"unexpected", translate.RestartUnexpected}}
	exitcodeSets := []struct {
		conf string
		set  []int
	}{{"0,3", []int{0, 3}}, {"3", []int{3}}}
	causes := func(set []int) []cause {
		return []cause{
			{name: "exit0", code: 0, inCode: slices.Contains(set, 0)},
			{name: "exit3", code: 3, inCode: slices.Contains(set, 3)},
			{name: "exit5", code: 5},
			{name: "sigterm", sig: syscall.SIGTERM},
			{name: "sigkill", sig: syscall.SIGKILL},
			{name: "sighup", sig: syscall.SIGHUP},
		}
	}
	type program struct {
		name string
		ar   translate.Restart
		c    cause
	}
	var programs []program
	var conf strings.Builder
	for _, ar := range autorestarts {
		for _, set := range exitcodeSets {
			for _, c := range causes(set.set) {
				name := fmt.Sprintf("ar_%s_codes_%s_%s", ar.conf, strings.ReplaceAll(set.conf, ",", ""), c.name)
				programs = append(programs, program{name, ar.ar, c})
				// startsecs=0: the process counts as RUNNING at once, so
				// its end is a RUNNING process's end, not a failed start.
				fmt.Fprintf(&conf, "[program:%s]\ncommand=/bin/sh {DIR}/actor.sh {DIR}/%s.go\nautorestart=%s\nexitcodes=%s\nstartsecs=0\n\n", name, name, ar.conf, set.conf)
			}
		}
	}
	d := deploy(t, m, conf.String(), map[string]string{"actor.sh": actor})
	var units []string
	for _, p := range programs {
		units = append(units, unitName(t, p.name, unitgen.Service))
	}
	m.Systemctl(append([]string{"start"}, units...)...)
	pids := map[string]int{}
	for i, p := range programs {
		pids[p.name] = mainPID(t, m, units[i])
	}
	for _, p := range programs {
		if p.c.sig != 0 {
			if err := syscall.Kill(pids[p.name], p.c.sig); err != nil {
				t.Fatal(err)
			}
			continue
		}
		trigger := filepath.Join(d.dir, p.name+".go")
		if err := os.WriteFile(trigger+".tmp", []byte(strconv.Itoa(p.c.code)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(trigger+".tmp", trigger); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			m := m.For(t)
			unit := unitName(t, p.name, unitgen.Service)
			old := strconv.Itoa(pids[p.name])
			// Either systemd restarts it (active with a new process), or
			// it settles inactive or failed: auto-restart is "activating".
			props := m.WaitUntil(unit, settle, func(props map[string]string) bool {
				switch props["ActiveState"] {
				case "active":
					return props["MainPID"] != old && props["MainPID"] != "0"
				case "inactive", "failed":
					return true
				}
				return false
			}, "ActiveState", "SubState", "MainPID", "NRestarts", "Result")
			restarted := props["ActiveState"] == "active"
			if want := supervisorRestarts(p.ar, p.c); restarted != want {
				t.Errorf("systemd restarted it: %v, Supervisor would: %v (%v)", restarted, want, props)
			}
			if restarted && props["NRestarts"] != "1" {
				t.Errorf("NRestarts = %s after one restart", props["NRestarts"])
			}
		})
	}
}

func TestSystemdRestartsForeverButNotACrashLoop(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	d := deploy(t, m, `[program:phoenix]
command=/bin/sleep 3600
startsecs=0
startretries=3

[program:crasher]
command=/bin/sh -c 'echo start >>{DIR}/crasher.starts; exit 1'
startsecs=1
startretries=3
`, nil)

	t.Run("killed 50 times after it was up", func(t *testing.T) {
		m := m.For(t)
		unit := unitName(t, "phoenix", unitgen.Service)
		m.Systemctl("start", unit)
		pid := mainPID(t, m, unit)
		// Supervisor restarts a RUNNING process that dies, every time:
		// startretries counts failed starts only. With startsecs=0 the
		// process is RUNNING as soon as it runs.
		for i := 1; i <= 50; i++ {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			old := strconv.Itoa(pid)
			props := m.WaitUntil(unit, settle, func(props map[string]string) bool {
				return props["ActiveState"] == "failed" || props["ActiveState"] == "active" && props["MainPID"] != old && props["MainPID"] != "0"
			}, "ActiveState", "MainPID", "NRestarts", "Result")
			if props["ActiveState"] != "active" {
				t.Fatalf("after kill %d the unit gave up: %v", i, props)
			}
			pid, _ = strconv.Atoi(props["MainPID"])
		}
		if got := m.Show(unit, "NRestarts")["NRestarts"]; got != "50" {
			t.Errorf("NRestarts = %s after 50 kills", got)
		}
	})

	t.Run("crash loop ends failed after startretries+1 starts", func(t *testing.T) {
		m := m.For(t)
		unit := unitName(t, "crasher", unitgen.Service)
		p := d.process(t, "crasher")
		// The start job itself may fail or succeed, depending on whether
		// the process was already gone when it finished (Type=exec);
		// supervisorctl start reports such a start as failed too.
		if _, err := m.TrySystemctl("start", unit); err != nil {
			t.Logf("start: %v", err)
		}
		// Supervisor: a process that dies within startsecs is a failed
		// start (BACKOFF), retried startretries times, then FATAL.
		props := m.WaitUntil(unit, settle, func(props map[string]string) bool {
			return props["ActiveState"] == "failed"
		}, "ActiveState", "NRestarts", "Result")
		starts := strings.Count(string(waitFile(t, filepath.Join(d.dir, "crasher.starts"))), "start\n")
		if want := p.StartRetries + 1; starts != want {
			t.Errorf("the crash loop ran %d times, Supervisor runs it %d times (startretries=%d) before FATAL; %v", starts, want, p.StartRetries, props)
		}
	})
}

func TestSystemdGroupTarget(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	deploy(t, m, `[group:grp]
programs=one,two

[program:one]
command=/bin/sleep 3600

[program:two]
command=/bin/sleep 3600
`, nil)
	target := unitName(t, "grp", unitgen.Target)
	members := []string{unitName(t, "grp:one", unitgen.Service), unitName(t, "grp:two", unitgen.Service)}

	m.Systemctl("start", target)
	before := map[string]int{}
	for _, u := range members {
		before[u] = mainPID(t, m, u)
	}
	m.Systemctl("restart", target)
	for _, u := range members {
		old := strconv.Itoa(before[u])
		m.WaitUntil(u, settle, func(p map[string]string) bool {
			return p["ActiveState"] == "active" && p["MainPID"] != old && p["MainPID"] != "0"
		}, "ActiveState", "MainPID")
	}
	m.Systemctl("stop", target)
	for _, u := range members {
		m.WaitFor(u, "ActiveState", "inactive", settle)
	}
}

// fcgi checks that fd 0 is a listening socket, says so on stdout (which
// must go to the journal, not into the socket) and answers every
// connection with what it found.
const fcgi = `import os, socket
s = socket.socket(fileno=0)
found = "acceptconn=%d family=%s sockname=%s pid=%d" % (
    s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN), s.family.name, s.getsockname(), os.getpid())
print("fcgi up: " + found, flush=True)
while True:
    c, _ = s.accept()
    c.sendall((found + "\n").encode())
    c.close()
`

func TestSystemdFCGISocket(t *testing.T) {
	t.Parallel()
	python := testreal.RequirePython(t)
	m := sdtest.Start(t, sdtest.Options{})
	d := deploy(t, m, `[fcgi-program:fc]
command=`+python+` {DIR}/fcgi.py
socket=unix://{DIR}/fc.sock
socket_mode=0600
`, map[string]string{"fcgi.py": fcgi})
	sock := unitName(t, "fc", unitgen.Socket)
	svc := unitName(t, d.process(t, "fc").Namespec(), unitgen.Service)
	path := filepath.Join(d.dir, "fc.sock")

	m.Systemctl("start", sock)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket with 0600", path, fi.Mode())
	}
	// The first connection starts the service (socket activation); it
	// waits in the listen queue until the process accepts it.
	conn, err := net.DialTimeout("unix", path, settle)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(settle))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	pid := mainPID(t, m, svc)
	want := fmt.Sprintf("acceptconn=1 family=AF_UNIX sockname=%s pid=%d\n", path, pid)
	if line != want {
		t.Errorf("the process found %q on fd 0, want %q", line, want)
	}
	if got := m.Journal("--user-unit", svc, "-o", "cat"); !strings.Contains(got, "fcgi up: "+strings.TrimSuffix(want, "\n")) {
		t.Errorf("stdout did not reach the journal:\n%s", got)
	}
}

// diffSlices shows where got differs from want, one line per position:
// "-" want, "+" got.
func diffSlices(want, got []string) string {
	var b strings.Builder
	for i := range max(len(want), len(got)) {
		w, g := "(none)", "(none)"
		if i < len(want) {
			w = strconv.Quote(want[i])
		}
		if i < len(got) {
			g = strconv.Quote(got[i])
		}
		if w != g {
			fmt.Fprintf(&b, "[%d] -%s\n[%d] +%s\n", i, w, i, g)
		}
	}
	return b.String()
}

// diffMaps shows the names whose values differ: "-" want, "+" got.
func diffMaps(want, got map[string]string) string {
	var b strings.Builder
	keys := slices.Sorted(maps.Keys(want))
	for k := range maps.Keys(got) {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		if wok == gok && w == g {
			continue
		}
		if wok {
			fmt.Fprintf(&b, "-%s=%q\n", k, w)
		}
		if gok {
			fmt.Fprintf(&b, "+%s=%q\n", k, g)
		}
	}
	return b.String()
}
