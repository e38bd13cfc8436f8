package sysd

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// spawnErrTooQuick is Supervisor's spawn error for a process that died
// within startsecs (process.py), shown in BACKOFF and FATAL.
const spawnErrTooQuick = "Exited too quickly (process log may have details)"

// micro converts one of systemd's µs timestamps; 0 stays the zero time.
func micro(us uint64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(us))
}

// lastRunFresh bounds the time from the end of the last run the
// compatibility step kept to the start in which it gave up (RestartSec=
// 100 ms, however slow the machine), in µs.
const lastRunFresh = uint64(time.Minute / time.Microsecond)

// supervisorState derives Supervisor's state of a process from its
// service unit (reference/systemd.md §5.3, supervisor.md §7):
//
//	active, up for less than startsecs           STARTING
//	active                                       RUNNING
//	activating (auto-restart), died in startsecs BACKOFF   (Supervisor's retry wait)
//	activating (auto-restart), died later        STARTING  (Supervisor restarts at once)
//	activating (start-pre), the step marks       BACKOFF   (the compatibility step's wait,
//	  a wait                                                or its giving up)
//	activating (auto-restart), no program ran    BACKOFF   (a failed spawn: a missing
//	  in this start, the step marks a wait                  directory)
//	activating (start, start-pre, ...)           STARTING
//	deactivating, no stop or restart job,        BACKOFF   (the unit runs its stop steps
//	  died within startsecs                                 before the restart)
//	deactivating, no program ran in this start,  BACKOFF   (the step gave up or its spawn
//	  the step marks a wait                                 failed; stopped while it waits)
//	deactivating                                 STOPPING
//	inactive, never started                      STOPPED   "Not started"
//	inactive or failed, stopped on request       STOPPED
//	inactive with a failed result                STOPPED   (stopped while waiting to restart: BACKOFF)
//	inactive, success, died within startsecs,    STOPPED   (stopped in the compatibility step's wait)
//	  or never ran since its last start, under
//	  the compatibility step
//	failed by a signal before the program ran    STOPPED   (the step killed by a stop job)
//	inactive or failed, not started since the    STOPPED   "Not started" (supervisord forgets
//	  last ctl reload                                       every process at reload)
//	failed (start-limit-hit)                     FATAL     (startretries used up)
//	failed before the program ran (exit-code)    FATAL     (the compatibility step gave up),
//	                                                        at the last run's times the step kept,
//	                                                        ended before that last start (else 0)
//	activating or deactivating, the step marks   EXITED    (autorestart=false: systemd restarts
//	  a late end (shim.WaitEnded)                           a core dump, an OOM kill or the exit
//	                                                        status forced (the step's own) all the
//	                                                        same; the step refuses that restart)
//	failed before the program ran, the step      EXITED    at the run's times and end the step kept
//	  refused the restart after a late end
//	inactive or failed, died within startsecs    FATAL     (its restart was refused)
//	inactive or failed, the process ended        EXITED
//	not loaded properly (bad-setting, masked)    UNKNOWN
//
// "Stopped on request" is told from "ended by itself" by the order of
// timestamps: on a stop job the unit leaves "active" first and the main
// process dies after (start <= ActiveExitTimestamp < exit); when the
// process ends by itself, its exit is recorded first. A process that
// dies before its unit became active leaves an ActiveExitTimestamp of
// an earlier run, before its start.
func supervisorState(p *translate.Process, st unitState, now time.Time) status.Process {
	out := status.Process{Name: p.Name, Group: p.Group, Start: micro(st.Start)}
	switch st.Load {
	case "loaded":
	default:
		out.State = status.Unknown
		return out
	}
	exitedEarly := st.Exit != 0 && st.Start != 0 && st.Exit >= st.Start &&
		time.Duration(st.Exit-st.Start)*time.Microsecond < p.MinUptime
	switch st.Active {
	case "active", "reloading":
		out.PID = int(st.MainPID)
		out.State = status.Running
		if st.Start != 0 && now.Sub(out.Start) < p.MinUptime {
			out.State = status.Starting
		}
	case "activating":
		out.PID = int(st.MainPID)
		out.State = status.Starting
		if st.Backoff {
			out.PID = 0
			out.State = status.Backoff
			out.SpawnErr = spawnErrTooQuick
		}
		if st.Ended {
			// the restart systemd makes after a late end it counts as
			// a failure, which the compatibility step refuses
			// (autorestart=false): Supervisor's EXITED, no restart
			ended(&out, st)
			return out
		}
		if st.Sub == "auto-restart" {
			out.PID = 0
			out.Stop = micro(st.Exit)
			if exitedEarly {
				out.State = status.Backoff
				out.SpawnErr = spawnErrTooQuick
			} else {
				out.ExitStatus = exitStatus(st) // it ran, ended, and comes back
			}
		}
	case "deactivating":
		out.PID = int(st.MainPID)
		out.State = status.Stopping
		if st.Ended {
			// a late end whose restart the compatibility step refuses
			// (autorestart=false), marked as the unit stops, or the
			// stop of the refused start: Supervisor's EXITED
			ended(&out, st)
			return out
		}
		if st.Job != "stop" && st.Job != "restart" && exitedEarly && st.MainPID == 0 {
			// no stop was asked for: the program died within startsecs
			// and its unit runs its stop steps (the startsecs step
			// killed, ExecStopPost) before the restart. Supervisor is in
			// BACKOFF from the death on, and a stop is accepted there.
			out.PID = 0
			out.Stop = micro(st.Exit)
			out.State = status.Backoff
			out.SpawnErr = spawnErrTooQuick
		}
		if st.Backoff && st.MainPID == 0 {
			// no program ran in this start, and the compatibility step
			// marks a wait: it gave up (Supervisor goes from BACKOFF
			// to FATAL), its spawn failed (a missing directory), or a
			// stop ended its wait (BACKOFF to STOPPED)
			out.PID = 0
			out.State = status.Backoff
			out.SpawnErr = spawnErrTooQuick
		}
	default: // inactive, failed
		out.Stop = micro(st.Exit)
		out.ExitStatus = exitStatus(st)
		switch {
		case st.Reloaded != 0 && max(st.Start, st.InactiveExit) < st.Reloaded:
			// not started since ctl reload (supervisord's restart),
			// which forgets every process: never started
			out.State = status.Stopped
			out.Start, out.Stop, out.ExitStatus = time.Time{}, time.Time{}, 0
		case st.Active == "failed" && st.Start == 0 && st.Ended && st.LastStart != 0 &&
			st.LastStart <= st.LastStop && st.LastStop <= st.InactiveExit && st.InactiveExit-st.LastStop <= lastRunFresh:
			// the compatibility step refused the restart after a late
			// end that systemd counts as a failure whatever
			// SuccessExitStatus= says (autorestart=false): EXITED, at
			// the run's times and end it kept (internal/shim)
			ended(&out, st)
		case st.Active == "failed" && st.Start == 0 && st.Result != "signal" && st.LastStart != 0 &&
			st.LastStart <= st.LastStop && st.LastStop <= st.InactiveExit && st.InactiveExit-st.LastStop <= lastRunFresh:
			// the compatibility step gave up (startretries used up) and
			// kept the times of the program's last run, which systemd
			// cleared as the step's last start began (internal/shim):
			// Supervisor's laststart and laststop. That start (each
			// automatic restart leaves "inactive" anew) follows the
			// run's end by RestartSec=, 100 ms: times that end long
			// before it are an earlier round's
			out.State = status.Fatal
			out.SpawnErr = spawnErrTooQuick
			out.Start, out.Stop = micro(st.LastStart), micro(st.LastStop)
		case st.Active == "failed" && st.Start == 0 && st.Result == "signal":
			// a compatibility step killed by the stop job's SIGTERM
			// before the program ran: a stop in BACKOFF. (The step
			// gives up with an exit status, and its chdir failure is
			// retried whatever autorestart says.)
			out.State = status.Stopped
			out.Start, out.Stop = micro(st.InactiveExit), micro(st.InactiveEnter)
		case st.Active == "failed" && st.Start == 0:
			// failed before the program ran: the compatibility step's
			// verdict (startretries used up), or its chdir check under
			// autorestart=false (internal/shim)
			out.State = status.Fatal
			out.SpawnErr = spawnErrTooQuick
		case st.Start == 0 && st.Active == "inactive" && st.InactiveEnter != 0 && st.InactiveExit != 0:
			// stopped while the compatibility step waited out a
			// backoff (Supervisor's BACKOFF, then stop): STOPPED at
			// the time it stopped, started when the unit was (its
			// program's own times were cleared as the start began)
			out.State = status.Stopped
			out.Start, out.Stop = micro(st.InactiveExit), micro(st.InactiveEnter)
		case st.Start == 0:
			out.State = status.Stopped
		case st.Result == "start-limit-hit":
			out.State = status.Fatal
			out.SpawnErr = spawnErrTooQuick
		case st.ActiveExit >= st.Start && st.ActiveExit < st.Exit:
			out.State = status.Stopped
		case st.Active == "inactive" && st.Result != "" && st.Result != "success":
			// a stop job during auto-restart (Supervisor's BACKOFF)
			// cancels the restart and leaves the unit inactive with the
			// result of its last run; on its own, a unit whose run
			// failed ends "failed" (reference/systemd.md §5.3)
			out.State = status.Stopped
		case exitedEarly && st.Active == "inactive" && (st.Result == "" || st.Result == "success"):
			// under the compatibility step a death within startsecs
			// restarts, whatever autorestart says, until the step gives
			// up, which ends the unit failed; inactive with success is a
			// stop during its backoff wait (internal/shim): Supervisor's
			// BACKOFF stopped. (Units converted with --shim=, under
			// autorestart=false or with exitcodes that make such a death
			// a success, read STOPPED here too, not FATAL.)
			out.State = status.Stopped
		case exitedEarly:
			// it died within startsecs and is not coming back: the
			// restart was refused by the start limit (systemd keeps
			// Result=exit-code then) or there is no restart
			out.State = status.Fatal
			out.SpawnErr = spawnErrTooQuick
			out.ExitStatus = 0 // Supervisor keeps none for a process that exited too quickly
		default:
			out.State = status.Exited
		}
		if out.State == status.Fatal && st.Result == "start-limit-hit" {
			out.ExitStatus = 0
		}
	}
	return out
}

