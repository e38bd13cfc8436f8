package difftest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/diff"
	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
)

func TestMain(m *testing.M) {
	// Scenarios mostly wait on daemons, managers and their timers, not on
	// the CPU: let more of them run at once than the default -parallel
	// (GOMAXPROCS), unless the command line sets it.
	set := false
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "10")
	}
	fallbacktest.Main(m)
}

// hostPath is the PATH of the test manager (internal/sdtest), which its
// services inherit; supervisord gets the same.
const hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// supervisordEnv is the environment the reference daemon starts with
// where the systemd side has no manager to ask (managerEnv): what the
// test's user manager gives its services (internal/sdtest), as if
// supervisord were one of them, without a locale (as in most containers
// and on a host without locale.conf).
var supervisordEnv = []string{
	"PATH=" + hostPath,
	"HOME={DIR}",
	"USER=root",
	"LOGNAME=root",
}

// scenario is one differential case: a configuration and the steps run
// against it on each side.
type scenario struct {
	name string // the subtest's name, and the key of sd-divergences.txt
	cfg  fallbacktest.Config
	// ref is the reference daemon: the real supervisord by default;
	// fallbacktest.Supersede (`supersede run`, Supervisor's specified
	// outcome) where supervisord's 1 s loop makes it unrepeatable.
	ref fallbacktest.Impl
	// migration: the systemd side converts nothing; a real supervisord
	// runs the programs, and `supersede ctl` runs without --user on a
	// host that runs systemd, as a supervisorctl link installed before
	// the move would.
	migration bool
	// logFiles converts with --log-files and runs ctl with it: output
	// goes to Supervisor's log files instead of the journal.
	logFiles bool
	steps    func(s *side)
}

// side is one scenario running on one side. It records a transcript of
// what it saw; steps compare nothing themselves.
type side struct {
	name string // "supervisord", "supersede run" or "systemd"
	sc   *scenario
	bin  string // supersede
	dir  string // holds the configuration and what programs write
	conf string
	d    *fallbacktest.Daemon // the daemon, on a reference side or in a migration scenario
	m    *sdtest.Manager      // the user manager, on the systemd side
	// convert is `supersede convert --user`'s run (systemd side).
	convert fallbacktest.Result
	// envOut (systemd side) hands envIn (reference side) the environment
	// the side's manager gives its services, which the reference daemon
	// starts with (managerEnv); nil for supervisordEnv.
	envOut chan<- []string
	envIn  <-chan []string
	out    strings.Builder
	err    error // what stopped the steps early
}

// systemd reports whether the side runs the programs as units.
func (s *side) systemd() bool { return s.m != nil && !s.sc.migration }

// stopSteps is the panic value with which a side stops its steps.
type stopSteps struct{}

// sideTB is the testing.TB the systemd side gives internal/sdtest: a
// fatal error there is recorded in the transcript and stops the steps
// (from the side's goroutine), instead of t.FailNow, which only the
// test's own goroutine may call.
type sideTB struct {
	testing.TB
	s *side
}

func (tb sideTB) Fatal(args ...any)                 { tb.s.fail(errors.New(fmt.Sprint(args...))) }
func (tb sideTB) Fatalf(format string, args ...any) { tb.s.fail(fmt.Errorf(format, args...)) }
func (tb sideTB) FailNow()                          { tb.s.fail(errors.New("FailNow")) }

// outcome is what a scenario's run found.
type outcome struct {
	ref, got string // the transcripts
	diff     string // "" when equal
	broken   bool   // the reference side failed: a bug of the scenario or harness
}

