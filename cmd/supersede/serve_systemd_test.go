package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// These tests put `supersede serve` between the real supervisorctl 4.2.5
// and a real systemd user manager (internal/sdtest), reached through the
// socket unit that convert writes (socket activation), and compare what
// the real supervisorctl prints with what it prints for the real
// supervisord on the same configuration (the sessions of
// ctl_systemd_test.go), after normalising pids, uptimes and dates.

// serveWorld converts conf into a fresh user manager's unit directory,
// starts supersede.target and the serve socket (nothing else: the first
// connection starts supersede serve), and drives it with the real
// supervisorctl, from outside the manager's namespace, as any client.
func serveWorld(t *testing.T, conf string, convertArgs ...string) (*world, *sdtest.Manager) {
	t.Helper()
	testreal.RequireSupervisor(t)
	sm := sdtest.Start(t, sdtest.Options{})
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"convert", "--user", "-c", conf, "-o", sm.UnitDir}, convertArgs...)
	if out, err := exec.Command(exe, args...).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sm.DaemonReload()
	sm.Systemctl("start", "supersede.target", "supersede-serve.socket")
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// an event listener's unit connects to serve as it starts
	if st := sm.Show("supersede-serve.service", "ActiveState")["ActiveState"]; st != "inactive" && !strings.Contains(string(text), "[eventlistener:") {
		t.Errorf("supersede-serve.service is %s before the first connection; socket activation should start it", st)
	}
	w := &world{name: "serve", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
		c.Dir = filepath.Dir(conf)
		return runCmd(c, args)
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve's journal:\n%s", sm.Journal("--user-unit", "supersede-serve.service", "--no-pager"))
		}
	})
	return w, sm
}

// TestServeDifferentialOnSystemd runs ctl_systemd_test.go's differential
// session (status, start, stop, signal, pid, tail, avail, reread, update,
// add, remove on a changed configuration) with the real supervisorctl
// through serve. (The tutorial session is left to the ctl tests: through
// serve it exercises nothing this one does not, and the suite's time is
// counted.)
func TestServeDifferentialOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := writeConf(t, dir, diffPrograms)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return diffSession(t, w, conf)
	}, func(t *testing.T) string {
		conf := writeConf(t, shortTempDir(t), diffPrograms)
		w, sm := serveWorld(t, conf)
		out := diffSession(t, w, conf)
		if st := sm.Show("supersede-serve.service", "ActiveState")["ActiveState"]; st != "active" {
			t.Errorf("supersede-serve.service is %s after the session", st)
		}
		return strings.TrimSpace(out) + "\n"
	})
}

// xmlrpcPrograms are the programs of TestServeXMLRPCOnSystemd: every
// state, a group, and log files of known content.
const xmlrpcPrograms = `[program:talker]
command=/bin/sh -c "echo hello from stdout; echo hello from stderr >&2; exec sleep 1000"
startsecs=0
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[program:quiet]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:crash]
command=/bin/sh -c "exit 1"
startsecs=1
startretries=1
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[program:sleeper]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[program:once]
command=/bin/sh -c "exit 0"
startsecs=0
autorestart=false
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[program:manual]
command=/bin/sleep 1001
autostart=false
startsecs=0
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[group:web]
programs=w1,w2

[program:w1]
command=/bin/sleep 1002
startsecs=0
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err

[program:w2]
command=/bin/sleep 1003
startsecs=0
stdout_logfile=%(here)s/%(program_name)s.out
stderr_logfile=%(here)s/%(program_name)s.err
`

// xmlrpcUser and xmlrpcPassword guard the inet server; the password is
// given as its {SHA} form in the configuration.
const (
	xmlrpcUser     = "admin"
	xmlrpcPassword = "s3cret"
)

// xmlrpcConf writes the configuration of TestServeXMLRPCOnSystemd into a
// new directory: the unix socket of writeConf and an inet server on a
// free loopback port, with a user and a {SHA} password.
func xmlrpcConf(t *testing.T) (conf string, port int) {
	port = freePort(t)
	sum := sha1.Sum([]byte(xmlrpcPassword))
	inet := fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\nusername=%s\npassword={SHA}%x\n\n", port, xmlrpcUser, sum)
	return writeConf(t, shortTempDir(t), inet+xmlrpcPrograms), port
}

// xmlrpcSession runs testdata/serve/session.py against the inet server
// on port and returns its transcript, normalised.
func xmlrpcSession(t *testing.T, conf string, port int) []xmlrpcEntry {
	t.Helper()
	py := testreal.RequirePython(t)
	script, err := filepath.Abs("testdata/serve/session.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	url := fmt.Sprintf("http://%s:%s@127.0.0.1:%d/RPC2", xmlrpcUser, xmlrpcPassword, port)
	cmd := exec.CommandContext(ctx, py, script, url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("session.py: %v\n%s", err, stderr.String())
	}
	var raw [][3]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("session.py's output: %v\n%.2000s", err, out)
	}
	dir := filepath.Dir(conf)
	var entries []xmlrpcEntry
	for _, r := range raw {
		e := xmlrpcEntry{Method: r[0].(string), Args: r[1]}
		e.Answer = normaliseAnswer(e.Method, r[2], dir, port)
		entries = append(entries, e)
	}
	return entries
}

