package fallback

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/fallback/logfile"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// Options configure a Supervisor. The zero value works: no log, the
// process's own environment and directory, no signals.
type Options struct {
	// Logger is the main log; nil discards. Lines are Supervisor's
	// (supervisor.md §7.5), at slog levels plus LevelCritical,
	// LevelTrace and LevelBlather.
	Logger *slog.Logger

	// Environ is supervisord's environment, the base of every child's.
	// Nil means os.Environ().
	Environ []string

	// Dir is supervisord's current directory: relative commands and log
	// paths resolve against it. Empty means os.Getwd().
	Dir string

	// Signals delivers the daemon's signals: SIGTERM, SIGINT and SIGQUIT
	// stop everything in order and end Run; SIGHUP does the same and
	// Run returns ErrRestart; SIGUSR2 reopens the logs. Nil means none;
	// cancelling Run's context is then the only way down.
	Signals <-chan os.Signal

	// Load reads the configuration again for Reload (reloadConfig,
	// supervisorctl reread/update). Nil means translate.Load of the
	// same file with Environ and Dir.
	Load func() (*translate.Config, error)

	// MainLog is the daemon's own log file (*logfile.MainLog): readLog,
	// clearLog and SIGUSR2 use it. Nil means the [supervisord] logfile
	// path, never reopened.
	MainLog MainLog

	// Events is the event system; one bus lives as long as the daemon,
	// across restarts. Nil means a bus of this Supervisor's own.
	Events EventBus

	// ExitOnFatal ends the daemon when a process enters FATAL: Run stops
	// everything and returns a *FatalError. ExitOnFatalNames limits it to
	// the processes named (name, group:name, or a group name); empty
	// means any process.
	ExitOnFatal      bool
	ExitOnFatalNames []string

	// PrefixOutput starts every line a program writes to a standard
	// stream of the daemon (stdout_logfile=/dev/stdout, /dev/fd/N, ...)
	// with "NAME | ", so that the programs sharing a container's output
	// can be told apart (Supervisor#553). Log files are left as they are.
	PrefixOutput bool

	// Now is the clock; nil means time.Now. The state machine takes the
	// time from it; waiting still uses real timers.
	Now func() time.Time
}

// MainLog is the daemon's own log.
type MainLog interface {
	Path() string  // the log file, "" for none (syslog)
	Reopen() error // reopen the file (SIGUSR2)
	Clear() error  // remove and reopen it (clearLog), with status errors
}

// ErrRestart is what Run returns after a restart request (SIGHUP, the
// restart RPC): every process was stopped, and the caller reads the
// configuration again and runs a new Supervisor, as supervisord does in
// the same process.
var ErrRestart = errors.New("restart requested")

// FatalError is what Run returns when Options.ExitOnFatal ended it.
type FatalError struct {
	Process string // the namespec of the process that entered FATAL
}

func (e *FatalError) Error() string {
	return e.Process + " entered FATAL state, too many start retries too quickly"
}

// The daemon's moods (Supervisor's SupervisorStates).
const (
	moodShutdown   = -1
	moodRestarting = 0
	moodRunning    = 1
)

