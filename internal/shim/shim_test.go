package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary run the steps as a unit would run
// `supersede shim`: with SHIM_TEST_STEP=1 it is the step, with its args.
func TestMain(m *testing.M) {
	if os.Getenv("SHIM_TEST_STEP") == "1" {
		if d, err := time.ParseDuration(os.Getenv("SHIM_TEST_DELAY")); err == nil {
			time.Sleep(d) // a slow start of supersede
		}
		if s := os.Getenv("SHIM_TEST_SECOND"); s != "" {
			d, _ := time.ParseDuration(s)
			Second = d
		}
		if job, ok := os.LookupEnv("SHIM_TEST_JOB"); ok {
			// the manager's answer to UnitJob ("error" for none)
			UnitJob = func(context.Context, string) (string, error) {
				if job == "error" {
					return "", errors.New("no manager")
				}
				return job, nil
			}
		}
		os.Exit(Main(os.Args[1:], os.Environ(), os.Stderr))
	}
	os.Exit(m.Run())
}

// step runs the test binary as the step with args and env; it returns
// its stderr and how it ended.
func step(t *testing.T, env []string, args ...string) (string, *os.ProcessState, time.Duration) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append([]string{"SHIM_TEST_STEP=1", "SHIM_TEST_SECOND=100ms"}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	begin := time.Now()
	cmd.Run()
	return stderr.String(), cmd.ProcessState, time.Since(begin)
}

func killedBySIGTERM(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

func count(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, CountFile))
	if err != nil {
		return "none"
	}
	return strings.TrimSpace(string(b))
}

// Supervisor's backoff: no wait on a fresh start, then 1, 2 ... steps;
// after startretries+1 failed starts, exit 1 (FATAL).
func TestBackoff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, wait := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
		_, ps, took := step(t, nil, "backoff", dir, "2")
		if ps.ExitCode() != 0 {
			t.Fatalf("start %d: %v", i+1, ps)
		}
		if took < wait || took > wait+2*time.Second {
			t.Errorf("start %d took %v, want a wait of %v", i+1, took, wait)
		}
		if got := count(t, dir); got != strconv.Itoa(i+1) {
			t.Errorf("after start %d the count is %s", i+1, got)
		}
	}
	if _, ps, _ := step(t, nil, "backoff", dir, "2"); ps.ExitCode() != 1 {
		t.Errorf("after startretries+1 failed starts: %v, want exit 1 (FATAL)", ps)
	}
	// The start after FATAL is one asked for: a fresh round, no wait, as
	// supervisorctl start after FATAL.
	_, ps, took := step(t, nil, "backoff", dir, "2")
	if ps.ExitCode() != 0 || took > 2*time.Second {
		t.Errorf("the start after FATAL: %v after %v, want exit 0 without a wait", ps, took)
	}
	if got := count(t, dir); got != "1" {
		t.Errorf("after the start after FATAL the count is %s, want 1", got)
	}
}

// --fatal-status: a unit whose SuccessExitStatus= has 1 (exitcodes=0,1,
// or autorestart=false) gives up with another status, which systemd
// counts as a failure of the step.
func TestBackoffFatalStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ps, _ := step(t, nil, "backoff", dir, "0", "--locale", "--fatal-status", "254"); ps.ExitCode() != 0 {
		t.Fatalf("first start: %v", ps)
	}
	if _, ps, _ := step(t, nil, "backoff", dir, "0", "--locale", "--fatal-status", "254"); ps.ExitCode() != 254 {
		t.Errorf("after startretries+1 failed starts: %v, want exit 254", ps)
	}
}

// A missing directory: Supervisor's two lines, and a failed start.
func TestBackoffChdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	stderr, ps, _ := step(t, nil, "backoff", dir, "3", "--chdir", missing)
	if !killedBySIGTERM(ps) {
		t.Errorf("ended %v, want by SIGTERM (a failed start)", ps)
	}
	if want := "supervisor: couldn't chdir to " + missing + ": ENOENT\nsupervisor: child process was not spawned\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if got := count(t, dir); got != "1" {
		t.Errorf("count %s, want 1", got)
	}
	if stderr, ps, _ := step(t, nil, "backoff", t.TempDir(), "3", "--chdir", dir); ps.ExitCode() != 0 || stderr != "" {
		t.Errorf("an existing directory: %v %q", ps, stderr)
	}
}

