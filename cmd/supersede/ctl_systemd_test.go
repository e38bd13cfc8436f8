package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// These tests run supersede as supervisorctl against units on a real
// systemd user manager (internal/sdtest), and the same commands with the
// real supervisorctl against the real supervisord 4.2.5 on the same
// configuration, and compare the two transcripts after normalising pids,
// uptimes and dates.

// ctlResult is one run of a supervisorctl.
type ctlResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r ctlResult) String() string {
	s := "$ supervisorctl " + strings.Join(r.args, " ") + "\n" + r.stdout
	if r.stderr != "" {
		s += "[stderr]\n" + r.stderr
	}
	if r.code != 0 {
		s += fmt.Sprintf("[exit %d]\n", r.code)
	}
	return s
}

var (
	pidUptimeRE = regexp.MustCompile(`pid \d+, uptime \d+:\d\d:\d\d`)
	dateRE      = regexp.MustCompile(`[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M`)
	barePIDRE   = regexp.MustCompile(`(?m)^\d+$`)
)

// orderFree sorts the lines of a group or "all" operation: supervisord
// reports each process as its operation completes, so their order
// varies from run to run.
func orderFree(args []string, stdout string) string {
	group := false
	for _, a := range args[1:] {
		group = group || a == "all" || strings.HasSuffix(a, ":*")
	}
	switch args[0] {
	case "start", "stop", "restart", "signal":
	default:
		return stdout
	}
	if !group {
		return stdout
	}
	lines := strings.SplitAfter(stdout, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// normalise replaces what differs between two runs of the same session.
func normalise(s string) string {
	s = pidUptimeRE.ReplaceAllString(s, "pid PID, uptime UPTIME")
	s = dateRE.ReplaceAllString(s, "DATE")
	return barePIDRE.ReplaceAllString(s, "PID")
}

// world is one supervisor: real supervisord, or units on systemd.
type world struct {
	name string
	ctl  func(args ...string) ctlResult
}

func runCmd(cmd *exec.Cmd, args []string) ctlResult {
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := ctlResult{args: args, stdout: o.String(), stderr: e.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		r.code = -1
		r.stderr += err.Error() + "\n"
	}
	return r
}

// stateOf is the state column of name's line in a status output.
func stateOf(status, name string) (state string, pid int) {
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == name {
			if len(f) >= 4 && f[2] == "pid" {
				pid, _ = strconv.Atoi(strings.TrimSuffix(f[3], ","))
			}
			return f[1], pid
		}
	}
	return "", 0
}

// waitState polls status until name is in state (and, if notPID is not
// 0, has another pid); it returns the pid.
func (w *world) waitState(t *testing.T, name, state string, notPID int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := w.ctl("status", name)
		st, pid := stateOf(r.stdout, name)
		if st == state && (notPID == 0 || pid != notPID) {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not %s after 30s:\n%s", w.name, name, state, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tutorialCopy copies the shipped tutorial example into a new directory,
// with its fixed /tmp paths and port moved into that directory and a
// free port, so that tests do not collide.
func tutorialCopy(t *testing.T) (dir, conf string) {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "examples", "tutorial")
	dir, err := os.MkdirTemp("", "ctltut")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if out, err := exec.Command("cp", "-R", src+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"/tmp/supervisor.sock", dir+"/s.sock",
		"/tmp/supervisord.log", dir+"/supervisord.log",
		"/tmp/supervisord.pid", dir+"/supervisord.pid",
		"/tmp/gunicorn.pid", dir+"/gunicorn.pid",
		"127.0.0.1:8000", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"[supervisord]\n", "[supervisord]\nchildlogdir="+dir+"\n",
	).Replace(string(data))
	conf = filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, conf
}

// supervisordWorld runs the real supervisord on conf.
func supervisordWorld(t *testing.T, dir, conf string) *world {
	t.Helper()
	testreal.RequireSupervisor(t)
	cmd := exec.Command("/usr/bin/supervisord", "-n", "-c", conf)
	cmd.Dir = dir
	var out fallbacktest.SyncBuffer // read below while supervisord writes
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &world{name: "supervisord", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
		c.Dir = dir
		return runCmd(c, args)
	}}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second) // a generous bound: the machine may be busy
	for {
		if r := w.ctl("version"); r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisord did not answer:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return w
}

// supersedeBinary is the test binary as the program `supervisorctl`:
// TestMain makes it run main under that name.
func supervisorctlBinary(t *testing.T) string {
	t.Helper()
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as supersede: %v", err)
	}
	link := filepath.Join(filepath.Dir(exe), "supervisorctl")
	if _, err := os.Lstat(link); err != nil {
		if err := os.Symlink(exe, link); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return link
}

// systemdWorld converts conf into a fresh user manager's unit directory,
// starts supersede.target and drives it with supersede as supervisorctl
// (--user), inside the manager's namespace.
func systemdWorld(t *testing.T, conf string) (*world, *sdtest.Manager) {
	t.Helper()
	sm := sdtest.Start(t, sdtest.Options{})
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(exe, "convert", "--user", "-c", conf, "-o", sm.UnitDir).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sm.DaemonReload()
	sm.Systemctl("start", "supersede.target")
	ctlPath := supervisorctlBinary(t)
	w := &world{name: "systemd", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return runCmd(sm.Command(ctx, ctlPath, append([]string{"--user", "-c", conf}, args...)...), args)
	}}
	return w, sm
}