// Supervisor runs the processes of a configuration as supervisord 4.2.5
// does: Supervisor's state machine per process, spawned and reaped by an
// event loop that sleeps until a child exits, a timer is due or a
// request arrives.
type Supervisor struct {
	opts    Options
	logger  *slog.Logger
	environ []string
	env     *envBase // environ as children get it
	dir     string
	now     func() time.Time
	ident   string
	mainLog string
	pid     int

	bus         EventBus
	ownBus      *events.Bus
	pumper      *logfile.Pump
	syslogOnce  sync.Once
	childSyslog *logfile.Syslog

	mood    atomic.Int32
	started atomic.Bool
	reqs    chan func()
	done    chan struct{}
	more    chan struct{} // work left for the loop's next turn (see turnBudget)

	// As at start: a reread changes neither (supervisord keeps them in
	// its options until a restart).
	sv        translate.Supervisord
	serverURL *string

	// Owned by the loop goroutine.
	cfg        *translate.Config // read last: at start or by Reload
	groups     map[string]*group
	groupOrder []*group // the order groups were added in
	pids       map[int]*proc
	timers     procHeap
	timer      *time.Timer
	timerAt    time.Time
	trimTimer  *time.Timer // trimAfter after the last request
	trimmedAt  uint64      // heapAllocs at the last trim
	dirty      []*proc
	stopping   bool
	stopGroups []*group
	lastReport time.Time     // last "waiting for ... to die"
	holdLog    bool          // hold main-log lines back (see reap)
	held       []slog.Record // the lines held back
	fatal      *FatalError
	sp         *spawner
}

// group is an active process group.
type group struct {
	cfg    *translate.Group
	procs  []*proc          // config order
	byName map[string]*proc // only for a big group (see find)
	pool   *events.Pool     // an event listener pool's
	sock   *fcgiSocket      // an fcgi-program's
}

// bigGroup is the size from which a group indexes its processes by name:
// most groups hold one process, and a map each would cost more than the
// process.
const bigGroup = 16

// find is g's process called name, or nil.
func (g *group) find(name string) *proc {
	if g.byName != nil {
		return g.byName[name]
	}
	for _, p := range g.procs {
		if p.cfg.Name == name {
			return p
		}
	}
	return nil
}

// New makes a Supervisor for cfg; Run starts it.
func New(cfg *translate.Config, opts Options) (*Supervisor, error) {
	if cfg == nil {
		return nil, errors.New("fallback: no configuration")
	}
	s := &Supervisor{
		opts:      opts,
		logger:    opts.Logger,
		environ:   opts.Environ,
		dir:       opts.Dir,
		now:       opts.Now,
		cfg:       cfg,
		sv:        cfg.Supervisord,
		serverURL: cfg.ServerURL,
		ident:     cfg.Supervisord.Identifier,
		pid:       os.Getpid(),
		reqs:      make(chan func()),
		done:      make(chan struct{}),
		more:      make(chan struct{}, 1),
		groups:    map[string]*group{},
		pids:      map[int]*proc{},
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.environ == nil {
		s.environ = os.Environ()
	}
	s.env = newEnvBase(s.environ)
	if s.dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("fallback: %w", err)
		}
		s.dir = wd
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case opts.MainLog != nil:
		s.mainLog = opts.MainLog.Path()
	case cfg.Supervisord.Logfile != "syslog":
		s.mainLog = cfg.Supervisord.Logfile
	}
	s.bus = opts.Events
	if s.bus == nil {
		s.ownBus = events.NewBus(events.Options{Identifier: s.ident, Logger: s.logger, Now: opts.Now})
		s.bus = s.ownBus
	}
	s.mood.Store(moodRunning)
	return s, nil
}

