package fallback

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// Supervisor's log levels beyond slog's four (loggers.LevelsByName):
// CRIT above Error, TRAC and BLAT below Debug. The main log's handler
// names them CRIT, ERRO, WARN, INFO, DEBG, TRAC and BLAT.
const (
	LevelCritical = slog.Level(12)
	LevelTrace    = slog.Level(-8)
	LevelBlather  = slog.Level(-12)
)

// effects is what the state machine asks of the world. The Supervisor
// implements it with real processes; the tests record the calls.
type effects interface {
	// spawn starts p's command and returns its pid, or Supervisor's
	// spawn error text (command not found, pipes or fork failed).
	spawn(p *proc) (pid int, spawnerr string)
	// kill sends sig to pid (a negative pid is a process group).
	kill(pid int, sig syscall.Signal) error
	// log writes one line of the main log.
	log(level slog.Level, msg string)
	// changed reports that p went from one state to p.state. expected
	// is false only for an unexpected exit (EXITED).
	changed(p *proc, from status.State, expected bool)
}

// proc is one supervised process: its configuration and the state of
// Supervisor's Subprocess (supervisor.md §7). Its methods are the state
// machine, written after supervisor/process.py so that each transition,
// delay and log line is Supervisor's. They do no I/O of their own: they
// call fx, and they take the time as an argument, so tests drive them
// with a fake clock.
type proc struct {
	cfg *translate.Process
	fx  effects

	state          status.State
	pid            int       // 0 when not running
	laststart      time.Time // zero: never started
	laststop       time.Time // zero: never stopped
	laststopreport time.Time
	delay          time.Time // when to act next (start, promote, kill); zero: nothing pending
	backoff        int       // BACKOFF entries since the last success
	killing        bool      // a stop or kill signal was sent
	lastKill       time.Time // when stopwaitsecs ran out and SIGKILL was sent
	exitstatus     int       // the last exit status; -1 after death by a signal
	spawnerr       string    // why the last start failed

	administrativeStop bool // stopped on request
	systemStop         bool // given up by the daemon

	// Bookkeeping of the Supervisor that drives the machine.
	heapIndex     int              // position in the timer heap; -1 when not in it
	due           time.Time        // the deadline the heap holds for this process
	stdoutLog     string           // log files, fixed while the group is active
	stderrLog     string           //
	out           *runOutput       // the child's stdout and stderr while it runs
	stdin         int              // our end of the child's stdin pipe while it runs; -1: none
	stdinFile     *os.File         // stdin as a file, made when first written to
	stdinQ        *stdinQueue      // what sendProcessStdin queued, while it runs
	listener      *events.Listener // while an event listener runs
	pre           *prepared        // a child forked ahead, for spawn to take
	groupPriority int              // the priority of the group it runs in
	sock          *fcgiSocket      // the fcgi socket the child holds
	waiters       []*waiter        // RPCs waiting for a state
	isDirty       bool             // in the Supervisor's list of changed processes
}

// waiter is a request waiting for a process to reach a state.
type waiter struct {
	check  func(p *proc) (done bool, err error)
	res    chan error // buffered: the loop never blocks on it
	report bool       // log "waiting for x to stop" while STOPPING
}

// runWaiters answers the waiters whose wait is over.
func (p *proc) runWaiters() {
	keep := p.waiters[:0]
	for _, w := range p.waiters {
		if done, err := w.check(p); done {
			w.res <- err
			continue
		}
		keep = append(keep, w)
	}
	clear(p.waiters[len(keep):])
	p.waiters = keep
}

// waitReport reports whether a stop waiter wants "waiting for x to stop".
func (p *proc) waitReport() bool {
	if p.state != status.Stopping {
		return false
	}
	for _, w := range p.waiters {
		if w.report {
			return true
		}
	}
	return false
}

func newProc(cfg *translate.Process, fx effects) *proc {
	return &proc{cfg: cfg, fx: fx, state: status.Stopped, heapIndex: -1, stdin: -1}
}