// tutorialSession is the tutorial's supervisorctl session and more,
// on one world; it returns the transcript.
func tutorialSession(t *testing.T, w *world) string {
	var b strings.Builder
	do := func(args ...string) ctlResult {
		r := w.ctl(args...)
		r.stdout = orderFree(args, r.stdout)
		if testing.Verbose() {
			t.Logf("%s: %s", w.name, r)
		}
		b.WriteString(r.String())
		return r
	}
	pid := w.waitState(t, "gunicorn", "RUNNING", 0)
	do("status")
	do("restart", "gunicorn")
	pid2 := w.waitState(t, "gunicorn", "RUNNING", 0)
	if pid2 == pid {
		t.Errorf("%s: restart gunicorn kept pid %d", w.name, pid)
	}
	do("status", "gunicorn")
	// the tutorial's surprise: kill -9, and it is back
	if err := syscall.Kill(pid2, syscall.SIGKILL); err != nil {
		t.Fatalf("%s: kill -9 %d: %v", w.name, pid2, err)
	}
	w.waitState(t, "gunicorn", "RUNNING", pid2)
	do("status")
	do("pid", "gunicorn")
	do("stop", "gunicorn")
	do("status")
	do("stop", "gunicorn")
	do("start", "gunicorn")
	do("start", "gunicorn")
	do("status", "nosuch")
	do("status", "gunicorn", "nosuch")
	do("start", "nosuch")
	do("stop", "nosuch")
	do("restart", "nosuch")
	do("pid", "nosuch")
	do("signal", "BOGUS", "gunicorn")
	do("signal", "HUP", "nosuch")
	do("start")
	do("bogus")
	do("avail")
	do("version")
	do("stop", "all")
	do("status")
	do("start", "all")
	return b.String()
}

// sideBySide runs a session on the real supervisord and on systemd at
// the same time and compares the transcripts after normalising pids,
// uptimes and dates.
func sideBySide(t *testing.T, supervisord, systemd func(t *testing.T) string) {
	var want, got string
	t.Run("worlds", func(t *testing.T) {
		t.Run("supervisord", func(t *testing.T) {
			t.Parallel()
			want = supervisord(t)
		})
		t.Run("systemd", func(t *testing.T) {
			t.Parallel()
			got = systemd(t)
		})
	})
	if t.Failed() {
		return
	}
	if normalise(got) != normalise(want) {
		t.Errorf("supersede ctl on systemd differs from supervisorctl on supervisord\n--- supervisord\n%s\n--- systemd\n%s", want, got)
	}
}

func TestCtlTutorialOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir, conf := tutorialCopy(t)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return tutorialSession(t, w)
	}, func(t *testing.T) string {
		_, conf := tutorialCopy(t)
		w, _ := systemdWorld(t, conf)
		return tutorialSession(t, w)
	})
}

// writeConf writes a supervisord.conf into dir with a unix socket, logs
// and pid file there, the sections supervisorctl needs, and sections.
func writeConf(t testing.TB, dir, sections string) string {
	t.Helper()
	conf := filepath.Join(dir, "supervisord.conf")
	text := fmt.Sprintf(`[unix_http_server]
file=%[1]s/s.sock

[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/s.sock

%[2]s`, dir, sections)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

const diffPrograms = `[program:crash]
command=/bin/sh -c "exit 1"
startsecs=1
startretries=1

[program:sleeper]
command=/bin/sleep 1000
startsecs=0

[program:once]
command=/bin/sh -c "exit 0"
startsecs=0
autorestart=false

[program:manual]
command=/bin/sleep 1001
autostart=false
startsecs=0

[group:web]
programs=w1,w2

[program:w1]
command=/bin/sleep 1002
startsecs=0

[program:w2]
command=/bin/sleep 1003
startsecs=0
`

// diffSession runs the commands of TestCtlDifferentialOnSystemd.
func diffSession(t *testing.T, w *world, conf string) string {
	var b strings.Builder
	do := func(args ...string) ctlResult {
		r := w.ctl(args...)
		r.stdout = orderFree(args, r.stdout)
		if testing.Verbose() {
			t.Logf("%s: %s", w.name, r)
		}
		b.WriteString(r.String())
		return r
	}
	w.waitState(t, "crash", "FATAL", 0)
	w.waitState(t, "once", "EXITED", 0)
	w.waitState(t, "web:w2", "RUNNING", 0)
	pid := w.waitState(t, "sleeper", "RUNNING", 0)
	do("status")
	do("status", "web:*")
	do("status", "web")
	do("status", "sleeper", "manual")
	do("start", "crash")
	w.waitState(t, "crash", "FATAL", 0)
	do("status", "crash")
	do("start", "manual")
	do("stop", "web:*")
	do("status", "web:*")
	do("start", "web:*")
	do("stop", "web:w1", "manual")
	do("pid", "all")
	do("signal", "TERM", "sleeper")
	w.waitState(t, "sleeper", "RUNNING", pid)
	do("signal", "USR1", "manual")
	do("tail", "sleeper")
	do("tail", "sleeper", "stderr")
	do("tail", "nosuch")
	do("avail")
	do("reread")

	// change the config: once goes, sleeper changes, newprog comes
	text := strings.Replace(diffPrograms, "[program:once]\ncommand=/bin/sh -c \"exit 0\"\nstartsecs=0\nautorestart=false\n", "", 1)
	text = strings.Replace(text, "/bin/sleep 1000", "/bin/sleep 2000", 1)
	text += "\n[program:newprog]\ncommand=/bin/sleep 1004\nstartsecs=0\n"
	writeConf(t, filepath.Dir(conf), text)
	do("reread")
	do("avail")
	do("update")
	w.waitState(t, "newprog", "RUNNING", 0)
	w.waitState(t, "sleeper", "RUNNING", 0)
	do("status")
	do("reread")
	do("remove", "newprog")
	do("stop", "newprog")
	do("remove", "newprog")
	do("avail")
	do("add", "newprog")
	do("add", "newprog")
	w.waitState(t, "newprog", "RUNNING", 0)
	do("add", "nosuch")
	do("remove", "nosuch")
	do("status")
	return b.String()
}

func TestCtlDifferentialOnSystemd(t *testing.T) {
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
		w, _ := systemdWorld(t, conf)
		return diffSession(t, w, conf)
	})
}