// xmlrpcEntry is one call of the session and its answer.
type xmlrpcEntry struct {
	Method string
	Args   any
	Answer any
}

func (e xmlrpcEntry) String() string {
	args, _ := json.Marshal(e.Args)
	ans, _ := json.MarshalIndent(e.Answer, "", " ")
	return fmt.Sprintf("%s%s = %s", e.Method, args, ans)
}

// normaliseAnswer replaces what differs between two runs: pids, times,
// uptimes, the directory and port of the world, and orders the results
// of group operations (supervisord lists them as they complete).
func normaliseAnswer(method string, v any, dir string, port int) any {
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				out[k] = walk(k, e)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = walk(key, e)
			}
			if method != "system.multicall" {
				sort.SliceStable(out, func(i, j int) bool { return sortKey(out[i]) < sortKey(out[j]) })
			}
			return out
		case float64:
			switch key {
			case "pid", "start", "stop", "now":
				if v != 0 {
					return key
				}
			}
			return v
		case string:
			v = strings.ReplaceAll(v, dir, "DIR")
			v = strings.ReplaceAll(v, strconv.Itoa(port), "PORT")
			return normalise(v)
		}
		return v
	}
	v = walk("", v)
	if method == "supervisor.getPID" {
		if m, ok := v.(map[string]any); ok && m["ok"] != nil {
			m["ok"] = "PID"
		}
	}
	return v
}

// sortKey orders the result structs of group operations by process.
func sortKey(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	g, _ := m["group"].(string)
	n, _ := m["name"].(string)
	return g + ":" + n
}

// serveDifferences are the answers of serve that differ from
// supervisord's on purpose; each is listed in the README ("supersede
// serve"), with its reason. accept reports whether want (supervisord)
// and got (serve) differ only that way.
var serveDifferences = map[string]func(args []any, want, got map[string]any) bool{
	// The daemon's own log is the manager's messages in the journal,
	// not supervisord's log file: the text differs, the shape does not.
	"supervisor.readLog":     sameShapeOfLog,
	"supervisor.readMainLog": sameShapeOfLog,
	// The journal cannot be cleared per unit: NO_FILE, as for a
	// supervisord without a log file.
	"supervisor.clearLog": func(_ []any, want, got map[string]any) bool {
		return want["ok"] == true && got["fault"] == float64(20)
	},
	"supervisor.startAllProcesses": spawnRace,
	"supervisor.startProcessGroup": spawnRace,
	// A unit's standard input is /dev/null: NO_FILE, as supervisord
	// answers for a process whose stdin is closed.
	"supervisor.sendProcessStdin": func(_ []any, want, got map[string]any) bool {
		return want["ok"] == true && got["fault"] == float64(20)
	},
}

// wrongTypes is an argument of the wrong type that the method itself
// trips over: supervisord answers HTTP 500 (a Python exception inside
// the method), supersede run and serve the INCORRECT_PARAMETERS fault
// that a wrong number of arguments gets (README, "How close to
// Supervisor").
func wrongTypes(want, got map[string]any) bool {
	if want["http"] != float64(500) {
		return false
	}
	if got["fault"] == float64(2) {
		return true
	}
	// system.multicall: a fault for each call instead
	list, ok := got["ok"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		ok = ok && m["faultCode"] == float64(2)
	}
	return ok
}

// spawnRace is startProcess without waiting, for a program that dies at
// once: supervisord answers SPAWN_ERROR when the child died before its
// reap() right after the fork, else OK; serve answers SPAWN_ERROR when
// the unit has failed by the time its start job is done, else OK. Either
// answer may come from either, and the process goes BACKOFF and FATAL
// all the same (README, "supersede serve": timing).
func spawnRace(_ []any, want, got map[string]any) bool {
	w, _ := want["ok"].([]any)
	g, _ := got["ok"].([]any)
	if len(w) != len(g) {
		return false
	}
	for i := range w {
		wm, _ := w[i].(map[string]any)
		gm, _ := g[i].(map[string]any)
		if reflect.DeepEqual(wm, gm) {
			continue
		}
		race := wm != nil && gm != nil && wm["name"] == gm["name"] &&
			(wm["status"] == float64(50) && gm["status"] == float64(80) || wm["status"] == float64(80) && gm["status"] == float64(50))
		if !race {
			return false
		}
	}
	return true
}

