package fallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

// These tests run real processes (sleep, sh) under a real Supervisor in
// the test process. They never run in parallel: the Supervisor reaps
// every child of the process (wait4(-1)), which os/exec must not race.

// waitFor bounds how long a test waits for a daemon that misbehaves;
// a healthy one is far faster. It is not an assertion about speed.
const waitFor = 30 * time.Second

// recorder is a slog handler that keeps the main log's lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.lines = append(r.lines, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// waitLine waits until a line containing s was logged and returns it.
func (r *recorder) waitLine(t *testing.T, s string) string {
	t.Helper()
	return r.waitLines(t, s, 1)[0]
}

// waitLines waits until n lines containing s were logged and returns
// them.
func (r *recorder) waitLines(t *testing.T, s string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		var found []string
		for _, l := range r.all() {
			if strings.Contains(l, s) {
				found = append(found, l)
			}
		}
		if len(found) >= n {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d log lines with %q, want %d; log:\n%s", len(found), s, n, strings.Join(r.all(), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type harness struct {
	t   *testing.T
	dir string
	s   *Supervisor
	log *recorder
	err chan error
	sig chan os.Signal
}

// start writes conf (with {DIR} replaced) and runs a Supervisor on it
// until the test ends.
func start(t *testing.T, conf string, opts Options) *harness {
	t.Helper()
	dir := t.TempDir()
	conf = "[supervisord]\nlogfile={DIR}/main.log\npidfile={DIR}/sd.pid\nchildlogdir={DIR}\n" + conf
	conf = strings.ReplaceAll(conf, "{DIR}", dir)
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(path, translate.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, log: &recorder{}, err: make(chan error, 1), sig: make(chan os.Signal, 1)}
	opts.Logger = slog.New(h.log)
	opts.Dir = dir
	if opts.Signals == nil {
		opts.Signals = h.sig
	}
	h.s, err = New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.err <- h.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.err:
		case <-time.After(waitFor):
			t.Errorf("Run did not return")
		}
		killOrphans(t)
	})
	return h
}

// killOrphans kills and reaps what a failed test left behind: the test
// process is a subreaper, so every survivor of ours is its child.
func killOrphans(t *testing.T) {
	for _, pid := range children(os.Getpid()) {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Logf("killing left-over process %d (%q)", pid, cmd)
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}
}

// stop ends Run and returns its result.
func (h *harness) stop(sig syscall.Signal) error {
	h.t.Helper()
	h.sig <- sig
	select {
	case err := <-h.err:
		h.err <- err // for the cleanup
		return err
	case <-time.After(waitFor):
		h.t.Fatalf("Run did not return after %v", sig)
	}
	return nil
}

func (h *harness) proc(name string) status.Process {
	h.t.Helper()
	ps, err := h.s.Processes(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range ps {
		if p.Namespec() == name {
			return p
		}
	}
	h.t.Fatalf("no process %s", name)
	return status.Process{}
}

// waitState waits until the process is in state st.
func (h *harness) waitState(name string, st status.State) status.Process {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		p := h.proc(name)
		if p.State == st {
			return p
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s is %s, not %s; log:\n%s", name, p.State, st, strings.Join(h.log.all(), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}

// exists reports whether pid exists at all (a zombie too).
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) { // state, ppid, ...
			out = append(out, n)
		}
	}
	return out
}