// startsecs: a program that lives clears the count; one that dies first
// ends the step by SIGTERM at once and keeps the count.
func TestStartsecs(t *testing.T) {
	t.Parallel()
	t.Run("survives", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, CountFile), []byte("2\n"), 0o644)
		sleeper := exec.Command("sleep", "30")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
		_, ps, took := step(t, []string{"MAINPID=" + strconv.Itoa(sleeper.Process.Pid)}, "startsecs", dir, "3")
		if ps.ExitCode() != 0 || took < 300*time.Millisecond {
			t.Errorf("%v after %v, want exit 0 after 3 steps", ps, took)
		}
		if got := count(t, dir); got != "none" {
			t.Errorf("count %s after RUNNING, want none", got)
		}
	})
	t.Run("dies first", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, CountFile), []byte("1\n"), 0o644)
		quitter := exec.Command("sh", "-c", "sleep 0.1; exit 0")
		if err := quitter.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { quitter.Wait(); close(done) }()
		defer func() { <-done }()
		cmdEnv := []string{"MAINPID=" + strconv.Itoa(quitter.Process.Pid), "SHIM_TEST_SECOND=10s"}
		_, ps, took := step(t, cmdEnv, "startsecs", dir, "5")
		if !killedBySIGTERM(ps) || took > 10*time.Second {
			t.Errorf("%v after %v, want SIGTERM as soon as the program died", ps, took)
		}
		if got := count(t, dir); got != "1" {
			t.Errorf("count %s, want 1 kept", got)
		}
	})
	t.Run("no main process", func(t *testing.T) {
		t.Parallel()
		if _, ps, _ := step(t, nil, "startsecs", t.TempDir(), "1"); !killedBySIGTERM(ps) {
			t.Errorf("%v, want SIGTERM", ps)
		}
	})
	t.Run("startsecs=0, already gone", func(t *testing.T) {
		// RUNNING at the spawn: a program that ended before a late step
		// ran exited normally
		t.Parallel()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, CountFile), []byte("1\n"), 0o644)
		if _, ps, _ := step(t, nil, "startsecs", dir, "0"); ps.ExitCode() != 0 {
			t.Errorf("%v, want exit 0", ps)
		}
		if got := count(t, dir); got != "none" {
			t.Errorf("count %s, want none (RUNNING)", got)
		}
	})
}

// hold-stdin: the program's stdin blocks instead of reading EOF.
func TestHoldStdin(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	// read returns at EOF with status 1; held open, it times out (124).
	stderr, ps, _ := step(t, nil, "hold-stdin", sh, "sh", "-c", "exec timeout 0.3 sh -c 'read x'")
	if ws, ok := ps.Sys().(syscall.WaitStatus); !ok || ws.ExitStatus() != 124 {
		t.Errorf("ended %v (%q), want timeout's 124: read must block", ps, stderr)
	}
}

func TestUsage(t *testing.T) {
	var b bytes.Buffer
	for _, args := range [][]string{nil, {"nope"}, {"backoff", "x"}, {"backoff", "x", "y"}, {"backoff", "x", "1", "--fatal-status", "0"}, {"backoff", "x", "1", "--fatal-status"}, {"startsecs", "x"}, {"exited", "x", "1"}, {"hold-stdin"}, {"exec", "/bin/true"}} {
		b.Reset()
		if code := Main(args, nil, &b); code != 2 || b.Len() == 0 {
			t.Errorf("Main(%q) = %d, %q; want 2 and a message", args, code, b.String())
		}
	}
}