// Run supervises until it is told to stop: ctx cancelled, a stop signal,
// the shutdown or restart RPC, or ExitOnFatal. It then stops every
// process in Supervisor's order and returns only when all are stopped:
// nil, ErrRestart, or a *FatalError.
func (s *Supervisor) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("fallback: Run called twice")
	}
	// Orphaned descendants come to us to be reaped, as they would to
	// PID 1.
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	// Children inherit what supervisord's children inherit: SIGPIPE and
	// SIGXFSZ ignored (Python ignores them at start), and no descriptor
	// but their stdin, stdout and stderr (supervisord closes 3..minfds).
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
	closeOnExec()
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	defer signal.Stop(chld)
	pumper, err := logfile.NewPump()
	if err != nil {
		return fmt.Errorf("fallback: %w", err)
	}
	s.pumper = pumper
	pumpCtx, stopPump := context.WithCancel(context.Background())
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		if err := pumper.Run(pumpCtx); err != nil {
			s.logNow(LevelCritical, "%v", err)
		}
	}()
	defer func() {
		stopPump()
		<-pumpDone
	}()
	if s.ownBus != nil {
		defer s.ownBus.Close()
	}
	s.sp = &spawner{self: "/proc/self/exe"}
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	s.trimTimer = time.NewTimer(time.Hour)
	s.trimTimer.Stop()
	defer close(s.done)

	s.reap() // children of an earlier run
	b := s.newBatch()
	for _, g := range s.cfg.Groups {
		if err := s.addGroup(g); err != nil {
			s.logf(LevelCritical, "could not add group %s: %v", g.Name, err)
			continue
		}
		// Its autostart processes fork now, as the next groups are
		// added; transitionAll takes them up.
		for _, p := range s.groups[g.Name].procs {
			b.add(p)
		}
	}
	b.end()
	s.bus.Publish(events.NewSupervisorRunning())
	s.transitionAll()
	// Reading the configuration and the start leave garbage behind that
	// an idle daemon would keep in its resident memory for minutes.
	s.trim()
	ctxDone := ctx.Done()
	for {
		s.flush()
		if s.mood.Load() < moodRunning {
			done := s.shutdownStep()
			s.flush()
			if done {
				break
			}
		}
		s.armTimer()
		select {
		case <-ctxDone:
			ctxDone = nil
			s.mood.Store(moodShutdown)
		case sig := <-s.opts.Signals:
			s.handleSignal(sig)
		case <-chld:
			s.reap()
		case <-s.more:
			s.serveWaiting()
			s.reap()
		case f := <-s.reqs:
			f()
		case <-s.timer.C:
			s.timerAt = time.Time{}
			s.fire()
		case <-s.trimTimer.C:
			s.trimIfWorth()
		}
	}
	s.flush()
	for _, g := range s.groupOrder {
		if g.pool != nil {
			s.bus.RemovePool(g.pool)
		}
	}
	switch {
	case s.fatal != nil:
		return s.fatal
	case s.mood.Load() == moodRestarting:
		return ErrRestart
	}
	return nil
}

// Giving memory back. The Go runtime keeps the memory a burst of work
// used (a `supervisorctl status` of a thousand processes makes a few
// megabytes of garbage) until a collection lowers its goal, which an
// idle daemon does only every two minutes, and then returns it to the
// system slowly. So once requests have stopped for trimAfter, and they
// allocated trimMin since the last time, the daemon collects and returns
// what is free at once: one timer after activity, none while idle.
const (
	trimAfter = time.Second
	trimMin   = 4 << 20
)

// trim collects garbage and returns the free memory to the system.
func (s *Supervisor) trim() {
	debug.FreeOSMemory()
	s.trimmedAt = heapAllocs()
}

func (s *Supervisor) trimIfWorth() {
	if heapAllocs()-s.trimmedAt >= trimMin {
		s.trim()
	}
}