func sameShapeOfLog(_ []any, want, got map[string]any) bool {
	_, w := want["ok"].(string)
	_, g := got["ok"].(string)
	return w && g
}

// TestServeXMLRPCOnSystemd calls every method of the API with Python's
// xmlrpc.client, over the inet server with a {SHA} password, on the real
// supervisord and on supersede serve (socket-activated) over a real
// systemd user manager, for the same configuration, and wants the same
// answers, faults included, after normalising pids and times; an answer
// that differs must be one of serveDifferences.
func TestServeXMLRPCOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	var want, got []xmlrpcEntry
	t.Run("worlds", func(t *testing.T) {
		t.Run("supervisord", func(t *testing.T) {
			t.Parallel()
			conf, port := xmlrpcConf(t)
			w := supervisordWorld(t, filepath.Dir(conf), conf)
			defer w.ctl("shutdown")
			want = xmlrpcSession(t, conf, port)
		})
		t.Run("serve", func(t *testing.T) {
			t.Parallel()
			conf, port := xmlrpcConf(t)
			serveWorld(t, conf, "--log-files")
			got = xmlrpcSession(t, conf, port)
		})
	})
	if t.Failed() {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("serve's session made %d calls, supervisord's %d", len(got), len(want))
	}
	differences := 0
	for i := range want {
		w, g := want[i], got[i]
		if w.Method != g.Method || !reflect.DeepEqual(w.Args, g.Args) {
			t.Fatalf("call %d: %s, supervisord's %s: the sessions went apart", i, g, w)
		}
		if reflect.DeepEqual(w.Answer, g.Answer) {
			continue
		}
		wm, _ := w.Answer.(map[string]any)
		gm, _ := g.Answer.(map[string]any)
		if accept, ok := serveDifferences[w.Method]; ok && accept(w.Args.([]any), wm, gm) {
			differences++
			continue
		}
		if wrongTypes(wm, gm) {
			differences++
			continue
		}
		t.Errorf("call %d differs: %s\n%s", i, w.Method, lineDiff(w.String(), g.String()))
	}
	t.Logf("%d calls, %d answers differ as the README lists", len(want), differences)
}

// lineDiff shows the lines of a (supervisord) and b (serve) that the
// other lacks, in order, as "-" and "+" lines.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	count := func(lines []string) map[string]int {
		m := map[string]int{}
		for _, l := range lines {
			m[l]++
		}
		return m
	}
	ac, bc := count(al), count(bl)
	var out strings.Builder
	for _, l := range al {
		if bc[l] > 0 {
			bc[l]--
			continue
		}
		out.WriteString("- " + l + "\n")
	}
	for _, l := range bl {
		if ac[l] > 0 {
			ac[l]--
			continue
		}
		out.WriteString("+ " + l + "\n")
	}
	return out.String()
}

// followCtl runs the real supervisorctl with a following command (tail
// -f, maintail -f) until its output satisfies until, then interrupts it
// as Ctrl-C does, and returns what it printed.
func followCtl(t *testing.T, conf string, until func(string) bool, args ...string) ctlResult {
	t.Helper()
	cmd := exec.Command("/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
	cmd.Dir = filepath.Dir(conf)
	var stdout, stderr fallbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// its own process group: the Ctrl-C below is for it alone
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	var before string // what it printed when until held, before the Ctrl-C
	for before = stdout.String(); !until(before) && time.Now().Before(deadline); before = stdout.String() {
		select {
		case err := <-done:
			done <- err
			deadline = time.Now()
		case <-time.After(20 * time.Millisecond):
		}
	}
	interrupted := false
	select {
	case err := <-done:
		done <- err
	default:
		cmd.Process.Signal(syscall.SIGINT)
		interrupted = true
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		err = <-done
	}
	r := ctlResult{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	}
	if interrupted {
		// What supervisorctl says about the Ctrl-C depends on where it
		// lands (in its read of the stream: "Cannot connect, error:
		// KeyboardInterrupt"; in its output: a traceback), on either
		// server: only what it printed before counts.
		// What it prints after the Ctrl-C (a newline, on a loaded
		// machine, as the interrupt lands in its output) does not count
		// either.
		r.stdout, r.stderr, r.code = before, "", 0
	}
	return r
}

// asNobody runs the real supervisorctl as the user nobody.
func asNobody(conf string, args ...string) ctlResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return runCmd(c, append([]string{"(as nobody)"}, args...))
}

const commandsPrograms = `[program:talker]
command=/bin/sh -c "echo hello from talker; exec sleep 1000"
startsecs=0

[program:other]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
`