// exited: a program that ended before its startsecs step ran is a failed
// start; otherwise the step has judged and exited does nothing.
func TestExited(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name         string
		count, watch bool
		sigterm      bool
		args         []string
	}{
		{"ended before startsecs ran", true, false, true, nil},
		{"startsecs ran", true, true, false, nil},
		{"reached RUNNING", false, true, false, nil},
		{"never counted", false, false, false, nil},
		{"startsecs=0, ended before its step ran: RUNNING at the spawn", true, false, false, []string{"0"}},
	} {
		dir := t.TempDir()
		if c.count {
			os.WriteFile(filepath.Join(dir, CountFile), []byte("1\n"), 0o644)
		}
		if c.watch {
			os.WriteFile(filepath.Join(dir, watchFile), nil, 0o644)
		}
		_, ps, _ := step(t, nil, append([]string{"exited", dir}, c.args...)...)
		if got := killedBySIGTERM(ps); got != c.sigterm || !got && ps.ExitCode() != 0 {
			t.Errorf("%s: ended %v, want SIGTERM %v", c.name, ps, c.sigterm)
		}
		if _, err := os.Stat(filepath.Join(dir, CountFile)); c.args != nil && err == nil {
			t.Errorf("%s: the count stays, want it cleared", c.name)
		}
	}
}

// Under autorestart=false (--once), a run past startsecs that ended in a
// way systemd restarts all the same (a core dump, the OOM killer, the
// step's own exit status, which the unit forces to restart) and
// that no stop or restart job asked for is marked WaitEnded with its end;
// the restart's backoff refuses it with the fatal status, keeping the
// run's times and end beside the directory, and the stop of that refused
// start changes nothing.
func TestExitedOnce(t *testing.T) {
	t.Parallel()
	dumped := []string{"SERVICE_RESULT=core-dump", "EXIT_CODE=dumped", "EXIT_STATUS=SEGV"}
	exit254 := []string{"SERVICE_RESULT=exit-code", "EXIT_CODE=exited", "EXIT_STATUS=254"}
	for _, c := range []struct {
		name   string
		env    []string
		args   []string
		count  bool
		marked string // the end, "" for no mark
	}{
		{"core dump, no job", append(dumped, "SHIM_TEST_JOB="), nil, false, "3 11"},
		{"core dump, the manager cannot say", append(dumped, "SHIM_TEST_JOB=error"), nil, false, "3 11"},
		{"core dump, startsecs=0", append(dumped, "SHIM_TEST_JOB="), []string{"0"}, false, "3 11"},
		{"OOM kill", []string{"SERVICE_RESULT=oom-kill", "EXIT_CODE=killed", "EXIT_STATUS=KILL", "SHIM_TEST_JOB="}, nil, false, "2 9"},
		{"core dump in a stop job", append(dumped, "SHIM_TEST_JOB=stop"), nil, false, ""},
		{"core dump in a restart job", append(dumped, "SHIM_TEST_JOB=restart"), nil, false, ""},
		{"a success (a signal in SuccessExitStatus=)", []string{"SERVICE_RESULT=success", "EXIT_CODE=killed", "EXIT_STATUS=SEGV", "SHIM_TEST_JOB="}, nil, false, ""},
		{"the step's exit status (RestartForceExitStatus=)", append(exit254, "SHIM_TEST_JOB="), nil, false, "1 254"},
		{"the step's exit status, startsecs=0", append(exit254, "SHIM_TEST_JOB="), []string{"0"}, false, "1 254"},
		{"the step's exit status in a stop job", append(exit254, "SHIM_TEST_JOB=stop"), nil, false, ""},
		{"the step's exit status within startsecs (retried)", append(exit254, "SHIM_TEST_JOB="), nil, true, ""},
		{"the step gave up (no end of the program's)", []string{"SERVICE_RESULT=exit-code", "SHIM_TEST_JOB="}, nil, false, ""},
		{"within startsecs (the startsecs step judged)", append(dumped, "SHIM_TEST_JOB="), nil, true, ""},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, startedFile), []byte("1000000000\n"), 0o644)
		if c.count {
			os.WriteFile(filepath.Join(dir, CountFile), []byte("1\n"), 0o644)
			os.WriteFile(filepath.Join(dir, watchFile), nil, 0o644)
		}
		_, ps, _ := step(t, c.env, append(append([]string{"exited", dir}, c.args...), "--once")...)
		if ps.ExitCode() != 0 {
			t.Errorf("%s: exited ended %v", c.name, ps)
		}
		end, _ := os.ReadFile(filepath.Join(dir, EndFile))
		if c.marked == "" {
			if w := ReadWait(dir); w == WaitEnded || len(end) > 0 {
				t.Errorf("%s: marked %q, end %q, want no mark", c.name, w, end)
			}
			continue
		}
		if w := ReadWait(dir); w != WaitEnded || strings.TrimSpace(string(end)) != c.marked {
			t.Errorf("%s: mark %q, end %q, want %q, %q", c.name, w, end, WaitEnded, c.marked)
			continue
		}
		stopped, _ := os.ReadFile(filepath.Join(dir, stoppedFile))
		_, ps, _ = step(t, nil, "backoff", dir, "3", "--fatal-status", "254")
		if ps.ExitCode() != 254 {
			t.Errorf("%s: the restart's backoff ended %v, want exit 254 (refused)", c.name, ps)
		}
		last, _ := os.ReadFile(dir + LastRunSuffix)
		if want := "1000000000 " + strings.TrimSpace(string(stopped)) + " " + c.marked + "\n"; string(last) != want {
			t.Errorf("%s: kept %q, want %q", c.name, last, want)
		}
		// the stop of the refused start
		_, ps, _ = step(t, []string{"SERVICE_RESULT=exit-code"}, append(append([]string{"exited", dir}, c.args...), "--once")...)
		if again, _ := os.ReadFile(filepath.Join(dir, stoppedFile)); ps.ExitCode() != 0 || string(again) != string(stopped) || ReadWait(dir) != WaitEnded {
			t.Errorf("%s: the refused start's stop ended %v, stopped %q (was %q), mark %q", c.name, ps, again, stopped, ReadWait(dir))
		}
	}
}