// TestCtlJournalOnSystemd reads a program's output from the journal.
func TestCtlJournalOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	conf := writeConf(t, shortTempDir(t), `[program:talker]
command=/bin/sh -c "echo hello from stdout; echo hello from stderr >&2; exec sleep 1000"
startsecs=0

[program:quiet]
command=/bin/sleep 1000
startsecs=0
stdout_logfile=NONE
`)
	w, sm := systemdWorld(t, conf)
	w.waitState(t, "talker", "RUNNING", 0)
	sm.Journal("--sync")
	deadline := time.Now().Add(10 * time.Second)
	var r ctlResult
	for {
		r = w.ctl("tail", "talker")
		if strings.Contains(r.stdout, "hello from stderr") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "hello from stdout\n") || !strings.Contains(r.stdout, "hello from stderr\n") {
		t.Errorf("tail talker: want both lines from the journal:\n%s", r)
	}
	if r := w.ctl("tail", "-6", "talker"); r.stdout != "tderr\n\n" {
		t.Errorf("tail -6 talker: want the last 6 bytes and a newline:\n%s", r)
	}
	if r := w.ctl("tail", "quiet"); r.code != 1 || r.stdout != "quiet: ERROR (no log file)\n" {
		t.Errorf("tail quiet (stdout_logfile=NONE):\n%s", r)
	}
	if r := w.ctl("clear", "talker"); r.code != 1 || r.stdout != "talker: ERROR (failed)\n" {
		t.Errorf("clear talker: the journal cannot be cleared:\n%s", r)
	}
	// tail -f prints the header and what is there, then follows
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := sm.Command(ctx, supervisorctlBinary(t), "--user", "-c", conf, "tail", "-f", "talker")
	var out fallbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "hello from stderr") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("tail -f after %v: %q", time.Since(deadline.Add(-10*time.Second)), out.String())
	cmd.Process.Signal(os.Interrupt) // nsenter passes it on
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT)
		<-exited
		t.Fatalf("tail -f did not end on Ctrl-C:\n%s", out.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "==> Press Ctrl-C to exit <==\n") || !strings.Contains(got, "hello from stdout\n") {
		t.Errorf("tail -f talker:\n%s", got)
	}
}

// With the generator, the config stays the source of truth: reread and
// update compare it with the generated units, and daemon-reload (which
// reruns the generator) applies it.
func TestCtlGeneratorOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	conf := writeConf(t, shortTempDir(t), "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:b]\ncommand=/bin/sleep 1001\nstartsecs=0\n")
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	// Beside supersede, as make install puts it: the units it writes run
	// that supersede as their compatibility step, as ctl's do.
	gen := filepath.Join(filepath.Dir(exe), "supersede-generator")
	if _, err := os.Stat(gen); err != nil {
		t.Fatal(err)
	}
	sm := sdtest.Start(t, sdtest.Options{Generator: gen, Env: []string{"SUPERSEDE_CONFIG=" + conf}})
	sm.Systemctl("start", "supersede.target")
	ctlPath := supervisorctlBinary(t)
	w := &world{name: "systemd", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return runCmd(sm.Command(ctx, ctlPath, append([]string{"--user", "-c", conf}, args...)...), args)
	}}
	w.waitState(t, "a", "RUNNING", 0)
	w.waitState(t, "b", "RUNNING", 0)
	if r := w.ctl("reread"); r.stdout != "No config updates to processes\n" {
		t.Errorf("reread of the same config:\n%s", r)
	}
	writeConf(t, filepath.Dir(conf), "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:c]\ncommand=/bin/sleep 1002\nstartsecs=0\n")
	if r := w.ctl("reread"); r.stdout != "b: disappeared\nc: available\n" {
		t.Errorf("reread:\n%s", r)
	}
	if r := w.ctl("update"); r.code != 0 || r.stdout != "b: stopped\nb: removed process group\nc: added process group\n" {
		t.Errorf("update:\n%s", r)
	}
	w.waitState(t, "c", "RUNNING", 0)
	r := w.ctl("status")
	if st, _ := stateOf(r.stdout, "a"); st != "RUNNING" || strings.Contains(r.stdout, "\nb ") || strings.HasPrefix(r.stdout, "b ") {
		t.Errorf("status after update:\n%s", r)
	}
	if unit := sm.Show("b.service", "LoadState"); unit["LoadState"] != "not-found" {
		t.Errorf("b.service after update: %v (the generator should no longer write it)", unit)
	}
}