// ended fills out as Supervisor's EXITED for a unit whose compatibility
// step refuses the restart after its program's late end (st.Ended): the
// program's own times and end while systemd still has them, else those
// the step kept.
func ended(out *status.Process, st unitState) {
	out.PID = 0
	out.State = status.Exited
	out.SpawnErr = ""
	if st.Start != 0 && st.Code != 0 {
		out.Start, out.Stop, out.ExitStatus = micro(st.Start), micro(st.Exit), exitStatus(st)
		return
	}
	out.Start, out.Stop = micro(st.LastStart), micro(st.LastStop)
	out.ExitStatus = exitStatus(unitState{Code: st.LastCode, Status: st.LastStatus})
}

// exitStatus is Supervisor's exitstatus of the last run (decode_wait_status):
// the exit code, or -1 for a death by a signal.
func exitStatus(st unitState) int {
	switch st.Code {
	case 1: // CLD_EXITED
		return int(st.Status)
	case 2, 3: // CLD_KILLED, CLD_DUMPED
		return -1
	}
	return 0
}

// logPath is where a process's channel is written when the units keep
// log files (convert --log-files), as unitgen decides: "" for the
// journal.
func (m *Manager) logPath(l translate.Log) string {
	if !m.opts.LogFiles || l.Kind != translate.LogFile {
		return ""
	}
	switch l.Path {
	case "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "syslog":
		return ""
	}
	if filepath.IsAbs(l.Path) {
		return l.Path
	}
	return filepath.Join(m.opts.Load.Dir, l.Path)
}