// startsecs counts from the spawn (backoff's "started"), not from its own
// start: a program already up for longer is RUNNING at once, and a dead
// one is still a failed start.
func TestStartsecsFromSpawn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	past := strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)
	os.WriteFile(filepath.Join(dir, startedFile), []byte(past), 0o644)
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	env := []string{"MAINPID=" + strconv.Itoa(sleeper.Process.Pid), "SHIM_TEST_SECOND=10s"}
	if _, ps, took := step(t, env, "startsecs", dir, "5"); ps.ExitCode() != 0 || took > 5*time.Second {
		t.Errorf("%v after %v, want exit 0 at once", ps, took)
	}
	dead := exec.Command("true")
	dead.Run()
	env = []string{"MAINPID=" + strconv.Itoa(dead.Process.Pid), "SHIM_TEST_SECOND=10s"}
	if _, ps, _ := step(t, env, "startsecs", dir, "5"); !killedBySIGTERM(ps) {
		t.Errorf("a dead program: %v, want SIGTERM", ps)
	}
}

// Giving up keeps the last run's times beside STATE: the start the last
// backoff step recorded and the end the last exited step recorded, in
// that order, as Supervisor's laststart and laststop of a FATAL process.
func TestLastRunKept(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "prog")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	last := state + LastRunSuffix
	for i := range 2 {
		if _, ps, _ := step(t, nil, "backoff", state, "1"); ps.ExitCode() != 0 {
			t.Fatalf("start %d: %v", i+1, ps)
		}
		os.WriteFile(filepath.Join(state, watchFile), nil, 0o644) // startsecs ran and judged
		if _, ps, _ := step(t, nil, "exited", state); ps.ExitCode() != 0 {
			t.Fatalf("exited %d: %v", i+1, ps)
		}
		if _, err := os.Stat(last); err == nil {
			t.Fatalf("%s written before the step gave up", last)
		}
	}
	giveUp := time.Now().UnixNano()
	if _, ps, _ := step(t, nil, "backoff", state, "1"); ps.ExitCode() != 1 {
		t.Fatalf("after startretries+1 failed starts: %v, want exit 1 (FATAL)", ps)
	}
	b, err := os.ReadFile(last)
	if err != nil {
		t.Fatalf("giving up wrote no %s: %v", last, err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Fatalf("%s holds %q, want START STOP", last, b)
	}
	start, err1 := strconv.ParseInt(f[0], 10, 64)
	stop, err2 := strconv.ParseInt(f[1], 10, 64)
	started, _ := os.ReadFile(filepath.Join(state, startedFile))
	if err1 != nil || err2 != nil || strconv.FormatInt(start, 10) != string(started) || stop < start || stop > giveUp {
		t.Errorf("%s holds %q: want the last start (%s) and a stop after it, before the step gave up (%d)", last, b, started, giveUp)
	}
}

func wait(dir string) string { return ReadWait(dir) }