// runScenario runs sc on the reference daemon and on the units, in
// parallel, and returns the transcripts.
func runScenario(t *testing.T, sc *scenario) outcome {
	t.Helper()
	fallbacktest.RequireSupervisor(t)
	sdtest.Require(t)
	bin := fallbacktest.RequireSupersede(t)
	refImpl := sc.ref
	if refImpl == "" {
		refImpl = fallbacktest.Supervisord
	}
	env := make(chan []string, 1)
	ref := &side{name: string(refImpl), sc: sc, bin: bin, envIn: env}
	if refImpl == fallbacktest.Supersede {
		ref.name = "supersede run"
	}
	got := &side{name: "systemd", sc: sc, bin: bin, envOut: env}
	var wg sync.WaitGroup
	wg.Go(func() { ref.play(t, func() { ref.startDaemon(t, refImpl) }) })
	wg.Go(func() { got.play(t, func() { got.startUnits(t) }) })
	wg.Wait()
	o := outcome{ref: ref.out.String(), got: got.out.String()}
	if ref.err != nil {
		o.broken = true
		t.Errorf("the scenario fails on the reference %s (a bug of the scenario or the harness): %v\ntranscript:\n%s", ref.name, ref.err, o.ref)
	}
	if d := diff.Diff("reference/"+ref.name, []byte(o.ref), "units/systemd", []byte(o.got)); d != nil {
		o.diff = string(d)
		if got.convert.Stderr != "" {
			o.diff += "convert said:\n" + got.convert.Stderr
		}
	}
	return o
}

// play sets the side up, runs the steps, then tears down what needs it
// at once; a command or a wait that fails is recorded and stops the steps.
func (s *side) play(t *testing.T, setup func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopSteps); !ok {
				s.err = fmt.Errorf("panic: %v", r)
				fmt.Fprintf(&s.out, "!! %v\n", s.err)
			}
		}
		if s.d != nil {
			// Survivors are not part of the transcript: the systemd side's
			// manager kills what is left in its cgroups at teardown.
			if left := s.d.Close(); len(left) > 0 {
				t.Logf("%s: %s: teardown killed survivors of the daemon's tree: %v", s.sc.name, s.name, left)
			}
		}
		if s.m != nil {
			if err := s.m.Stop(); err != nil {
				t.Errorf("%s: stopping the user manager: %v", s.sc.name, err)
			}
		}
	}()
	setup()
	s.sc.steps(s)
}

// startDaemon starts the reference daemon on the scenario's configuration.
func (s *side) startDaemon(t *testing.T, impl fallbacktest.Impl) {
	cfg := s.sc.cfg
	if cfg.Env == nil {
		cfg.Env = supervisordEnv
		if s.envIn != nil {
			if env := <-s.envIn; env != nil {
				cfg.Env = env
			}
		}
	}
	d, err := fallbacktest.Start(t, impl, cfg)
	s.d = d
	if d != nil {
		s.dir, s.conf = d.Dir, d.Conf
	}
	if err != nil {
		s.fail(err)
	}
}