// active is the processes of the groups whose units are loaded, with
// their states, in config order.
type active struct {
	procs  []*proc
	states []status.Process
	groups []string
}

// snapshot reads the state of every configured process's unit and keeps
// those of active groups: a group is active (Supervisor: "in use") when
// any of its service units is loaded and RemoveGroup did not take it out.
func (m *Manager) snapshot(ctx context.Context) (*active, error) {
	m.mu.Lock()
	procs, staleDone := m.procs, m.staleDone
	m.mu.Unlock()
	sts, dir, err := m.readProcs(ctx, procs, !staleDone)
	if err != nil {
		return nil, err
	}
	if !staleDone {
		// the first look also finds the groups whose sections are gone
		// (stale.go), in the directory the anchor was loaded from
		if dir == "" {
			m.setStaleDone() // no anchor loaded: no units of this config
		} else if err := m.findStale(ctx, dir); err != nil {
			return nil, err
		}
		m.mu.Lock()
		more := len(m.procs) > len(procs)
		procs = m.procs
		m.mu.Unlock()
		if more {
			if sts, _, err = m.readProcs(ctx, procs, false); err != nil {
				return nil, err
			}
		}
	}
	m.mu.Lock()
	removed, cfg := m.removed, m.cfg
	m.mu.Unlock()
	now := m.now()
	inUse := make(map[*translate.Group]bool, len(cfg.Groups))
	for i, p := range procs {
		if sts[i].Load != "not-found" && !removed[p.g.Name] {
			inUse[p.g] = true
		}
	}
	a := &active{procs: make([]*proc, 0, len(procs)), states: make([]status.Process, 0, len(procs)), groups: make([]string, 0, len(cfg.Groups))}
	for _, g := range cfg.Groups {
		if inUse[g] {
			a.groups = append(a.groups, g.Name)
		}
	}
	for i, p := range procs {
		if !inUse[p.g] || sts[i].Load == "not-found" {
			// a process of a group in use that has no unit yet (the
			// config gave the group a process, numprocs more ones) is
			// not in use, as under supervisord until update adds it
			continue
		}
		a.procs = append(a.procs, p)
		a.states = append(a.states, m.process(p, sts[i], now))
	}
	return a, nil
}