// TestCtlBackoffOnSystemd is Supervisor's backoff as supersede ctl reads
// it from the units: a program whose dependency appears 2.5 s after its
// first start is BACKOFF while it waits, then RUNNING, as under
// supervisord; a crash loop ends FATAL, and an exit 0 within startsecs
// is a failed start too; a command supervisord cannot parse is FATAL with
// its spawn error, and the others run.
func TestCtlBackoffOnSystemd(t *testing.T) {
	t.Parallel()
	dir := shortTempDir(t)
	dep := filepath.Join(dir, "dep")
	conf := writeConf(t, dir, `[program:waiter]
command=/bin/sh -c 'test -e `+dep+` || exit 1; exec sleep 3600'
startsecs=1
startretries=3
autostart=false

[program:crasher]
command=/bin/sh -c 'exit 0'
startsecs=1
startretries=1

[program:broken]
command=/bin/echo 'unclosed
startretries=1

[program:nocmd]
command=/nonexistent/x
startretries=1
`)
	w, sm := systemdWorld(t, conf)
	sm.Systemctl("start", "--no-block", "waiter.service")
	time.AfterFunc(2500*time.Millisecond, func() { os.WriteFile(dep, nil, 0o644) })
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := w.ctl("status")
		st, _ := stateOf(r.stdout, "waiter")
		seen[st] = true
		cst, _ := stateOf(r.stdout, "crasher")
		if st == "RUNNING" && cst == "FATAL" {
			break
		}
		if st == "FATAL" || time.Now().After(deadline) {
			t.Fatalf("waiter %s, crasher %s; want RUNNING and FATAL:\n%s", st, cst, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !seen["BACKOFF"] {
		t.Errorf("waiter was never BACKOFF on its way to RUNNING (seen %v)", seen)
	}
	if r := w.ctl("status", "crasher"); !strings.Contains(r.stdout, "Exited too quickly (process log may have details)") {
		t.Errorf("status crasher: %s", r)
	}
	// supervisord runs the others and fails this one at every spawn
	w.waitState(t, "broken", "FATAL", 0)
	if r := w.ctl("status", "broken"); !strings.Contains(r.stdout, `FATAL     can't parse command "/bin/echo 'unclosed": No closing quotation`) {
		t.Errorf("status broken: %s", r)
	}
	w.waitState(t, "nocmd", "FATAL", 0)
	if r := w.ctl("status", "nocmd"); !strings.Contains(r.stdout, `FATAL     can't find command '/nonexistent/x'`) {
		t.Errorf("status nocmd: %s", r)
	}
}

// TestCtlShutdownOrderOnSystemd: supersede ctl shutdown stops the
// programs as supervisord does, the highest priority first, each only
// after the ones before it are down.
func TestCtlShutdownOrderOnSystemd(t *testing.T) {
	t.Parallel()
	dir := shortTempDir(t)
	order := filepath.Join(dir, "order")
	script := filepath.Join(dir, "stopper.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
trap 'echo "stop $2" >> "$1"; sleep 0.3; echo "end $2" >> "$1"; exit 0' TERM
while :; do sleep 0.05; done
`), 0o755); err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	for i, name := range []string{"first", "second", "third"} {
		fmt.Fprintf(&conf, "[program:%s]\ncommand=/bin/sh %s %s %s\npriority=%d\nstartsecs=0\n\n", name, script, order, name, i+1)
	}
	w, _ := systemdWorld(t, writeConf(t, dir, conf.String()))
	for _, name := range []string{"first", "second", "third"} {
		w.waitState(t, name, "RUNNING", 0)
	}
	if r := w.ctl("shutdown"); r.code != 0 {
		t.Fatalf("shutdown: %s", r)
	}
	want := "stop third\nend third\nstop second\nend second\nstop first\nend first\n"
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := os.ReadFile(order)
		if string(got) == want {
			break
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			t.Fatalf("stop order:\n%s\nwant, as supervisord stops them:\n%s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