// startUnits starts a user manager, converts the scenario's configuration
// into its unit directory and starts supersede.target, as `systemctl
// --user enable --now supersede.target` would after the move.
func (s *side) startUnits(t *testing.T) {
	tb := sideTB{TB: t, s: s}
	// The reference waits for this: whatever happens here, it is sent
	// once (nil: the reference takes supervisordEnv).
	defer func() {
		if s.envOut != nil {
			s.envOut <- nil
		}
	}()
	if s.sc.migration {
		s.startDaemon(t, fallbacktest.Supervisord)
		s.m = sdtest.Start(tb, sdtest.Options{})
		return
	}
	dir, err := os.MkdirTemp("", "sdd-")
	if err != nil {
		s.fail(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.dir, s.conf = dir, filepath.Join(dir, "supervisord.conf")
	if err := os.Mkdir(filepath.Join(dir, "log"), 0o755); err != nil {
		s.fail(err)
	}
	if err := fallbacktest.WriteFiles(dir, s.sc.cfg.Files); err != nil {
		s.fail(err)
	}
	if err := fallbacktest.WriteConfig(dir, s.sc.cfg); err != nil {
		s.fail(err)
	}
	s.m = sdtest.Start(tb, sdtest.Options{})
	s.envOut <- s.managerEnv()
	s.envOut = nil
	args := []string{"convert", "--user", "-c", s.conf, "-o", s.m.UnitDir}
	if s.sc.logFiles {
		args = append(args, "--log-files")
	}
	s.convert = s.run(exec.Command(s.bin, args...), args...)
	if _, err := s.m.TrySystemctl("daemon-reload"); err != nil {
		s.fail(err)
	}
	// With no unit written (convert refused the file) there is no
	// supersede.target: nothing starts, which the steps then show.
	s.m.TrySystemctl("start", "supersede.target")
}

// managerEnv is the environment the side's manager gives every service
// (systemctl --user show-environment: its own, with what the host's user
// environment generators add, such as a session bus address or
// environment.d's variables), which is what supervisord would start with
// as a service of that manager, and so what its programs inherit. HOME
// is the reference daemon's directory, as in supervisordEnv, and the
// XDG_* directories, which point into the manager's own, are left out.
func (s *side) managerEnv() []string {
	out, err := s.m.TrySystemctl("show-environment")
	if err != nil {
		s.fail(fmt.Errorf("systemctl --user show-environment: %v", err))
	}
	env := []string{"HOME={DIR}"}
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		name, v, _ := strings.Cut(line, "=")
		if strings.HasPrefix(v, "$'") {
			s.fail(fmt.Errorf("show-environment quoted a value, which the harness does not decode: %q", line))
		}
		if name != "HOME" && !strings.HasPrefix(name, "XDG_") {
			env = append(env, line)
		}
	}
	return env
}

// fail records err and stops the steps.
func (s *side) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	fmt.Fprintf(&s.out, "!! %v\n", s.norm(err.Error()))
	panic(stopSteps{})
}

// notef records an observation.
func (s *side) notef(format string, args ...any) {
	fmt.Fprintf(&s.out, "# "+format+"\n", args...)
}

// norm takes pids, times and the side's directory out of text. On the
// systemd side the manager's home is {DIR} too: a user manager starts its
// services there (WorkingDirectory= unset), as supervisord starts its
// programs in its own directory ({DIR}, where the harness starts it, with
// HOME={DIR}): each is where the service manager started the supervisor.
func (s *side) norm(text string) string {
	if s.m != nil {
		text = strings.ReplaceAll(text, s.m.Home, s.dir)
		text = strings.ReplaceAll(text, s.m.Base, "{BASE}")
	}
	return fallbacktest.Normalize(text, s.dir)
}

// Timeouts: generous, the machine is shared and noisy.
const (
	ctlTimeout  = 60 * time.Second
	waitTimeout = 30 * time.Second
	killTimeout = 5 * time.Second
)

// run runs cmd and returns its outputs and exit status as a Result named
// by args.
func (s *side) run(cmd *exec.Cmd, args ...string) fallbacktest.Result {
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := fallbacktest.Result{Args: args, Stdout: o.String(), Stderr: e.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	default:
		r.Code = -1
		r.Stderr += fmt.Sprintf("(difftest: %v)\n", err)
	}
	return r
}

// ctlCommand is the supervisorctl of the side: the real one against the
// daemon, `supersede ctl --user` in the manager's namespace against the
// units, `supersede ctl` without --user in a migration scenario.
func (s *side) ctlCommand(ctx context.Context, args ...string) *exec.Cmd {
	if s.m == nil {
		cmd := exec.CommandContext(ctx, fallbacktest.SupervisorctlPath, append([]string{"-c", s.conf}, args...)...)
		cmd.Dir = s.dir
		return cmd
	}
	pre := []string{"ctl", "--user", "-c", s.conf}
	if s.sc.migration {
		pre = []string{"ctl", "-c", s.conf}
	}
	if s.sc.logFiles {
		pre = append(pre, "--log-files")
	}
	return s.m.Command(ctx, s.bin, append(pre, args...)...)
}