// The wait mark (WaitFile), which status reads BACKOFF from: a fresh
// start's step marks no wait, before its count says 1; a failed start
// marks the restart's wait ("exited"); the step marks it while it
// sleeps, and no wait once it is over; a stop ends the wait with the
// mark in place (BACKOFF to STOPPED); giving up is marked as such.
func TestWaitMarked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ps, _ := step(t, nil, "backoff", dir, "1"); ps.ExitCode() != 0 {
		t.Fatalf("fresh start: %v", ps)
	}
	if got := wait(dir); got != WaitNone || count(t, dir) != "1" {
		t.Errorf("after a fresh start's step: mark %q, count %s; want %q, 1", got, count(t, dir), WaitNone)
	}
	// the program died before its startsecs step ran: a failed start
	if _, ps, _ := step(t, nil, "exited", dir); !killedBySIGTERM(ps) {
		t.Fatalf("exited: %v, want SIGTERM", ps)
	}
	if got := wait(dir); got != WaitBackoff {
		t.Errorf("after a failed start: mark %q, want %q", got, WaitBackoff)
	}
	// the restart's step waits; a stop ends it
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, WaitFile))
	cmd := exec.Command(exe, "backoff", dir, "1")
	cmd.Env = []string{"SHIM_TEST_STEP=1", "SHIM_TEST_SECOND=1h"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for wait(dir) != WaitBackoff {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the step waits without marking it: %q", wait(dir))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("a stop in the wait: %v, want exit 0", err)
	}
	if got := wait(dir); got != WaitBackoff || count(t, dir) != "1" {
		t.Errorf("after a stop in the wait: mark %q, count %s; want %q, 1", got, count(t, dir), WaitBackoff)
	}
	// the wait over (100 ms here): no wait marked, the start counted
	if _, ps, _ := step(t, nil, "backoff", dir, "1"); ps.ExitCode() != 0 {
		t.Fatalf("second start: %v", ps)
	}
	if got := wait(dir); got != WaitNone || count(t, dir) != "2" {
		t.Errorf("after the wait: mark %q, count %s; want %q, 2", got, count(t, dir), WaitNone)
	}
	if _, ps, _ := step(t, nil, "backoff", dir, "1"); ps.ExitCode() != 1 {
		t.Fatalf("startretries used up: %v, want exit 1", ps)
	}
	if got := wait(dir); got != WaitGiveUp {
		t.Errorf("after giving up: mark %q, want %q", got, WaitGiveUp)
	}
	// the step that gave up leaves a count of 0: its stop steps keep the mark
	step(t, nil, "exited", dir)
	if got := wait(dir); got != WaitGiveUp {
		t.Errorf("exited after giving up: mark %q, want %q", got, WaitGiveUp)
	}
}

// A missing directory is a failed start: the restart's wait is marked.
// With startsecs=0 ("exited STATE 0" clears the count) the restart does
// not wait, and the mark says so.
func TestWaitMarkedChdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ps, _ := step(t, nil, "backoff", dir, "3", "--chdir", filepath.Join(dir, "missing")); !killedBySIGTERM(ps) {
		t.Fatalf("%v, want SIGTERM", ps)
	}
	if got := wait(dir); got != WaitBackoff {
		t.Errorf("after a failed chdir: mark %q, want %q", got, WaitBackoff)
	}
	if _, ps, _ := step(t, nil, "exited", dir, "0"); ps.ExitCode() != 0 {
		t.Fatalf("exited 0: %v", ps)
	}
	if got := wait(dir); got != WaitNone {
		t.Errorf("after exited 0: mark %q, want %q", got, WaitNone)
	}
}