// readProcs reads the units of procs (see readUnits for withDir).
func (m *Manager) readProcs(ctx context.Context, procs []*proc, withDir bool) ([]unitState, string, error) {
	if len(procs) == 0 && !withDir {
		return nil, "", nil
	}
	units := make([]string, len(procs))
	for i, p := range procs {
		units[i] = p.unit
	}
	m.wmu.Lock()
	pre := m.pre
	m.pre = nil
	m.wmu.Unlock()
	if pre != nil {
		if sts, dir, ok := pre.lookup(units); ok {
			m.markBackoff(units, sts)
			return sts, dir, nil
		}
	}
	return m.readUnits(ctx, units, withDir)
}

// process is the status of p from its unit's state.
func (m *Manager) process(p *proc, st unitState, now time.Time) status.Process {
	s := supervisorState(p.p, st, now)
	if s.State == status.Backoff || s.State == status.Fatal {
		// supervisord shows why it could not spawn the program (its
		// spawnerr) where it can tell: a command it cannot parse or find.
		dir := m.opts.Load.Dir
		if p.p.Dir != nil {
			dir = *p.p.Dir
		}
		if ex := translate.ResolveExec(p.p, m.opts.Load.Environ, dir); ex.Err != "" {
			s.SpawnErr = ex.Err
		}
	}
	s.StdoutLog = m.logPath(p.p.Stdout)
	if !p.p.RedirectStderr {
		s.StderrLog = m.logPath(p.p.Stderr)
	}
	return s
}

// GroupProcesses is Processes for one group, reading only its units
// (xmlrpc.GroupReader): `restart web` need not read a thousand units.
func (m *Manager) GroupProcesses(ctx context.Context, group string) ([]status.Process, error) {
	m.mu.Lock()
	procs, removed := m.procs, m.removed[group]
	m.mu.Unlock()
	if removed {
		return nil, nil
	}
	var mine []*proc
	var units []string
	for _, p := range procs {
		if p.g.Name == group {
			mine = append(mine, p)
			units = append(units, p.unit)
		}
	}
	if len(mine) == 0 {
		m.mu.Lock()
		done := m.staleDone
		m.mu.Unlock()
		if done {
			return nil, nil
		}
		if err := m.findStale(ctx, ""); err != nil {
			return nil, err
		}
		return m.GroupProcesses(ctx, group)
	}
	sts, err := m.read(ctx, units)
	if err != nil {
		return nil, err
	}
	inUse := false
	for _, st := range sts {
		inUse = inUse || st.Load != "not-found"
	}
	if !inUse {
		return nil, nil
	}
	now := m.now()
	out := make([]status.Process, len(mine))
	for i, p := range mine {
		out[i] = m.process(p, sts[i], now)
	}
	return out, nil
}

// Processes returns the status of every process of every active group,
// in config order (Supervisor's priority order).
func (m *Manager) Processes(ctx context.Context) ([]status.Process, error) {
	a, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return a.states, nil
}

// Groups returns the names of the active groups.
func (m *Manager) Groups(ctx context.Context) ([]string, error) {
	a, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return a.groups, nil
}

// stepWaits reports whether the compatibility step of unit marks a
// backoff wait or its giving up (shim.WaitFile) in the unit's state
// directory, and whether it marks a late end whose restart it refuses
// (shim.WaitEnded). Where there is no mark, the steps running were
// started by an older supersede, which marked nothing: in start-pre
// (inStep) their count of failed starts tells the wait, as it did then.
func (m *Manager) stepWaits(unit string, inStep bool) (backoff, ended bool) {
	rt := m.runtimeDir()
	if rt == "" {
		return false, false
	}
	switch shim.ReadWait(filepath.Join(rt, strings.TrimSuffix(unit, ".service"))) {
	case shim.WaitBackoff, shim.WaitGiveUp:
		return true, false
	case shim.WaitEnded:
		return false, true
	case "":
		return inStep && m.failedStarts(unit) > 0, false
	}
	return false, false
}

// state is the status of one process.
func (m *Manager) state(ctx context.Context, p *proc) (status.Process, unitState, error) {
	sts, err := m.read(ctx, []string{p.unit})
	if err != nil {
		return status.Process{}, unitState{}, err
	}
	return supervisorState(p.p, sts[0], m.now()), sts[0], nil
}