func (p *proc) name() string { return p.cfg.Name }

func (p *proc) logf(level slog.Level, format string, args ...any) {
	p.fx.log(level, fmt.Sprintf(format, args...))
}

// changeState is Subprocess.change_state.
func (p *proc) changeState(to status.State, now time.Time, expected bool) {
	from := p.state
	if to == from {
		return
	}
	p.state = to
	if to == status.Backoff {
		p.backoff++
		p.delay = now.Add(time.Duration(p.backoff) * time.Second)
	}
	p.fx.changed(p, from, expected)
}

// recordSpawnerr is Subprocess.record_spawnerr.
func (p *proc) recordSpawnerr(msg string) {
	p.spawnerr = msg
	p.fx.log(slog.LevelInfo, "spawnerr: "+msg)
}

// spawn is Subprocess.spawn: STARTING, then the child runs, or BACKOFF
// with the spawn error. The process must be in a stopped state or
// BACKOFF.
func (p *proc) spawn(now time.Time) {
	if p.pid != 0 {
		p.logf(slog.LevelWarn, "process '%s' already running", p.name())
		return
	}
	p.killing = false
	p.lastKill = time.Time{}
	p.spawnerr = ""
	p.exitstatus = 0
	p.systemStop = false
	p.administrativeStop = false
	p.laststart = now
	switch p.state {
	case status.Exited, status.Fatal, status.Backoff, status.Stopped:
	default:
		p.logf(LevelCritical, "spawn of %s in state %s", p.name(), p.state)
		return
	}
	p.changeState(status.Starting, now, true)
	pid, msg := p.fx.spawn(p)
	if msg != "" {
		p.recordSpawnerr(msg)
		p.changeState(status.Backoff, now, true)
		return
	}
	p.pid = pid
	p.logf(slog.LevelInfo, "spawned: '%s' with pid %d", p.name(), pid)
	p.spawnerr = ""
	p.delay = now.Add(p.cfg.MinUptime)
}

// stop is Subprocess.stop: an administrative stop with stopsignal.
func (p *proc) stop(now time.Time) string {
	p.administrativeStop = true
	p.laststopreport = time.Time{}
	return p.kill(now, p.cfg.StopSignal)
}

// stopReport is Subprocess.stop_report: "waiting for x to stop", at
// most every 2 seconds.
func (p *proc) stopReport(now time.Time) {
	if p.state == status.Stopping && now.Sub(p.laststopreport) > 2*time.Second {
		p.logf(slog.LevelInfo, "waiting for %s to stop", p.name())
		p.laststopreport = now
	}
}

// giveUp is Subprocess.give_up: BACKOFF to FATAL.
func (p *proc) giveUp(now time.Time) {
	p.delay = time.Time{}
	p.backoff = 0
	p.systemStop = true
	if p.state != status.Backoff {
		return
	}
	p.changeState(status.Fatal, now, true)
}

// kill is Subprocess.kill: send sig meaning to stop the process. It
// returns "" when the signal was sent (or the process was in BACKOFF and
// is now STOPPED), else the error text.
func (p *proc) kill(now time.Time, sig syscall.Signal) string {
	if p.state == status.Backoff {
		p.logf(slog.LevelDebug, "Attempted to kill %s, which is in BACKOFF state.", p.name())
		p.changeState(status.Stopped, now, true)
		return ""
	}
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to kill %s with sig %s but it wasn't running", p.name(), signame(sig))
		p.fx.log(slog.LevelDebug, msg)
		return msg
	}
	asGroup := p.cfg.StopAsGroup
	if p.state == status.Stopping {
		asGroup = p.cfg.KillAsGroup
	}
	how := ""
	if asGroup {
		how = "process group "
	}
	p.logf(slog.LevelDebug, "killing %s (pid %d) %swith signal %s", p.name(), p.pid, how, signame(sig))
	switch p.state {
	case status.Running, status.Starting, status.Stopping:
	default:
		msg := fmt.Sprintf("cannot kill %s in state %s", p.name(), p.state)
		p.fx.log(LevelCritical, msg)
		return msg
	}
	p.killing = true
	p.delay = now.Add(p.cfg.StopWait)
	p.changeState(status.Stopping, now, true)
	target := p.pid
	if asGroup {
		target = -p.pid
	}
	if err := p.fx.kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			// The reap will follow.
			p.logf(slog.LevelDebug, "unable to signal %s (pid %d), it probably just exited on its own: %v", p.name(), p.pid, err)
			return ""
		}
		msg := fmt.Sprintf("unknown problem killing %s (%d):%v", p.name(), p.pid, err)
		p.fx.log(LevelCritical, msg)
		p.changeState(status.Unknown, now, true)
		p.killing = false
		p.delay = time.Time{}
		return msg
	}
	return ""
}