// stepOut runs the step like step, and returns its stdout too and its pid.
func stepOut(t *testing.T, env []string, args ...string) (stdout, stderr string, ps *os.ProcessState, pid int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append([]string{"SHIM_TEST_STEP=1"}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return o.String(), e.String(), cmd.ProcessState, cmd.Process.Pid
}

// exec: the program is the step's own process (same pid), with argv[0]
// as given, SIGPIPE and SIGXFSZ ignored as under supervisord, no signal
// blocked or caught (the Go runtime's handlers are gone), and the open
// files limit systemd gave (the Go runtime raises it for itself).
func TestExec(t *testing.T) {
	t.Parallel()
	out, stderr, ps, pid := stepOut(t, nil, "exec", "/bin/cat", "kitty", "/proc/self/status", "/proc/self/cmdline")
	if ps.ExitCode() != 0 || stderr != "" {
		t.Fatalf("exec cat: %v %q", ps, stderr)
	}
	want := map[string]string{"Pid": strconv.Itoa(pid), "SigBlk": "0000000000000000", "SigIgn": "0000000001001000", "SigCgt": "0000000000000000"}
	for line := range strings.Lines(out) {
		k, v, _ := strings.Cut(line, ":")
		if w, ok := want[k]; ok {
			v = strings.TrimSpace(v)
			if k == "SigIgn" {
				// signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID:
				// a program cannot set or see them, SIGRTMIN is 34); the
				// step here is this test binary, which -race links with
				// glibc and its race runtime, and one run in CI passed 32
				// on ignored. supersede's own build is static, without cgo.
				if n, err := strconv.ParseUint(v, 16, 64); err == nil {
					v = fmt.Sprintf("%016x", n&^(3<<31))
				}
			}
			if v != w {
				t.Errorf("%s: %s, want %s", k, v, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("not in /proc/self/status: %v\n%s", want, out)
	}
	if !strings.HasSuffix(out, "kitty\x00/proc/self/status\x00/proc/self/cmdline\x00") {
		t.Errorf("argv is not kitty /proc/self/status /proc/self/cmdline: %q", out[max(0, len(out)-60):])
	}

	// --state: the time of the exec, from which startsecs counts
	state := t.TempDir()
	before := time.Now()
	if _, stderr, ps, _ := stepOut(t, nil, "exec", "--state", state, "/bin/true", "true"); ps.ExitCode() != 0 || stderr != "" {
		t.Fatalf("exec --state: %v %q", ps, stderr)
	}
	b, err := os.ReadFile(filepath.Join(state, StartedFile))
	ns, _ := strconv.ParseInt(string(b), 10, 64)
	if err != nil || time.Unix(0, ns).Before(before) || time.Unix(0, ns).After(time.Now()) {
		t.Errorf("started after exec --state: %q (%v), want a time during the step", b, err)
	}

	direct, err := exec.Command("/bin/sh", "-c", "ulimit -n; ulimit -Hn").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out, _, _, _ := stepOut(t, nil, "exec", "/bin/sh", "sh", "-c", "ulimit -n; ulimit -Hn"); out != string(direct) {
		t.Errorf("open files limit (soft, hard) %q, want %q as without the step", out, direct)
	}
}

// exec's failures end as Supervisor's child: exit 127, and its two lines
// where supervisord's own checks would not have stopped it before the
// fork; a bare name is looked for on PATH.
func TestExecFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte{0, 1, 2, 3}, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"/nonexistent/cmd", "cmd"}, ""},
		{[]string{dir, "dir"}, ""},
		{[]string{"nosuchcommand", "nosuchcommand"}, ""},
		{[]string{garbage, "junk"}, "supervisor: couldn't exec junk: ENOEXEC\nsupervisor: child process was not spawned\n"},
	} {
		_, stderr, ps, _ := stepOut(t, []string{"PATH=/usr/bin:/bin"}, append([]string{"exec"}, c.args...)...)
		if ps.ExitCode() != 127 || stderr != c.stderr {
			t.Errorf("exec %q: %v %q, want exit 127 and %q", c.args, ps, stderr, c.stderr)
		}
	}
	if _, stderr, ps, _ := stepOut(t, []string{"PATH=" + dir + ":/usr/bin:/bin"}, "exec", "true", "true"); ps.ExitCode() != 0 || stderr != "" {
		t.Errorf("exec true (on PATH): %v %q", ps, stderr)
	}
}

