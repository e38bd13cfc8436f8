package difftest

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/supersede/supersede/internal/fallbacktest"
)

func TestMain(m *testing.M) {
	// Scenarios mostly wait on daemons and their loops, not on the CPU:
	// let more of them run at once than the default -parallel (GOMAXPROCS),
	// unless the command line sets it.
	set := false
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	fallbacktest.Main(m)
}

// otherEnv chooses the daemon compared with the real supervisord.
const otherEnv = "SUPERSEDE_DIFFTEST_DAEMON"

// scenario is one differential case: a configuration and the steps run
// against it on each side.
type scenario struct {
	cfg   fallbacktest.Config
	steps func(s *side)
}

// side is one scenario running on one daemon. It records a transcript of
// what it saw; steps compare nothing themselves, the transcripts of the
// two sides are compared at the end.
type side struct {
	impl fallbacktest.Impl
	d    *fallbacktest.Daemon
	out  strings.Builder
	err  error // what stopped the steps early
}

// stopSteps is the panic value with which a side stops its steps.
type stopSteps struct{}

// diffTest runs sc under the real supervisord and the other daemon, in
// parallel, and fails t with the difference of their transcripts.
func diffTest(t *testing.T, sc scenario) {
	t.Helper()
	fallbacktest.RequireSupervisor(t)
	other := fallbacktest.Supersede
	switch v := os.Getenv(otherEnv); v {
	case "", "supersede":
		fallbacktest.RequireSupersede(t)
	case "supervisord":
		other = fallbacktest.Supervisord
	default:
		t.Fatalf("%s=%q: want supersede (the default) or supervisord", otherEnv, v)
	}
	t.Parallel()
	sides := []*side{{impl: fallbacktest.Supervisord}, {impl: other}}
	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Go(func() { s.play(t, sc) })
	}
	wg.Wait()
	ref, got := sides[0], sides[1]
	if ref.err != nil {
		t.Errorf("the scenario fails under the real supervisord (a bug of the scenario or the harness): %v\ntranscript:\n%s", ref.err, ref.out.String())
	}
	if got.err != nil {
		t.Errorf("%s: %v", got.impl, got.err)
	}
	if d := diff.Diff("reference/"+string(ref.impl), []byte(ref.out.String()), "compared/"+string(got.impl), []byte(got.out.String())); d != nil {
		t.Errorf("transcripts differ (-%s +%s):\n%s", ref.impl, got.impl, d)
	} else if testing.Verbose() {
		t.Logf("transcript (same on both sides):\n%s", ref.out.String())
	}
}

// play runs the steps on a new daemon, then tears it down; a
// supervisorctl run or a wait that fails is recorded and stops the steps.
func (s *side) play(t *testing.T, sc scenario) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopSteps); !ok {
				s.err = fmt.Errorf("panic: %v", r)
			}
		}
		if s.d != nil {
			if left := s.d.Close(); len(left) > 0 {
				s.notef("teardown killed survivors of the daemon's tree: %v", left)
			}
		}
	}()
	d, err := fallbacktest.Start(t, s.impl, sc.cfg)
	s.d = d
	if err != nil {
		s.fail(err)
	}
	sc.steps(s)
}

// fail records err and stops the steps.
func (s *side) fail(err error) {
	s.err = err
	fmt.Fprintf(&s.out, "!! %v\n", err)
	panic(stopSteps{})
}

// notef records an observation.
func (s *side) notef(format string, args ...any) {
	fmt.Fprintf(&s.out, "# "+format+"\n", args...)
}

// ctl runs supervisorctl and records the normalised run.
func (s *side) ctl(args ...string) fallbacktest.Result {
	r := s.d.NormalizeResult(s.d.Ctl(args...))
	s.out.WriteString(r.String())
	return r
}

// ctlSorted runs supervisorctl and records the run with its output
// lines sorted: for commands on several processes (all, GROUP:*), whose
// result lines the real supervisord prints in the order the operations
// complete.
func (s *side) ctlSorted(args ...string) fallbacktest.Result {
	r := s.d.NormalizeResult(s.d.Ctl(args...))
	lines := strings.SplitAfter(r.Stdout, "\n")
	slices.Sort(lines)
	sorted := r
	sorted.Stdout = strings.Join(lines, "")
	s.out.WriteString(strings.Replace(sorted.String(), "\n", " (lines sorted)\n", 1))
	return r
}

// ctlQuiet runs supervisorctl without recording the run.
func (s *side) ctlQuiet(args ...string) fallbacktest.Result {
	return s.d.NormalizeResult(s.d.Ctl(args...))
}

// wait waits until each name is in one of states (see
// Daemon.WaitState), recording nothing unless it fails.
func (s *side) wait(states string, names ...string) {
	for _, name := range names {
		if _, err := s.d.WaitState(name, strings.Split(states, "|")...); err != nil {
			s.fail(err)
		}
	}
}

// waitNote waits until name is in one of states, like wait, and
// records the status line that showed it.
func (s *side) waitNote(states, name string) {
	out, err := s.d.WaitState(name, strings.Split(states, "|")...)
	if err != nil {
		s.fail(err)
	}
	s.out.WriteString("$ supervisorctl status " + name + " (until " + states + ")\n" + s.d.Normalize(out))
}

// waitFor waits until cond holds (see Daemon.WaitFor).
func (s *side) waitFor(what string, cond func() bool) {
	if err := s.d.WaitFor(what, cond); err != nil {
		s.fail(err)
	}
}

// waitExit waits for the daemon to exit and records its exit status.
func (s *side) waitExit() {
	code, err := s.d.WaitExit(fallbacktest.DefaultWait)
	if err != nil {
		s.fail(err)
	}
	s.notef("daemon exited with status %d", code)
}