// gone waits until no pid of pids exists, not even as a zombie.
func gone(t *testing.T, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for _, pid := range pids {
		for exists(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still exists", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestSpawnReapExit(t *testing.T) {
	h := start(t, `
[program:sleeper]
command=sleep 1000
startsecs=0
[program:three]
command=sh -c 'exit 3'
startsecs=0
autorestart=false
`, Options{})
	sl := h.waitState("sleeper", status.Running)
	if !alive(sl.PID) {
		t.Fatalf("sleeper pid %d is not alive", sl.PID)
	}
	three := h.waitState("three", status.Exited)
	if three.ExitStatus != 3 || three.SpawnErr != "Bad exit code 3" {
		t.Errorf("three: exit status %d, spawnerr %q", three.ExitStatus, three.SpawnErr)
	}
	h.log.waitLine(t, "exited: three (exit status 3; not expected)")
	// The child runs in its own process group.
	if pgid, err := syscall.Getpgid(sl.PID); err != nil || pgid != sl.PID {
		t.Errorf("sleeper's process group is %d (%v), want its pid %d", pgid, err, sl.PID)
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("Run: %v", err)
	}
	gone(t, sl.PID)
	h.log.waitLine(t, "received SIGTERM indicating exit request")
	h.log.waitLine(t, "stopped: sleeper (terminated by SIGTERM)")
}

func TestChildSetup(t *testing.T) {
	h := start(t, `
[supervisord]
environment=BASE="b",OVER="from supervisord"
[unix_http_server]
file={DIR}/sock
[program:env]
command=sh -c 'env > {DIR}/env.out; pwd > {DIR}/pwd.out; umask > {DIR}/umask.out; echo out; echo err >&2'
directory=/tmp
umask=027
environment=OVER="from program",MINE="m"
startsecs=0
autorestart=false
[program:sleeper]
command=sleep 1000
startsecs=0
`, Options{Environ: []string{"PATH=/usr/bin:/bin", "INHERITED=yes", "OVER=env"}})
	h.waitState("env", status.Exited)
	env, err := os.ReadFile(filepath.Join(h.dir, "env.out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"INHERITED=yes", "BASE=b", "OVER=from program", "MINE=m",
		"SUPERVISOR_ENABLED=1", "SUPERVISOR_PROCESS_NAME=env", "SUPERVISOR_GROUP_NAME=env",
		"SUPERVISOR_SERVER_URL=unix://" + h.dir + "/sock",
	} {
		if !slices.Contains(strings.Split(string(env), "\n"), want) {
			t.Errorf("child environment lacks %s:\n%s", want, env)
		}
	}
	if pwd, _ := os.ReadFile(filepath.Join(h.dir, "pwd.out")); strings.TrimSpace(string(pwd)) != "/tmp" {
		t.Errorf("child directory %q, want /tmp", pwd)
	}
	if um, _ := os.ReadFile(filepath.Join(h.dir, "umask.out")); strings.TrimSpace(string(um)) != "0027" {
		t.Errorf("child umask %q, want 0027", um)
	}
	// SIGPIPE and SIGXFSZ ignored, as Python leaves them for
	// supervisord's children, besides what this process was started with
	// ignored (an ignored signal stays ignored across fork and exec, under
	// supervisord too); no descriptor beyond 0, 1 and 2.
	sl := h.waitState("sleeper", status.Running)
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", sl.PID))
	want := fmt.Sprintf("\nSigIgn:\t%016x\n", inheritedIgnores(t)|1<<(syscall.SIGPIPE-1)|1<<(syscall.SIGXFSZ-1))
	if !strings.Contains(string(st), want) {
		t.Errorf("child's status lacks %q:\n%s", strings.TrimSpace(want), st)
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", sl.PID))
	var names []string
	for _, fd := range fds {
		names = append(names, fd.Name())
	}
	if strings.Join(names, " ") != "0 1 2" {
		t.Errorf("child's descriptors %v, want 0 1 2", names)
	}
	// The daemon's own umask is untouched.
	old := syscall.Umask(0o22)
	syscall.Umask(old)
	if old == 0o27 {
		t.Errorf("the child's umask leaked into the daemon")
	}
	p := h.proc("env")
	if out := waitFile(t, p.StdoutLog, "out\n"); out != "out\n" {
		t.Errorf("stdout log %q", out)
	}
	if out := waitFile(t, p.StderrLog, "err\n"); out != "err\n" {
		t.Errorf("stderr log %q", out)
	}
}

// waitFile waits until path holds want and returns what it holds.
func waitFile(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		data, _ := os.ReadFile(path)
		if string(data) == want || time.Now().After(deadline) {
			return string(data)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitExist waits until path exists.
func waitExist(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not exist", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSpawnErrors(t *testing.T) {
	h := start(t, `
[program:nodir]
command=sleep 1000
directory=/nonexistent/dir
startretries=0
[program:nofile]
command=/nonexistent/cmd
startretries=1
[program:quick]
command=true
startretries=0
`, Options{})
	p := h.waitState("nodir", status.Fatal)
	if p.SpawnErr != "Exited too quickly (process log may have details)" {
		t.Errorf("nodir spawnerr %q", p.SpawnErr)
	}
	want := "supervisor: couldn't chdir to /nonexistent/dir: ENOENT\nsupervisor: child process was not spawned\n"
	if got := waitFile(t, p.StderrLog, want); got != want {
		t.Errorf("nodir stderr log %q, want %q", got, want)
	}
	p = h.waitState("nofile", status.Fatal)
	if p.SpawnErr != "can't find command '/nonexistent/cmd'" {
		t.Errorf("nofile spawnerr %q", p.SpawnErr)
	}
	h.waitState("quick", status.Fatal)
	h.log.waitLine(t, "gave up: quick entered FATAL state, too many start retries too quickly")

	ctx := context.Background()
	err := h.s.Start(ctx, "nofile", "nofile")
	if kind, detail := status.KindOf(err); kind != status.ErrNoFile || detail != "can't find command '/nonexistent/cmd'" {
		t.Errorf("Start(nofile) = %v", err)
	}
	if err := h.s.Start(ctx, "nosuch", "nosuch"); !errors.Is(err, status.ErrBadName) {
		t.Errorf("Start(nosuch) = %v", err)
	}
	// The spawn error comes from Start when the child is dead by then,
	// else from the wait.
	err = h.s.Start(ctx, "quick", "quick")
	if err == nil {
		err = h.s.WaitStarted(ctx, "quick", "quick")
	}
	if !errors.Is(err, status.ErrSpawnError) {
		t.Errorf("starting quick = %v, want a spawn error", err)
	}
}

func TestStartStopWait(t *testing.T) {
	h := start(t, `
[program:s]
command=sleep 1000
autostart=false
startsecs=0
`, Options{})
	ctx := context.Background()
	if err := h.s.Stop(ctx, "s", "s"); !errors.Is(err, status.ErrNotRunning) {
		t.Errorf("Stop of a stopped process = %v", err)
	}
	if err := h.s.Start(ctx, "s", "s"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStarted(ctx, "s", "s"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Start(ctx, "s", "s"); !errors.Is(err, status.ErrAlreadyStarted) {
		t.Errorf("second Start = %v", err)
	}
	pid := h.proc("s").PID
	if err := h.s.Signal(ctx, "s", "s", syscall.SIGSTOP); err != nil {
		t.Errorf("Signal = %v", err)
	}
	if err := h.s.Signal(ctx, "s", "s", syscall.SIGCONT); err != nil {
		t.Errorf("Signal = %v", err)
	}
	if err := h.s.Stop(ctx, "s", "s"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStopped(ctx, "s", "s"); err != nil {
		t.Fatal(err)
	}
	if p := h.proc("s"); p.State != status.Stopped || p.PID != 0 || p.ExitStatus != -1 {
		t.Errorf("after stop: %+v", p)
	}
	gone(t, pid)
}

func TestRestartAfterKill(t *testing.T) {
	h := start(t, `
[program:s]
command=sleep 1000
startsecs=0
`, Options{})
	first := h.waitState("s", status.Running)
	syscall.Kill(first.PID, syscall.SIGKILL)
	h.log.waitLine(t, "exited: s (terminated by SIGKILL; not expected)")
	second := h.waitState("s", status.Running)
	if second.PID == first.PID {
		t.Fatalf("not respawned: pid %d", second.PID)
	}
	gone(t, first.PID)
}

func TestStopAsGroupReachesGrandchildren(t *testing.T) {
	h := start(t, `
[program:wrap]
command=sh -c 'sleep 1000 & sleep 1000 & wait'
stopasgroup=true
startsecs=0
[program:plain]
command=sh -c 'sleep 1000 & wait'
startsecs=0
stopwaitsecs=1
`, Options{})
	w := h.waitState("wrap", status.Running)
	pl := h.waitState("plain", status.Running)
	var grand, plainGrand []int
	for deadline := time.Now().Add(waitFor); len(grand) < 2 || len(plainGrand) < 1; {
		grand, plainGrand = children(w.PID), children(pl.PID)
		if time.Now().After(deadline) {
			t.Fatalf("grandchildren did not start: %v %v", grand, plainGrand)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx := context.Background()
	if err := h.s.Stop(ctx, "wrap", "wrap"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStopped(ctx, "wrap", "wrap"); err != nil {
		t.Fatal(err)
	}
	gone(t, append(grand, w.PID)...)
	// Without stopasgroup the sleep survives its shell, as under
	// Supervisor; it becomes an orphan of ours, and we kill it.
	if err := h.s.Stop(ctx, "plain", "plain"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStopped(ctx, "plain", "plain"); err != nil {
		t.Fatal(err)
	}
	gone(t, pl.PID)
	t.Cleanup(func() { syscall.Kill(plainGrand[0], syscall.SIGKILL) })
	if !alive(plainGrand[0]) {
		t.Errorf("the plain shell's sleep died with it; Supervisor leaves it")
	}
	syscall.Kill(plainGrand[0], syscall.SIGKILL)
	h.log.waitLine(t, fmt.Sprintf("reaped unknown pid %d (terminated by SIGKILL)", plainGrand[0]))
	gone(t, plainGrand[0])
}

func TestOrderlyShutdown(t *testing.T) {
	h := start(t, `
[program:low]
command=sleep 1000
priority=1
startsecs=0
[program:high]
command=sleep 1000
priority=900
startsecs=0
[group:g]
programs=mid1,mid2
priority=500
[program:mid1]
command=sleep 1000
priority=2
startsecs=0
[program:mid2]
command=sh -c 'trap "" TERM; touch {DIR}/mid2.ready; exec sleep 1000'
priority=3
startsecs=0
stopwaitsecs=1
`, Options{})
	var pids []int
	for _, n := range []string{"low", "high", "g:mid1", "g:mid2"} {
		pids = append(pids, h.waitState(n, status.Running).PID)
	}
	waitExist(t, filepath.Join(h.dir, "mid2.ready")) // TERM is ignored now
	if err := h.stop(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	gone(t, pids...)
	// Groups one at a time in descending priority; within a group all
	// at once in descending priority; low only after mid2 needed SIGKILL.
	var order []string
	for _, l := range h.log.all() {
		if strings.HasPrefix(l, "killing ") && strings.HasSuffix(l, "with signal SIGTERM") {
			order = append(order, strings.Fields(l)[1])
		}
		if strings.HasPrefix(l, "killing 'mid2' (") {
			order = append(order, "KILL")
		}
	}
	want := []string{"high", "mid2", "mid1", "KILL", "low"}
	if !slices.Equal(order, want) {
		t.Errorf("stop order %v, want %v", order, want)
	}
	h.log.waitLine(t, "waiting for low, mid1, mid2, high to die")
}

func TestOrphansAreReaped(t *testing.T) {
	h := start(t, `
[program:forker]
command=sh -c 'sh -c "sleep 0.1 &"; exec sleep 1000'
startsecs=0
`, Options{})
	h.waitState("forker", status.Running)
	line := h.log.waitLine(t, "reaped unknown pid")
	var pid int
	if _, err := fmt.Sscanf(line, "reaped unknown pid %d", &pid); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if exists(pid) {
		t.Errorf("orphan %d still exists after being reaped", pid)
	}
}

func TestExitOnFatal(t *testing.T) {
	h := start(t, `
[program:ok]
command=sleep 1000
startsecs=0
[program:bad]
command=/nonexistent/x
startretries=0
priority=1000
`, Options{ExitOnFatal: true, ExitOnFatalNames: []string{"bad"}})
	var fe *FatalError
	select {
	case err := <-h.err:
		h.err <- err
		if !errors.As(err, &fe) || fe.Process != "bad" {
			t.Fatalf("Run = %v, want a FatalError for bad", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	h.log.waitLine(t, "stopped: ok (terminated by SIGTERM)")
	lines := h.log.all()
	if i, j := slices.Index(lines, "gave up: bad entered FATAL state, too many start retries too quickly"), slices.Index(lines, "exiting: bad entered FATAL state and the daemon was told to exit then"); i < 0 || j < i {
		t.Errorf("log:\n%s", strings.Join(lines, "\n"))
	}
}

func TestRestartSignal(t *testing.T) {
	h := start(t, `
[program:s]
command=sleep 1000
startsecs=0
`, Options{})
	pid := h.waitState("s", status.Running).PID
	if err := h.stop(syscall.SIGHUP); !errors.Is(err, ErrRestart) {
		t.Fatalf("Run after SIGHUP = %v", err)
	}
	gone(t, pid)
	h.log.waitLine(t, "received SIGHUP indicating restart request")
}

func TestReloadAddRemove(t *testing.T) {
	h := start(t, `
[program:a]
command=sleep 1000
startsecs=0
[program:b]
command=sleep 1000
startsecs=0
`, Options{})
	h.waitState("a", status.Running)
	h.waitState("b", status.Running)
	conf := filepath.Join(h.dir, "supervisord.conf")
	data, _ := os.ReadFile(conf)
	data = []byte(strings.Replace(string(data), "[program:b]\ncommand=sleep 1000", "[program:b]\ncommand=sleep 999", 1))
	data = []byte(strings.Replace(string(data), "[program:a]", "[program:c]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n[program:a_]", 1))
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	added, changed, removed, err := h.s.Reload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []string{"a_", "c"}) || !slices.Equal(changed, []string{"b"}) || !slices.Equal(removed, []string{"a"}) {
		t.Errorf("Reload = %v %v %v", added, changed, removed)
	}
	if err := h.s.RemoveGroup(ctx, "a"); !errors.Is(err, status.ErrStillRunning) {
		t.Errorf("RemoveGroup(a) running = %v", err)
	}
	if err := h.s.AddGroup(ctx, "b"); !errors.Is(err, status.ErrAlreadyAdded) {
		t.Errorf("AddGroup(b) = %v", err)
	}
	if err := h.s.AddGroup(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if p := h.proc("c"); p.State != status.Stopped {
		t.Errorf("c (autostart=false) is %s", p.State)
	}
	if err := h.s.Stop(ctx, "a", "a"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStopped(ctx, "a", "a"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.RemoveGroup(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	groups, _ := h.s.Groups(ctx)
	slices.Sort(groups)
	if !slices.Equal(groups, []string{"b", "c"}) {
		t.Errorf("groups %v", groups)
	}
	os.WriteFile(conf, []byte("[supervisord]\nlogfile=bad\nnosuchkey=\n[program:x]\n"), 0o644)
	if _, _, _, err := h.s.Reload(ctx); !errors.Is(err, status.ErrCantReread) {
		t.Errorf("Reload of a bad config = %v", err)
	}
}

func TestEventListener(t *testing.T) {
	h := start(t, `
[eventlistener:ev]
command=sh {DIR}/listener.sh
events=PROCESS_STATE,REMOTE_COMMUNICATION
startsecs=0
[program:sleeper]
command=sleep 1000
startsecs=0
priority=1000
`, Options{})
	script := `printf 'READY\n'
while read header; do
  len=${header##*len:}
  payload=$(head -c "$len")
  printf '%s\n%s\n' "$header" "$payload" >> ` + h.dir + `/events.txt
  printf 'RESULT 2\nOK'
  printf 'READY\n'
done
`
	// The script is written after the config names it: the listener's
	// first spawns may fail until it exists, which is fine. It appears
	// whole (a rename): sh reading it half-written would exit 0, an
	// expected exit that is not restarted.
	tmp := filepath.Join(h.dir, "listener.sh.tmp")
	if err := os.WriteFile(tmp, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(h.dir, "listener.sh")); err != nil {
		t.Fatal(err)
	}
	h.waitState("ev", status.Running)
	h.waitState("sleeper", status.Running)
	if err := h.s.SendRemoteComm(context.Background(), "greeting", "hello"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.dir, "events.txt")
	deadline := time.Now().Add(waitFor)
	for {
		data, _ := os.ReadFile(path)
		got := string(data)
		if strings.Contains(got, "eventname:PROCESS_STATE_RUNNING") && strings.Contains(got, "processname:sleeper groupname:sleeper from_state:STARTING pid:") &&
			strings.Contains(got, "eventname:REMOTE_COMMUNICATION len:19\ntype:greeting\nhello") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events received:\n%s\nlog:\n%s", got, strings.Join(h.log.all(), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFCGISocket(t *testing.T) {
	h := start(t, `
[fcgi-program:fc]
socket=unix://{DIR}/fc.sock
socket_mode=0600
command=sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0
`, Options{})
	a := h.waitState("fc:fc_0", status.Running)
	h.waitState("fc:fc_1", status.Running)
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", a.PID))
	if err != nil || !strings.HasPrefix(link, "socket:") {
		t.Errorf("fd 0 of an fcgi process is %q (%v), want its socket", link, err)
	}
	sock := filepath.Join(h.dir, "fc.sock")
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket file: %v %v", st, err)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("the socket does not listen: %v", err)
	}
	c.Close()
	if err := h.s.WriteStdin(context.Background(), "fc", "fc_0", []byte("x")); !errors.Is(err, status.ErrNoFile) {
		t.Errorf("WriteStdin to an fcgi process = %v, want no such file", err)
	}
	for _, n := range []string{"fc_0", "fc_1"} {
		if err := h.s.Stop(context.Background(), "fc", n); err != nil {
			t.Fatal(err)
		}
		if err := h.s.WaitStopped(context.Background(), "fc", n); err != nil {
			t.Fatal(err)
		}
	}
	// Created and closed when the group is made, then held from the
	// first spawn to the last exit.
	h.log.waitLines(t, "Closing socket unix://"+sock, 2)
	if n := len(h.log.waitLines(t, "Creating socket unix://"+sock, 2)); n != 2 {
		t.Errorf("socket created %d times, want 2", n)
	}
}

func TestUser(t *testing.T) {
	if os.Getuid() != 0 {
		testreal.Missing(t, "TestUser needs root to switch users")
	}
	h := start(t, `
[program:nobody]
command=sleep 1000
user=nobody
startsecs=0
`, Options{})
	p := h.waitState("nobody", status.Running)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nUid:\t65534\t65534\t65534\t65534\n", "\nGid:\t65534\t65534\t65534\t65534\n"} {
		if !strings.Contains(string(st), want) {
			t.Errorf("child's status lacks %q:\n%s", want, st)
		}
	}
}

// inheritedIgnores is the set of signals this test process was started
// with ignored and that the Go runtime left ignored (it installs its own
// handlers for the others), as a /proc SigIgn mask.
func inheritedIgnores(t *testing.T) uint64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:\t"); ok {
			mask, err := strconv.ParseUint(v, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
	return 0
}