// signal is Subprocess.signal: send sig without meaning to stop the
// process. It returns "" or the error text.
func (p *proc) signal(now time.Time, sig syscall.Signal) string {
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to send %s sig %s but it wasn't running", p.name(), signame(sig))
		p.fx.log(slog.LevelDebug, msg)
		return msg
	}
	p.logf(slog.LevelDebug, "sending %s (pid %d) sig %s", p.name(), p.pid, signame(sig))
	if !p.state.IsSignallable() {
		msg := fmt.Sprintf("cannot signal %s in state %s", p.name(), p.state)
		p.fx.log(LevelCritical, msg)
		return msg
	}
	if err := p.fx.kill(p.pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			p.logf(slog.LevelDebug, "unable to signal %s (pid %d), it probably just now exited on its own: %v", p.name(), p.pid, err)
			return ""
		}
		msg := fmt.Sprintf("unknown problem sending sig %s (%d):%v", p.name(), p.pid, err)
		p.fx.log(LevelCritical, msg)
		p.changeState(status.Unknown, now, true)
		return msg
	}
	return ""
}

// finish is Subprocess.finish: the child was reaped with status ws.
func (p *proc) finish(now time.Time, ws syscall.WaitStatus) {
	es, msg := decodeWaitStatus(ws)
	p.laststop = now
	tooQuickly := now.Sub(p.laststart) < p.cfg.MinUptime
	expected := exitExpected(p.cfg, es)
	switch {
	case p.killing:
		// STOPPING -> STOPPED, the end of a stop request.
		p.killing = false
		p.delay = time.Time{}
		p.exitstatus = es
		p.changeState(status.Stopped, now, true)
		level := slog.LevelWarn
		if expected {
			level = slog.LevelInfo
		}
		p.logf(level, "stopped: %s (%s)", p.name(), msg)
	case tooQuickly:
		// STARTING -> BACKOFF: it did not stay up for startsecs.
		p.exitstatus = 0
		p.spawnerr = "Exited too quickly (process log may have details)"
		p.changeState(status.Backoff, now, true)
		p.logf(slog.LevelWarn, "exited: %s (%s; not expected)", p.name(), msg)
	default:
		// RUNNING -> EXITED; a STARTING process the loop had not yet
		// promoted passes through RUNNING.
		p.delay = time.Time{}
		p.backoff = 0
		p.exitstatus = es
		if p.state == status.Starting {
			p.changeState(status.Running, now, true)
		}
		if expected {
			p.changeState(status.Exited, now, true)
			p.logf(slog.LevelInfo, "exited: %s (%s; expected)", p.name(), msg)
		} else {
			p.spawnerr = fmt.Sprintf("Bad exit code %d", es)
			p.changeState(status.Exited, now, false)
			p.logf(slog.LevelWarn, "exited: %s (%s; not expected)", p.name(), msg)
		}
	}
	p.pid = 0
}