// lines returns the lines of the daemon's file name.
func (s *side) lines(name string) []string {
	return strings.Split(strings.TrimSuffix(s.d.ReadFile(name), "\n"), "\n")
}

// count returns how many lines the daemon's file name holds.
func (s *side) count(name string) int {
	return strings.Count(s.d.ReadFile(name), "\n")
}

// mainLog returns the lines of the daemon's main log that match re,
// normalised.
func (s *side) mainLog(re string) []string { return s.fileLines("supervisord.log", re) }

// fileLines returns the lines of the daemon's file name that match re,
// normalised.
func (s *side) fileLines(name, re string) []string {
	rx := regexp.MustCompile(re)
	var out []string
	for line := range strings.Lines(s.d.ReadFile(name)) {
		if rx.MatchString(line) {
			out = append(out, strings.TrimSuffix(s.d.Normalize(line), "\n"))
		}
	}
	return out
}

// noteLog records the main log lines that match re.
func (s *side) noteLog(re string) { s.noteFile("supervisord.log", re) }

// noteFile records the lines of the daemon's file name that match re.
func (s *side) noteFile(name, re string) {
	s.notef("%s lines matching %s:", name, re)
	for _, l := range s.fileLines(name, re) {
		s.out.WriteString("#   " + l + "\n")
	}
}

// readPID reads a pid that a program wrote into the daemon's file name
// (waiting for the file), with its process start time for Alive.
func (s *side) readPID(name string) (int, uint64) {
	s.waitFor(name, func() bool { return strings.HasSuffix(s.d.ReadFile(name), "\n") })
	pid, err := strconv.Atoi(strings.TrimSpace(s.d.ReadFile(name)))
	if err != nil {
		s.fail(fmt.Errorf("%s: %w", name, err))
	}
	p, err := fallbacktest.ReadProc(pid)
	if err != nil {
		s.fail(fmt.Errorf("process %d of %s: %w", pid, name, err))
	}
	return pid, p.StartTime
}

// gone waits until process pid (started at start) has died, and records
// whether it did.
func (s *side) gone(what string, pid int, start uint64) {
	err := s.d.WaitFor(what+" to die", func() bool { return !fallbacktest.Alive(pid, start) })
	s.notef("%s gone: %v", what, err == nil)
}

// pidOf returns the pid status shows for name, 0 if none.
func (s *side) pidOf(name string) int {
	r := s.d.Ctl("status", name)
	_, rest, ok := strings.Cut(r.Stdout, "pid ")
	if !ok {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSuffix(strings.Fields(rest)[0], ","))
	return pid
}

// spawnOrder returns the names of the "start NAME PID" lines of a file,
// in the order of their pids, which is the order in which they were
// forked: the programs race to write their lines, the kernel hands out
// pids in fork order. Pids wrap at pid_max; within one scenario's few
// forks a gap of more than half the range means they wrapped.
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
			if recs[i].pid-recs[i-1].pid > max/2 { // the pids from i on came first
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

// ready waits until the daemon answers again (after reload).
func (s *side) ready() {
	if err := s.d.WaitReady(); err != nil {
		s.fail(err)
	}
}

// truncate empties a file of the daemon's directory.
func (s *side) truncate(name string) {
	if err := os.WriteFile(s.d.Path(name), nil, 0o644); err != nil {
		s.fail(err)
	}
}

// rewrite replaces the daemon's configuration file.
func (s *side) rewrite(cfg fallbacktest.Config) {
	if err := s.d.WriteConfig(cfg); err != nil {
		s.fail(err)
	}
}

// follow runs a `tail -f`-style command until its output contains want,
// and records the run, its output normalised.
func (s *side) follow(want string, args ...string) {
	r, err := s.d.CtlFollow(func(out string) bool { return strings.Contains(out, want) }, args...)
	s.out.WriteString(s.d.NormalizeResult(interrupted(r)).String())
	if err != nil {
		s.fail(err)
	}
}

// interrupted drops what supervisorctl itself prints when SIGINT ends a
// "tail -f": an empty line, or on stderr "URL Cannot connect, error:
// <class 'KeyboardInterrupt'> ()", depending on where in its own code the
// signal finds it. That is the client's race, the same with either daemon.
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

func itoa(n int) string { return strconv.Itoa(n) }

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// holder returns a function that kills name's current process with
// SIGKILL (by its PID, if it is still that process) and waits until it
// is gone: for a program that ignores SIGTERM and so holds a stop, a
// reload or a shutdown in progress until the steps let it go.
func (s *side) holder(name string) (release func()) {
	pid := s.pidOf(name)
	p, err := fallbacktest.ReadProc(pid)
	if pid == 0 || err != nil {
		s.fail(fmt.Errorf("no process of %s to hold with: %v", name, err))
	}
	return func() {
		s.killOwn(pid, p.StartTime)
		s.waitFor(name+" to die", func() bool { return !fallbacktest.Alive(pid, p.StartTime) })
	}
}

// killOwn sends SIGKILL to pid, a process of the daemon's tree, if it is
// still the process that started at start.
func (s *side) killOwn(pid int, start uint64) {
	if fallbacktest.Alive(pid, start) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// signal sends sig to the daemon, by its PID.
func (s *side) signal(sig syscall.Signal) {
	if s.d.Exited() {
		s.fail(fmt.Errorf("cannot send %v: %w", sig, fallbacktest.ErrExited))
	}
	if err := syscall.Kill(s.d.PID(), sig); err != nil {
		s.fail(err)
	}
}