// rawCtl runs supervisorctl ARGS, unnormalised and unrecorded.
func (s *side) rawCtl(args ...string) fallbacktest.Result {
	if s.m == nil {
		return s.d.Ctl(args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	r := s.run(s.ctlCommand(ctx, args...), args...)
	if ctx.Err() != nil {
		r.Code = -1
		r.Stderr += fmt.Sprintf("(difftest: did not finish within %v)\n", ctlTimeout)
	}
	return r
}

// ctlQuiet runs supervisorctl without recording the run.
func (s *side) ctlQuiet(args ...string) fallbacktest.Result {
	r := s.rawCtl(args...)
	r.Stdout, r.Stderr = s.norm(r.Stdout), s.norm(r.Stderr)
	return r
}

// ctl runs supervisorctl and records the normalised run.
func (s *side) ctl(args ...string) fallbacktest.Result {
	r := s.ctlQuiet(args...)
	s.out.WriteString(r.String())
	return r
}

// ctlSorted runs supervisorctl and records the run with its output lines
// sorted: for commands on several processes (all, GROUP:*), whose result
// lines supervisord prints in the order the operations complete.
func (s *side) ctlSorted(args ...string) fallbacktest.Result {
	r := s.ctlQuiet(args...)
	lines := strings.SplitAfter(r.Stdout, "\n")
	slices.Sort(lines)
	sorted := r
	sorted.Stdout = strings.Join(lines, "")
	s.out.WriteString(strings.Replace(sorted.String(), "\n", " (lines sorted)\n", 1))
	return r
}

// pollInterval is the pause between two polls of a state.
const pollInterval = 50 * time.Millisecond

// waitState polls `status NAME` until NAME is in one of states, and
// returns the last status output.
func (s *side) waitState(name string, states ...string) (string, error) {
	if s.m == nil {
		return s.d.WaitState(name, states...)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		r := s.rawCtl("status", name)
		if slices.Contains(states, fallbacktest.StateOf(r.Stdout, name)) {
			return r.Stdout, nil
		}
		if time.Now().After(deadline) {
			return r.Stdout, fmt.Errorf("%s not %s within %v; last status:\n%s", name, strings.Join(states, " or "), waitTimeout, r)
		}
		time.Sleep(pollInterval)
	}
}

// wait waits until each name is in one of states ("A|B"), recording
// nothing unless it fails.
func (s *side) wait(states string, names ...string) {
	for _, name := range names {
		if _, err := s.waitState(name, strings.Split(states, "|")...); err != nil {
			s.fail(err)
		}
	}
}

// waitNote waits like wait and records the status line that showed it.
func (s *side) waitNote(states, name string) {
	out, err := s.waitState(name, strings.Split(states, "|")...)
	if err != nil {
		s.fail(err)
	}
	s.out.WriteString("$ supervisorctl status " + name + " (until " + states + ")\n" + s.norm(out))
}

// waitFor polls cond until it holds, or fails after waitTimeout.
func (s *side) waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.fail(fmt.Errorf("waiting for %s: not true within %v", what, waitTimeout))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hold waits for d: for a step whose meaning is a duration (a program
// must still be RUNNING after it), not for synchronisation.
func hold(d time.Duration) { time.Sleep(d) }

// path is name inside the side's directory.
func (s *side) path(name string) string { return filepath.Join(s.dir, name) }

// readFile reads a file of the side's directory; "" if it does not exist.
func (s *side) readFile(name string) string {
	data, _ := os.ReadFile(s.path(name))
	return string(data)
}

// lines returns the lines of the file name.
func (s *side) lines(name string) []string {
	text := strings.TrimSuffix(s.readFile(name), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// count returns how many lines the file name holds.
func (s *side) count(name string) int { return strings.Count(s.readFile(name), "\n") }

// reloaded waits until a reloaded daemon answers again.
func (s *side) reloaded() {
	if s.m == nil {
		if err := s.d.WaitReady(); err != nil {
			s.fail(err)
		}
	}
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// truncate empties a file of the side's directory.
func (s *side) truncate(name string) {
	if err := os.WriteFile(s.path(name), nil, 0o644); err != nil {
		s.fail(err)
	}
}

// touch creates an empty file in the side's directory.
func (s *side) touch(name string) {
	if err := os.WriteFile(s.path(name), nil, 0o644); err != nil {
		s.fail(err)
	}
}

// rewrite replaces the configuration file, as an admin does before
// reread or update.
func (s *side) rewrite(cfg fallbacktest.Config) {
	if err := fallbacktest.WriteConfig(s.dir, cfg); err != nil {
		s.fail(err)
	}
}

// pidOf returns the pid status shows for name, 0 if none.
func (s *side) pidOf(name string) int {
	r := s.rawCtl("status", name)
	_, rest, ok := strings.Cut(r.Stdout, "pid ")
	if !ok {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSuffix(strings.Fields(rest)[0], ","))
	return pid
}

// proc reads a process the side's programs started.
func (s *side) proc(pid int) fallbacktest.Proc {
	p, err := fallbacktest.ReadProc(pid)
	if err != nil {
		s.fail(fmt.Errorf("process %d: %w", pid, err))
	}
	return p
}

// readPID reads a pid that a program wrote into the file name (waiting
// for the file), with its process start time.
func (s *side) readPID(name string) (int, uint64) {
	s.waitFor(name, func() bool { return strings.HasSuffix(s.readFile(name), "\n") })
	pid, err := strconv.Atoi(strings.TrimSpace(s.readFile(name)))
	if err != nil {
		s.fail(fmt.Errorf("%s: %w", name, err))
	}
	return pid, s.proc(pid).StartTime
}

// gone waits until process pid (started at start) has died, and records
// whether it did.
func (s *side) gone(what string, pid int, start uint64) {
	deadline := time.Now().Add(waitTimeout)
	for fallbacktest.Alive(pid, start) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.notef("%s gone: %v", what, !fallbacktest.Alive(pid, start))
}

// killOwn sends sig to pid, a process of the scenario's programs, if it
// is still the process that started at start.
func (s *side) killOwn(pid int, start uint64, sig syscall.Signal) {
	if fallbacktest.Alive(pid, start) {
		syscall.Kill(pid, sig)
	}
}

// killProgram sends SIGKILL to name's current process, waits until it
// has died and returns its pid.
func (s *side) killProgram(name string) int {
	pid := s.pidOf(name)
	if pid == 0 {
		s.fail(fmt.Errorf("no pid for %s", name))
	}
	p := s.proc(pid)
	s.killOwn(pid, p.StartTime, syscall.SIGKILL)
	s.waitFor(name+" to die", func() bool { return !fallbacktest.Alive(pid, p.StartTime) })
	return pid
}

// waitRestarted waits until name is RUNNING with another pid than old.
func (s *side) waitRestarted(name string, old int) {
	deadline := time.Now().Add(waitTimeout)
	for {
		r := s.rawCtl("status", name)
		if fallbacktest.StateOf(r.Stdout, name) == "RUNNING" && !strings.Contains(r.Stdout, "pid "+strconv.Itoa(old)+",") {
			return
		}
		if time.Now().After(deadline) {
			s.fail(fmt.Errorf("%s not RUNNING again within %v; last status:\n%s", name, waitTimeout, s.norm(r.String())))
		}
		time.Sleep(pollInterval)
	}
}

// waitTail polls `tail NAME [stderr]` until it shows want (the journal
// may hold a line back for a moment), then records the run.
func (s *side) waitTail(want string, args ...string) {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.rawCtl(append([]string{"tail"}, args...)...).Stdout, want) && time.Now().Before(deadline) {
		time.Sleep(pollInterval)
	}
	s.ctl(append([]string{"tail"}, args...)...)
}

// tailLines polls `tail NAME [stderr]` until it shows want, then records
// its distinct lines, sorted: what was written, not how many runs wrote
// it, for a scenario where that count is the reference's timing.
func (s *side) tailLines(want string, args ...string) {
	args = append([]string{"tail"}, args...)
	deadline := time.Now().Add(10 * time.Second)
	r := s.rawCtl(args...)
	for !strings.Contains(r.Stdout, want) && time.Now().Before(deadline) {
		time.Sleep(pollInterval)
		r = s.rawCtl(args...)
	}
	var lines []string
	for _, l := range strings.Split(s.norm(r.Stdout), "\n") {
		if l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	s.notef("supervisorctl %s, its distinct lines: %q", strings.Join(args, " "), lines)
}

// follow runs a command that does not end by itself (`tail -f`) until its
// output holds want, then sends it sig by its PID, as Ctrl-C (SIGINT) or
// timeout(1) (SIGTERM) would, and records the run and how it ended.
func (s *side) follow(want string, sig syscall.Signal, args ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := s.ctlCommand(ctx, args...)
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	var stdout, stderr fallbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		s.fail(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(stdout.String(), want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(sig)
	var err error
	ended := "ended after " + unix.SignalName(sig)
	select {
	case err = <-done:
	case <-time.After(killTimeout):
		ended = fmt.Sprintf("still running %v after %s; killed", killTimeout, unix.SignalName(sig))
		cancel()
		err = <-done
	}
	r := fallbacktest.Result{Args: args, Stdout: s.norm(stdout.String()), Stderr: s.norm(stderr.String())}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if !strings.HasPrefix(ended, "still") {
				ended += ", killed by " + unix.SignalName(ws.Signal())
			}
		} else {
			r.Code = exit.ExitCode()
		}
	}
	s.out.WriteString(interrupted(r).String())
	s.notef("%s", ended)
}

// interrupted drops what the real supervisorctl itself prints when a
// signal ends a "tail -f": an empty line, or on stderr "URL Cannot
// connect, error: <class 'KeyboardInterrupt'> ()", depending on where in
// its own code the signal finds it.
func interrupted(r fallbacktest.Result) fallbacktest.Result {
	if strings.HasSuffix(r.Stdout, "\n\n") {
		r.Stdout = strings.TrimSuffix(r.Stdout, "\n")
	}
	var keep []string
	for _, line := range strings.SplitAfter(r.Stderr, "\n") {
		if line != "" && !strings.Contains(line, "<class 'KeyboardInterrupt'>") {
			keep = append(keep, line)
		}
	}
	r.Stderr = strings.Join(keep, "")
	return r
}

// spawnOrder returns the names of the "start NAME PID" lines, in the
// order of their pids, which is the order in which they were forked (see
// fallback/difftest): pids wrap at pid_max, so a gap of more than half
// the range means they wrapped.
func spawnOrder(lines []string) []string {
	type rec struct {
		name string
		pid  int
	}
	var recs []rec
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "start" {
			pid, _ := strconv.Atoi(f[2])
			recs = append(recs, rec{f[1], pid})
		}
	}
	slices.SortFunc(recs, func(a, b rec) int { return a.pid - b.pid })
	if data, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil && len(recs) > 1 {
		max, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		for i := 1; i < len(recs); i++ {
			if recs[i].pid-recs[i-1].pid > max/2 {
				recs = append(recs[i:], recs[:i]...)
				break
			}
		}
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.name)
	}
	return names
}

// procStatus returns the lines of /proc/PID/status for the given keys.
func procStatus(pid int, keys ...string) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		k, _, _ := strings.Cut(line, ":")
		if slices.Contains(keys, k) {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return out
}