// awaitExec: the time the step's process became the program, not before;
// a process that dies before it execs is a failed start.
func TestAwaitExec(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"exec", "/bin/sleep", "sleep", "5"}, true},
		{[]string{"exec", "/nonexistent/cmd", "cmd"}, false},
	} {
		cmd := exec.Command(exe, c.args...)
		cmd.Env = []string{"SHIM_TEST_STEP=1", "SHIM_TEST_DELAY=300ms"}
		begin := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		at, ok := awaitExec(cmd.Process.Pid)
		if ok != c.ok {
			t.Errorf("%q: awaitExec ok %v, want %v", c.args, ok, c.ok)
		}
		if ok && at.Sub(begin) < 300*time.Millisecond {
			t.Errorf("%q: exec seen %v after the start, before the step's 300ms", c.args, at.Sub(begin))
		}
		cmd.Process.Kill()
		<-done
	}
	// a process that is not the step (already exec'd): the zero time
	if at, ok := awaitExec(os.Getppid()); !ok || !at.IsZero() {
		t.Errorf("awaitExec(a process that runs another program) = %v, %v; want the zero time", at, ok)
	}
}

// alive's reading of /proc/PID/stat, on lines read from real processes:
// a first thread that is a zombie while two others exec (Go's exec from
// another thread) is alive; a zombie of one thread is not.
func TestStatAlive(t *testing.T) {
	for _, c := range []struct {
		stat string
		want bool
	}{
		{"2570 (sysd.test) S 2387 2570 2570 0 -1 4228160 532 0 0 0 0 0 0 0 20 0 3 0 2589692 0 0 18446744073709551615 0 0 0 0 0 0 1002060288 16781312 2126638847 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true},
		{"2570 (sysd.test) Z 2387 2570 2570 0 -1 4228364 532 0 0 0 0 0 0 0 20 0 3 0 2589692 0 0 18446744073709551615 0 0 0 0 0 0 1002060288 16781312 2126638847 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true},
		{"2427 (sh) Z 2387 2427 2427 0 -1 4227084 603 0 0 0 0 0 0 0 20 0 1 0 2589521 0 0 18446744073709551615 0 0 0 0 0 0 0 16781312 65538 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 256\n", false},
		{"7 (a) b) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0\n", false},
	} {
		if got := statAlive([]byte(c.stat)); got != c.want {
			t.Errorf("statAlive(%.30q...) = %v, want %v", c.stat, got, c.want)
		}
	}
}

// exec --state in a unit's state directory (%t/supersede/NAME, the
// manager's symlinks in %t/systemd/units) records the run before it
// execs, as a symlink %t/supersede/.run.NAME: the symlink's invocation
// ID, the step's pid, which the program keeps, the process's start tick
// as the program itself reads it, and the time of the exec, the same as
// the started file's. A record left by an earlier run, and a temporary
// link left by a step that died, are replaced. Where the ID cannot be
// read (no symlink, not an ID, not a unit's directory), there is no
// record, and the program still runs.
func TestExecRecordsRun(t *testing.T) {
	t.Parallel()
	rt := t.TempDir()
	state := filepath.Join(rt, "supersede", "prog_1")
	links := filepath.Join(rt, "systemd", "units")
	for _, d := range []string{state, links} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const id = "0123456789abcdef0123456789abcdef"
	if err := os.Symlink(id, filepath.Join(links, "invocation:prog_1.service")); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(rt, "supersede", ".run.prog_1")
	if RunPath(state) != record || RunPath(state+"/") != record {
		t.Fatalf("RunPath(%s) = %s, want %s", state, RunPath(state), record)
	}
	for _, old := range []string{record, filepath.Join(rt, "supersede", ".tmp.run.prog_1")} {
		if err := os.Symlink("supersede exec 1 an earlier run", old); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	out, stderr, ps, pid := stepOut(t, nil, "exec", "--state", state, "/bin/cat", "cat", "/proc/self/stat")
	if ps.ExitCode() != 0 || stderr != "" {
		t.Fatalf("exec --state: %v %q", ps, stderr)
	}
	b, err := os.Readlink(record)
	if err != nil {
		t.Fatalf("no record of the run: %v", err)
	}
	r, ok := ParseRun([]byte(b))
	if !ok {
		t.Fatalf("record %q does not parse", b)
	}
	ticks, ok := StartTicks([]byte(out))
	if !ok {
		t.Fatalf("the program's /proc/self/stat %q has no start time", out)
	}
	started, _ := os.ReadFile(filepath.Join(state, StartedFile))
	ns, _ := strconv.ParseInt(string(started), 10, 64)
	if r.ID != id || r.PID != uint32(pid) || r.Ticks != ticks || r.Start != uint64(ns/1000) {
		t.Errorf("record %+v; want ID %s, pid %d, ticks %d (the program's own), start %d (started: %q)", r, id, pid, ticks, ns/1000, started)
	}
	if at := time.UnixMicro(int64(r.Start)); at.Before(before.Truncate(time.Microsecond)) || at.After(time.Now()) {
		t.Errorf("record's start %v is not during the step (from %v)", at, before)
	}
	if _, err := os.Lstat(filepath.Join(rt, "supersede", ".tmp.run.prog_1")); err == nil {
		t.Errorf("the temporary link stays")
	}

	// no record where the ID cannot be read; the program runs all the same
	for _, c := range []struct {
		name  string
		setup func(state string)
	}{
		{"no symlink", func(string) {}},
		{"not an ID", func(state string) {
			os.Symlink("../../x", filepath.Join(links, "invocation:"+filepath.Base(state)+".service"))
		}},
	} {
		state := filepath.Join(rt, "supersede", strings.ReplaceAll(c.name, " ", "_"))
		if err := os.Mkdir(state, 0o755); err != nil {
			t.Fatal(err)
		}
		c.setup(state)
		if _, stderr, ps, _ := stepOut(t, nil, "exec", "--state", state, "/bin/true", "true"); ps.ExitCode() != 0 || stderr != "" {
			t.Errorf("%s: exec --state: %v %q", c.name, ps, stderr)
		}
		if b, err := os.Readlink(RunPath(state)); err == nil {
			t.Errorf("%s: a record %q", c.name, b)
		}
		if _, err := os.Stat(filepath.Join(state, StartedFile)); err != nil {
			t.Errorf("%s: no started file: %v", c.name, err)
		}
	}
	other := filepath.Join(t.TempDir(), "prog_1") // not %t/supersede/NAME
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, ps, _ := stepOut(t, nil, "exec", "--state", other, "/bin/true", "true"); ps.ExitCode() != 0 {
		t.Errorf("exec --state (not a unit's directory): %v", ps)
	}
	if _, err := os.Lstat(RunPath(other)); err == nil {
		t.Errorf("a record beside a directory that is not a unit's")
	}
}

// A record is read only whole and well formed; StartTicks reads the
// 22nd field of a real /proc/PID/stat, past a name with spaces and ')'.
func TestParseRun(t *testing.T) {
	t.Parallel()
	const id = "0123456789abcdef0123456789abcdef"
	good := Run{ID: id, PID: 42, Ticks: 7, Start: 1700000000000000}
	if r, ok := ParseRun(good.Append(nil)); !ok || r != good {
		t.Errorf("ParseRun(%q) = %+v, %v", good.Append(nil), r, ok)
	}
	for _, bad := range []string{
		"", id + " 42 7 1", runHeader, runHeader + id + " 42 7 1\n",
		runHeader + id + " 42 7 1 " + id, runHeader + id + " 0 7 1",
		runHeader + id + " 42 7 0", runHeader + id + " 42 0 1", runHeader + strings.ToUpper(id) + " 42 7 1",
		runHeader + id + " 42 1", runHeader + id + " -1 7 1", runHeader + id + "  42 7 1",
		runHeader + id + " 42 7 1 ", "supersede exec 2 " + id + " 42 7 1", "supersede run 1\n" + id + " 42 1\n",
	} {
		if r, ok := ParseRun([]byte(bad)); ok {
			t.Errorf("ParseRun(%q) = %+v, want no record", bad, r)
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(self[bytes.LastIndexByte(self, ')')+2:]))
	want, _ := strconv.ParseUint(f[19], 10, 64)
	if got, ok := StartTicks(self); !ok || got != want || want == 0 {
		t.Errorf("StartTicks(/proc/self/stat) = %d, %v; want %d", got, ok, want)
	}
	odd := "7 (a) b) 0 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n"
	if got, ok := StartTicks([]byte(odd)); !ok || got != 12345 {
		t.Errorf("StartTicks(%q) = %d, %v; want 12345", odd, got, ok)
	}
	for _, bad := range []string{"", "7 (a) S 1 7", "7 (a) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0\n", "7 a S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n"} {
		if got, ok := StartTicks([]byte(bad)); ok {
			t.Errorf("StartTicks(%q) = %d, want none", bad, got)
		}
	}
}