// heapAllocs is how many bytes the process has allocated so far.
func heapAllocs() uint64 {
	m := [1]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(m[:])
	if m[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m[0].Value.Uint64()
}

// closeOnExec marks every descriptor the process inherited (3 and up)
// close-on-exec; Go opens its own that way.
func closeOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// call runs f on the loop goroutine and waits for it.
func (s *Supervisor) call(ctx context.Context, f func()) error {
	fin := make(chan struct{})
	g := func() {
		f()
		close(fin)
		s.trimTimer.Reset(trimAfter)
	}
	select {
	case s.reqs <- g:
	case <-s.done:
		return status.ErrShutdownState
	case <-ctx.Done():
		return ctx.Err()
	}
	<-fin
	return nil
}

func (s *Supervisor) running() bool { return s.mood.Load() == moodRunning }

func (s *Supervisor) handleSignal(sig os.Signal) {
	n, _ := sig.(syscall.Signal)
	switch n {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		s.logf(slog.LevelWarn, "received %s indicating exit request", signame(n))
		s.mood.Store(moodShutdown)
	case syscall.SIGHUP:
		if s.mood.Load() == moodShutdown {
			s.logf(slog.LevelWarn, "ignored %s indicating restart request (shutdown in progress)", signame(n))
			return
		}
		s.logf(slog.LevelWarn, "received %s indicating restart request", signame(n))
		s.mood.Store(moodRestarting)
	case syscall.SIGUSR2:
		s.logf(slog.LevelInfo, "received %s indicating log reopen request", signame(n))
		s.reopenLogs()
	case syscall.SIGCHLD:
		s.reap()
	default:
		s.logf(LevelBlather, "received %s indicating nothing", signame(n))
	}
}

func (s *Supervisor) reopenLogs() {
	s.logf(slog.LevelInfo, "supervisord logreopen")
	if s.opts.MainLog != nil {
		if err := s.opts.MainLog.Reopen(); err != nil {
			s.logf(slog.LevelError, "could not reopen the main log: %v", err)
		}
	}
	for _, g := range s.groupOrder {
		for _, p := range g.procs {
			if p.out == nil {
				continue
			}
			if err := p.out.reopen(); err != nil {
				s.logf(slog.LevelError, "could not reopen the logs of %s: %v", p.name(), err)
			}
		}
	}
}

// turnBudget and turnTime bound the exits one turn of the loop reaps
// (and so the restarts it forks, one per exit at most) and the
// deadlines it fires. Programs that die as fast as they are forked
// (autorestart=true, startsecs=0, a command that fails at once) would
// otherwise keep reap busy for ever: each restart's child is dead by
// the next wait4, and requests, signals and timers would never be
// served. What is left goes to the next turn through s.more, which
// first serves the requests and signals that wait (serveWaiting), so a
// request waits for one batch at most. Supervisor's semantics are
// unchanged: each exit is still handled, and a restart still forked, in
// the turn that reaps it. The time bound matters on a loaded machine,
// where a fork waits for its child to exec.
const (
	turnBudget = 16
	turnTime   = 5 * time.Millisecond
)

// serveWaiting runs the requests and signals that wait now, before the
// loop goes on with the work of a storm (see turnBudget).
func (s *Supervisor) serveWaiting() {
	for range turnBudget {
		select {
		case f := <-s.reqs:
			f()
		case sig := <-s.opts.Signals:
			s.handleSignal(sig)
		default:
			return
		}
	}
}

// again asks for another turn of work (see turnBudget).
func (s *Supervisor) again() {
	select {
	case s.more <- struct{}{}:
	default:
	}
}

// reap collects the children that have exited, turnBudget of them at
// most (see there): Supervisor's processes, and the orphans that a
// subreaper or PID 1 inherits. A process that restarts is forked before
// anything is written: the main-log lines of its exit and spawn follow
// the fork, in their order and with their times.
func (s *Supervisor) reap() {
	s.holdLog = true
	defer func() {
		s.holdLog = false
		s.writeHeld()
	}()
	start := time.Now()
	for n := 0; ; n++ {
		if n == turnBudget || (n > 0 && time.Since(start) > turnTime) {
			s.again()
			return
		}
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		p, ours := s.pids[pid]
		if ours && p == nil {
			delete(s.pids, pid) // a dropped batch fork
			continue
		}
		if p == nil {
			// An orphan that came to us as the subreaper: supervisord
			// never sees these (they go to init) unless it is PID 1.
			level := slog.LevelDebug
			if s.pid == 1 {
				level = slog.LevelInfo
			}
			_, msg := decodeWaitStatus(ws)
			s.logf(level, "reaped unknown pid %d (%s)", pid, msg)
			continue
		}
		delete(s.pids, pid)
		s.finish(p, ws)
	}
}

// finish ends one run of p: its output is drained, its stdin closed,
// then the state machine hears of the exit.
func (s *Supervisor) finish(p *proc, ws syscall.WaitStatus) {
	p.finish(s.now(), ws)
	// After the exit is published: the pump reads what the pipes hold,
	// then a listener hears of the exit and its stdin closes.
	if p.out != nil {
		p.out.finish()
		p.out = nil
	}
	if p.stdinQ != nil {
		p.stdinQ.end()
		p.stdinQ = nil
	}
	if p.listener == nil {
		p.closeStdin()
	}
	p.stdin, p.stdinFile = -1, nil
	p.listener = nil
	if p.sock != nil {
		p.sock.release(s.log)
		p.sock = nil
	}
	s.settle(p)
}

// settle runs p's transitions until nothing more happens now, then
// schedules its next deadline.
func (s *Supervisor) settle(p *proc) {
	for range 10 {
		st, pid := p.state, p.pid
		p.transition(s.now(), s.running())
		if p.state == st && p.pid == pid {
			break
		}
	}
	s.schedule(p)
}

func (s *Supervisor) transitionAll() {
	var ps []*proc
	for _, g := range s.sortedGroups() {
		ps = append(ps, g.procs...)
	}
	s.settleAll(ps)
}

// settleAll runs the transitions of ps in order, the autostart spawns
// forked ahead in parallel.
func (s *Supervisor) settleAll(ps []*proc) {
	s.spawnBatch(ps)
	for _, p := range ps {
		s.settle(p)
	}
	for _, p := range ps {
		s.dropPre(p)
	}
}

// sortedGroups are the active groups by priority, in the order they
// were added among equals (Supervisor sorts its dict's values stably).
func (s *Supervisor) sortedGroups() []*group {
	gs := slices.Clone(s.groupOrder)
	slices.SortStableFunc(gs, func(a, b *group) int { return a.cfg.Priority - b.cfg.Priority })
	return gs
}

// byPriority are g's processes by priority, config order among equals.
func (g *group) byPriority() []*proc {
	ps := slices.Clone(g.procs)
	slices.SortStableFunc(ps, func(a, b *proc) int { return a.cfg.Priority - b.cfg.Priority })
	return ps
}

func (g *group) unstopped() bool {
	for _, p := range g.procs {
		if !p.state.IsStopped() {
			return true
		}
	}
	return false
}

// stopAll is ProcessGroupBase.stop_all: in descending priority, stop
// what runs and give up on what backs off.
func (s *Supervisor) stopAll(g *group) {
	ps := g.byPriority()
	slices.Reverse(ps)
	for _, p := range ps {
		switch p.state {
		case status.Running, status.Starting:
			p.stop(s.now())
		case status.Backoff:
			p.giveUp(s.now())
		}
		s.schedule(p)
	}
}

// shutdownStep advances an orderly stop (supervisor.md §7.3): groups
// one at a time in descending priority. It reports whether everything
// has stopped.
func (s *Supervisor) shutdownStep() bool {
	if !s.stopping {
		s.stopping = true
		s.bus.Publish(events.NewSupervisorStopping())
		s.stopGroups = s.sortedGroups()
		// Timers of processes that may no longer start are moot now.
		for _, g := range s.groupOrder {
			for _, p := range g.procs {
				s.schedule(p)
			}
		}
	}
	for len(s.stopGroups) > 0 {
		g := s.stopGroups[len(s.stopGroups)-1]
		s.stopAll(g)
		if g.unstopped() {
			break
		}
		s.stopGroups = s.stopGroups[:len(s.stopGroups)-1]
	}
	var names []string
	for _, g := range s.groupOrder {
		for _, p := range g.procs {
			if !p.state.IsStopped() {
				names = append(names, p.name())
			}
		}
	}
	if len(names) == 0 {
		return true
	}
	if now := s.now(); now.Sub(s.lastReport) > 3*time.Second {
		s.logf(slog.LevelInfo, "waiting for %s to die", strings.Join(names, ", "))
		s.lastReport = now
	}
	return false
}

// addGroup is Supervisor.add_process_group: the group becomes active
// with its processes STOPPED; the caller runs the transitions that start
// them.
func (s *Supervisor) addGroup(gc *translate.Group) error {
	if _, ok := s.groups[gc.Name]; ok {
		return status.ErrAlreadyAdded
	}
	g := &group{cfg: gc, procs: make([]*proc, 0, len(gc.Processes))}
	if len(gc.Processes) >= bigGroup {
		g.byName = make(map[string]*proc, len(gc.Processes))
	}
	for _, pc := range gc.Processes {
		p := newProc(pc, s)
		p.groupPriority = gc.Priority
		var err error
		if p.stdoutLog, p.stderrLog, err = s.logPaths(pc); err != nil {
			return fmt.Errorf("creating the logs of %s: %w", pc.Name, err)
		}
		g.procs = append(g.procs, p)
		if g.byName != nil {
			g.byName[pc.Name] = p
		}
	}
	if gc.Type == translate.GroupFCGI && gc.Socket != nil {
		g.sock = &fcgiSocket{cfg: gc.Socket, fd: -1}
		if err := g.sock.check(s.log); err != nil {
			return err
		}
	}
	if gc.Type == translate.GroupEventListener {
		pool, err := s.bus.AddPool(gc)
		if err != nil {
			return err
		}
		g.pool = pool
	}
	s.groups[gc.Name] = g
	s.groupOrder = append(s.groupOrder, g)
	s.bus.Publish(events.NewProcessGroupAdded(gc.Name))
	return nil
}

// removeGroup is Supervisor.remove_process_group.
func (s *Supervisor) removeGroup(name string) error {
	g, ok := s.groups[name]
	if !ok {
		return status.ErrBadName
	}
	if g.unstopped() {
		return status.ErrStillRunning
	}
	for _, p := range g.procs {
		s.unschedule(p)
	}
	if g.pool != nil {
		s.bus.RemovePool(g.pool)
	}
	delete(s.groups, name)
	s.groupOrder = slices.DeleteFunc(s.groupOrder, func(x *group) bool { return x == g })
	s.bus.Publish(events.NewProcessGroupRemoved(name))
	return nil
}

// The effects of the state machine.

func (s *Supervisor) log(level slog.Level, msg string) {
	if !s.holdLog {
		s.logger.Log(context.Background(), level, msg)
		return
	}
	if s.logger.Enabled(context.Background(), level) {
		s.held = append(s.held, slog.NewRecord(time.Now(), level, msg, 0))
	}
}

func (s *Supervisor) logf(level slog.Level, format string, args ...any) {
	if s.logger.Enabled(context.Background(), level) {
		s.log(level, fmt.Sprintf(format, args...))
	}
}

// logNow writes a main-log line at once: for goroutines other than the
// loop's, to which log and logf belong.
func (s *Supervisor) logNow(level slog.Level, format string, args ...any) {
	if s.logger.Enabled(context.Background(), level) {
		s.logger.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

// writeHeld writes the main-log lines held back (holdLog), with the
// times they were made at.
func (s *Supervisor) writeHeld() {
	h := s.logger.Handler()
	for _, r := range s.held {
		h.Handle(context.Background(), r)
	}
	clear(s.held)
	s.held = s.held[:0]
}

func (s *Supervisor) kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

func (s *Supervisor) changed(p *proc, from status.State, expected bool) {
	if p.listener != nil {
		p.listener.SetProcessState(p.state)
	}
	if t := events.StateType(p.state); s.bus.Subscribed(t) {
		s.bus.Publish(events.NewProcessState(events.StateChange{
			Name: p.cfg.Name, Group: p.cfg.Group, From: from, To: p.state,
			Tries: p.backoff, Expected: expected, PID: p.pid,
		}))
	}
	if len(p.waiters) > 0 && !p.isDirty {
		p.isDirty = true
		s.dirty = append(s.dirty, p)
	}
	if p.state == status.Fatal && s.opts.ExitOnFatal && s.fatal == nil && s.exitsOnFatal(p) {
		// The daemon goes down once the transition is over (flush).
		s.fatal = &FatalError{Process: p.cfg.Namespec()}
	}
}

func (s *Supervisor) exitsOnFatal(p *proc) bool {
	if len(s.opts.ExitOnFatalNames) == 0 {
		return true
	}
	for _, n := range s.opts.ExitOnFatalNames {
		if n == p.cfg.Name || n == p.cfg.Group || n == p.cfg.Namespec() || n == p.cfg.Group+":"+p.cfg.Name || n == p.cfg.Group+":*" {
			return true
		}
	}
	return false
}

// flush runs the waiters of the processes whose state changed, and
// starts the shutdown that ExitOnFatal asks for.
func (s *Supervisor) flush() {
	if s.fatal != nil && s.mood.Load() == moodRunning {
		s.logf(LevelCritical, "exiting: %s entered FATAL state and the daemon was told to exit then", s.fatal.Process)
		s.mood.Store(moodShutdown)
	}
	for len(s.dirty) > 0 {
		ps := s.dirty
		s.dirty = nil
		for _, p := range ps {
			p.isDirty = false
			p.runWaiters()
		}
	}
}

// Timers: one heap of process deadlines and one time.Timer for the
// earliest, armed only while something is pending.

type procHeap []*proc

func (h procHeap) Len() int           { return len(h) }
func (h procHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h procHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex = i
	h[j].heapIndex = j
}
func (h *procHeap) Push(x any) {
	p := x.(*proc)
	p.heapIndex = len(*h)
	*h = append(*h, p)
}
func (h *procHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.heapIndex = -1
	return p
}

// schedule puts p's next deadline into the heap.
func (s *Supervisor) schedule(p *proc) {
	d := p.deadline(s.running())
	if p.waitReport() && (d.IsZero() || p.laststopreport.Add(2*time.Second+time.Nanosecond).Before(d)) {
		d = p.laststopreport.Add(2*time.Second + time.Nanosecond)
	}
	if d.IsZero() {
		s.unschedule(p)
		return
	}
	p.due = d
	if p.heapIndex >= 0 {
		heap.Fix(&s.timers, p.heapIndex)
	} else {
		heap.Push(&s.timers, p)
	}
}

func (s *Supervisor) unschedule(p *proc) {
	if p.heapIndex >= 0 {
		heap.Remove(&s.timers, p.heapIndex)
	}
}

// armTimer sets the timer to the earliest deadline, or stops it.
func (s *Supervisor) armTimer() {
	var at time.Time
	if len(s.timers) > 0 {
		at = s.timers[0].due
	}
	if s.stopping {
		if r := s.lastReport.Add(3*time.Second + time.Nanosecond); at.IsZero() || r.Before(at) {
			at = r
		}
	}
	if at.Equal(s.timerAt) {
		return
	}
	s.timerAt = at
	if at.IsZero() {
		s.timer.Stop()
		return
	}
	d := at.Sub(s.now())
	if d < 0 {
		d = 0
	}
	s.timer.Reset(d)
}

// fire runs the transitions that are due, a turn's worth (turnBudget);
// armTimer fires the rest on the next turn.
func (s *Supervisor) fire() {
	now := s.now()
	start := time.Now()
	for n := 0; len(s.timers) > 0 && !s.timers[0].due.After(now); n++ {
		if n == turnBudget || (n > 0 && time.Since(start) > turnTime) {
			return
		}
		p := heap.Pop(&s.timers).(*proc)
		if p.waitReport() {
			p.stopReport(now)
		}
		s.settle(p)
	}
}