// commandsSession runs the supervisorctl commands the other sessions
// leave out (help, tail -f, maintail, fg, open, quit, clear, reload,
// shutdown), and the access rules of the socket: chmod=0700 keeps the
// user nobody out, as under supervisord.
func commandsSession(t *testing.T, w *world, conf string) string {
	var b strings.Builder
	add := func(r ctlResult) {
		if testing.Verbose() {
			t.Logf("%s: %s", w.name, r)
		}
		b.WriteString(strings.ReplaceAll(r.String(), filepath.Dir(conf), "DIR"))
	}
	do := func(args ...string) ctlResult {
		r := w.ctl(args...)
		add(r)
		return r
	}
	// A group operation (all, GROUP:*): supervisorctl prints each
	// process's line as its result comes, in completion order, which
	// neither server specifies; its lines are compared sorted.
	doGroup := func(args ...string) {
		r := w.ctl(args...)
		lines := strings.SplitAfter(r.stdout, "\n")
		sort.Strings(lines)
		r.stdout = strings.Join(lines, "")
		add(r)
	}
	w.waitState(t, "talker", "RUNNING", 0)
	do("help")
	do("help", "tail")
	do("help", "nosuch")
	add(followCtl(t, conf, func(s string) bool { return strings.Contains(s, "hello from talker\n") }, "tail", "-f", "talker"))
	add(followCtl(t, conf, func(string) bool { return false }, "tail", "-f", "nosuch")) // ends by itself
	r := w.ctl("maintail")
	add(ctlResult{args: r.args, code: r.code}) // the text is the daemon's own log: it differs (README)
	do("fg")
	do("fg", "nosuch")
	mt := followCtl(t, conf, func(s string) bool { return strings.Contains(s, "Ctrl-C") }, "maintail", "-f")
	add(ctlResult{args: mt.args, stdout: strings.SplitAfter(mt.stdout, "\n")[0]}) // the header; the rest is the daemon's log
	do("clear", "other")                                                          // no log files: nothing to clear (talker's journal cannot be: README)
	do("clear", "nosuch")
	do("pid")
	doGroup("signal", "CONT", "all")
	doGroup("update", "all")
	doGroup("restart", "all")
	w.waitState(t, "talker", "RUNNING", 0)
	do("open", "unix:///nonexistent/socket")
	do("quit")
	do("exit")
	add(asNobody(conf, "status"))
	add(asNobody(conf, "stop", "talker"))
	do("status")
	do("reload")
	w.waitState(t, "talker", "RUNNING", 0)
	w.waitState(t, "other", "RUNNING", 0)
	do("status")
	do("shutdown")
	return b.String()
}

func TestServeCommandsOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir := nobodysTempDir(t)
		conf := writeConf(t, dir, commandsPrograms)
		w := supervisordWorld(t, dir, conf)
		return commandsSession(t, w, conf)
	}, func(t *testing.T) string {
		conf := writeConf(t, nobodysTempDir(t), commandsPrograms)
		w, _ := serveWorld(t, conf)
		return commandsSession(t, w, conf)
	})
}

// nobodysTempDir is shortTempDir that the user nobody may enter (and
// read the configuration in): only the socket's mode keeps it out.
func nobodysTempDir(t *testing.T) string {
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestServeFollowsDaemonReload changes the configuration under a running
// serve: after convert and daemon-reload, the same serve process (no
// restart) serves the new program. The socket's mode is 0777 here, so
// the user nobody may control the programs, as under supervisord.
func TestServeFollowsDaemonReload(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	dir := nobodysTempDir(t)
	conf := writeConf(t, dir, "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	open := func(text string) string { // the socket open to everyone
		return strings.Replace(text, "[unix_http_server]\n", "[unix_http_server]\nchmod=0777\n", 1)
	}
	rewrite := func(sections string) {
		writeConf(t, dir, sections)
		data, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(conf, []byte(open(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rewrite("[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	w, sm := serveWorld(t, conf)
	w.waitState(t, "a", "RUNNING", 0)
	if r := asNobody(conf, "stop", "a"); r.code != 0 || r.stdout != "a: stopped\n" {
		t.Errorf("stop a as nobody through a 0777 socket:\n%s", r)
	}
	pid := sm.Show("supersede-serve.service", "MainPID")["MainPID"]

	rewrite("[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:b]\ncommand=/bin/sleep 1001\nstartsecs=0\n")
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(exe, "convert", "--user", "-c", conf, "-o", sm.UnitDir).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sm.DaemonReload()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := w.ctl("status", "b")
		if st, _ := stateOf(r.stdout, "b"); st == "STOPPED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve does not know b 30 s after daemon-reload:\n%s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := w.ctl("start", "b"); r.stdout != "b: started\n" {
		t.Errorf("start b:\n%s", r)
	}
	if now := sm.Show("supersede-serve.service", "MainPID")["MainPID"]; now != pid {
		t.Errorf("serve was restarted (pid %s, then %s): it should follow the reload in place", pid, now)
	}
}