// transition is Subprocess.transition, what Supervisor's main loop does
// for each process on every iteration. running is whether the daemon is
// RUNNING (not shutting down or restarting): only then are processes
// started.
func (p *proc) transition(now time.Time, running bool) {
	state := p.state
	if running {
		switch state {
		case status.Exited:
			switch p.cfg.AutoRestart {
			case translate.RestartAlways:
				p.spawn(now)
			case translate.RestartUnexpected:
				if !exitExpected(p.cfg, p.exitstatus) {
					p.spawn(now)
				}
			}
		case status.Stopped:
			if p.laststart.IsZero() && p.cfg.AutoStart {
				p.spawn(now)
			}
		case status.Backoff:
			if p.backoff <= p.cfg.StartRetries && now.After(p.delay) {
				p.spawn(now)
			}
		}
	}
	switch state {
	case status.Starting:
		if now.Sub(p.laststart) > p.cfg.MinUptime {
			p.delay = time.Time{}
			p.backoff = 0
			p.changeState(status.Running, now, true)
			p.logf(slog.LevelInfo, "success: %s entered RUNNING state, process has stayed up for > than %d seconds (startsecs)", p.name(), int64(p.cfg.MinUptime/time.Second))
		}
	case status.Backoff:
		if p.backoff > p.cfg.StartRetries {
			p.giveUp(now)
			p.logf(slog.LevelInfo, "gave up: %s entered FATAL state, too many start retries too quickly", p.name())
		}
	case status.Stopping:
		if !now.Before(p.killDue()) {
			p.logf(slog.LevelWarn, "killing '%s' (%d) with SIGKILL", p.name(), p.pid)
			p.lastKill = now
			p.kill(now, syscall.SIGKILL)
		}
	}
}

// killDue is when a STOPPING process gets SIGKILL: stopwaitsecs after
// the last signal, but a second at least between two SIGKILLs (with
// stopwaitsecs=0 Supervisor's idle loop sends one a second, not in a
// busy loop).
func (p *proc) killDue() time.Time {
	if !p.lastKill.IsZero() {
		if again := p.lastKill.Add(time.Second); again.After(p.delay) {
			return again
		}
	}
	return p.delay
}

// deadline is when transition has something to do for p without any
// other event: promote STARTING, retry BACKOFF, give up on it, escalate
// STOPPING. It is zero when p only waits for events.
func (p *proc) deadline(running bool) time.Time {
	switch p.state {
	case status.Starting:
		if p.pid != 0 {
			// strictly more than startsecs
			return p.laststart.Add(p.cfg.MinUptime + time.Nanosecond)
		}
	case status.Backoff:
		if p.backoff > p.cfg.StartRetries {
			return p.delay // give up now; any time not after now will do
		}
		if running {
			return p.delay.Add(time.Nanosecond)
		}
	case status.Stopping:
		if p.pid != 0 {
			return p.killDue()
		}
	}
	return time.Time{}
}

// exitExpected reports whether es is in exitcodes.
func exitExpected(cfg *translate.Process, es int) bool {
	for _, c := range cfg.ExitCodes {
		if c == es {
			return true
		}
	}
	return false
}

// decodeWaitStatus is Supervisor's decode_wait_status: the exit status
// (-1 after a signal) and the text the log shows.
func decodeWaitStatus(ws syscall.WaitStatus) (int, string) {
	switch {
	case ws.Exited():
		return ws.ExitStatus(), fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		msg := "terminated by " + signame(ws.Signal())
		if ws.CoreDump() {
			msg += " (core dumped)"
		}
		return -1, msg
	}
	return -1, fmt.Sprintf("unknown termination cause 0x%04x", uint32(ws))
}

// signame is Supervisor's signame: the name Python's signal module
// gives the number ("SIGTERM"), or "signal N".
func signame(sig syscall.Signal) string {
	switch sig {
	case 29:
		return "SIGPOLL" // Python's module lists SIGPOLL after SIGIO
	case 0:
		return "signal 0"
	}
	n := translate.SignalName(sig)
	if n != "" && (n[0] < '0' || n[0] > '9') {
		return "SIG" + n
	}
	return fmt.Sprintf("signal %d", int(sig))
}
