package sysd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// pollEvery is how often WaitStarted and WaitStopped look at a unit.
const pollEvery = 20 * time.Millisecond

// job runs one job (StartUnit, StopUnit, ...) and returns systemd's
// result for it: "done", "failed", "canceled", "timeout", "dependency"
// or "skipped" (reference/systemd.md §5.3).
func (m *Manager) job(ctx context.Context, kind, unit string) (string, error) {
	c, err := m.jobs()
	if err != nil {
		return "", err
	}
	ch := make(chan string, 1) // buffered: go-systemd writes it from its signal loop
	switch kind {
	case "start":
		_, err = c.StartUnitContext(ctx, unit, "replace", ch)
	case "stop":
		_, err = c.StopUnitContext(ctx, unit, "replace", ch)
	case "restart":
		_, err = c.RestartUnitContext(ctx, unit, "replace", ch)
	default:
		return "", fmt.Errorf("unknown job %q", kind)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", kind, unit, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// enqueue queues a job without waiting for its result.
func (m *Manager) enqueue(ctx context.Context, kind, unit string) error {
	c, err := m.jobs()
	if err != nil {
		return err
	}
	switch kind {
	case "start":
		_, err = c.StartUnitContext(ctx, unit, "replace", nil)
	case "stop":
		_, err = c.StopUnitContext(ctx, unit, "replace", nil)
	case "restart":
		_, err = c.RestartUnitContext(ctx, unit, "replace", nil)
	default:
		err = fmt.Errorf("unknown job %q", kind)
	}
	return err
}

// resetFailed clears a unit's failed state and its start-limit count.
func (m *Manager) resetFailed(ctx context.Context, unit string) error {
	c, err := m.jobs()
	if err != nil {
		return err
	}
	return c.ResetFailedUnitContext(ctx, unit)
}

// procOf finds a process of an active group: a configured one, or one
// whose section left the configuration while its unit stays (stale.go).
func (m *Manager) procOf(ctx context.Context, group, name string) (*proc, error) {
	p, ok := m.lookup(group, name)
	if !ok {
		if err := m.findStale(ctx, ""); err != nil {
			return nil, err
		}
		p, ok = m.lookup(group, name)
	}
	m.mu.Lock()
	gone := m.removed[group]
	m.mu.Unlock()
	if !ok || gone {
		return nil, status.ErrBadName
	}
	return p, nil
}

// Start starts a process's unit (startProcess, first half). As
// supervisord checks the command before it forks, Start checks it here
// and refuses with Supervisor's NO_FILE or NOT_EXECUTABLE message. A unit
// that ended failed (FATAL after its start limit) is reset first:
// systemd refuses to start it until reset-failed, where Supervisor
// starts a FATAL process again on request.
func (m *Manager) Start(ctx context.Context, group, name string) error {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return err
	}
	env := m.opts.Load.Environ
	if env == nil {
		env = os.Environ()
	}
	if ex := translate.ResolveExec(p.p, env, m.opts.Load.Dir); ex.Err != "" {
		kind := status.ErrNotExecutable
		if ex.Kind == "NotFound" {
			kind = status.ErrNoFile
		}
		return &status.Error{Kind: kind, Detail: ex.Err}
	}
	cur, st, err := m.state(ctx, p)
	if err != nil {
		return err
	}
	if cur.State.IsRunning() {
		return status.ErrAlreadyStarted
	}
	if cur.State == status.Unknown {
		return &status.Error{Kind: status.ErrFailed, Detail: fmt.Sprintf("%s is in an unknown process state (unit %s is %s)", p.p.Namespec(), p.unit, st.Load)}
	}
	// Supervisor starts a FATAL process on request and counts only its
	// own retries: reset-failed clears systemd's failed state and its
	// start-limit count, which counts manual starts too (a fifth
	// `restart` within startsecs × startretries would be refused)
	if err := m.resetFailed(ctx, p.unit); err != nil && st.Active == "failed" {
		return fmt.Errorf("reset-failed %s: %w", p.unit, err)
	}
	res, err := m.job(ctx, "start", p.unit)
	if err != nil {
		return err
	}
	if res != "done" {
		return status.ErrSpawnError
	}
	return nil
}

// WaitStarted waits until a started process has been up for startsecs
// (RUNNING) and returns nil; status.ErrSpawnError if it died sooner
// (BACKOFF, FATAL), status.ErrAbnormalTermination if it left otherwise.
// After a quick death it waits on until systemd has either restarted it
// or given up (FATAL), so that a status right after shows where it
// ended, as supervisorctl's does.
func (m *Manager) WaitStarted(ctx context.Context, group, name string) error {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return err
	}
	spawnErr := false
	return m.poll(ctx, p, func(cur status.Process) (bool, error) {
		switch cur.State {
		case status.Running:
			if spawnErr {
				return true, status.ErrSpawnError
			}
			return true, nil
		case status.Fatal:
			return true, status.ErrSpawnError
		case status.Backoff:
			spawnErr = true
		case status.Starting:
		case status.Exited:
			if !spawnErr && !cur.Start.IsZero() && cur.Stop.Sub(cur.Start) >= p.p.MinUptime {
				// it ran startsecs (Supervisor's RUNNING) and has ended
				// since, before this look: on a loaded machine the
				// start job's end and this read can come after a short
				// program's exit. supervisord's wait saw RUNNING.
				return true, nil
			}
			return true, status.ErrAbnormalTermination
		default:
			if spawnErr {
				return true, status.ErrSpawnError
			}
			return true, status.ErrAbnormalTermination
		}
		return false, nil
	})
}

// poll reads a process's state until done says it is done, every
// pollEvery, and sooner when startsecs is about to pass: systemd has no
// signal for "still up after N s".
func (m *Manager) poll(ctx context.Context, p *proc, done func(status.Process) (bool, error)) error {
	for {
		cur, _, err := m.state(ctx, p)
		if err != nil {
			return err
		}
		if ok, err := done(cur); ok {
			return err
		}
		wait := pollEvery
		if !cur.Start.IsZero() {
			if left := time.Until(cur.Start.Add(p.p.MinUptime)); left > 0 && left < wait {
				wait = left + time.Millisecond
			}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// live finds a process that is in a state ok accepts (else
// status.ErrNotRunning) and returns it with the connection for jobs.
func (m *Manager) live(ctx context.Context, group, name string, ok func(status.State) bool) (*proc, *sd.Conn, error) {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return nil, nil, err
	}
	cur, _, err := m.state(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if !ok(cur.State) {
		return nil, nil, status.ErrNotRunning
	}
	c, err := m.jobs()
	return p, c, err
}

// Stop queues a stop job for a running process (stopProcess, first
// half); WaitStopped waits for its end. systemd sends the stop signal
// and, after TimeoutStopSec (stopwaitsecs), SIGKILL.
func (m *Manager) Stop(ctx context.Context, group, name string) error {
	p, c, err := m.live(ctx, group, name, status.State.IsRunning)
	if err != nil {
		return err
	}
	if err := m.pastDeath(ctx, p); err != nil {
		return err
	}
	ch := make(chan string, 1)
	if _, err := c.StopUnitContext(ctx, p.unit, "replace", ch); err != nil {
		return &status.Error{Kind: status.ErrFailed, Detail: fmt.Sprintf("stop %s: %v", p.unit, err)}
	}
	m.mu.Lock()
	m.stopJobs[p.unit] = ch
	m.mu.Unlock()
	return nil
}

// pastDeath waits while p's unit runs its stop steps after a death with
// no job queued (Supervisor's BACKOFF, state.go), so that a stop lands
// in the restart wait (auto-restart, or the compatibility step's
// backoff), where systemd cancels the restart and the unit ends
// inactive: STOPPED. A stop queued during those steps would end the
// unit failed, like a start the step gave up on (FATAL). The steps are
// short (ExecStopPost); ctx bounds the wait.
func (m *Manager) pastDeath(ctx context.Context, p *proc) error {
	for {
		_, st, err := m.state(ctx, p)
		if err != nil {
			return err
		}
		if st.Active != "deactivating" || st.Job == "stop" || st.Job == "restart" {
			return nil
		}
		select {
		case <-time.After(pollEvery / 4):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitStopped waits for the stop job Stop queued, or, without one, until
// the unit is in a stopped state.
func (m *Manager) WaitStopped(ctx context.Context, group, name string) error {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return err
	}
	m.mu.Lock()
	ch := m.stopJobs[p.unit]
	delete(m.stopJobs, p.unit)
	m.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return m.poll(ctx, p, func(cur status.Process) (bool, error) {
		return cur.State.IsStopped(), nil
	})
}

// Signal sends sig to the main process of a process's unit
// (signalProcess), as supervisord signals its child.
func (m *Manager) Signal(ctx context.Context, group, name string, sig syscall.Signal) error {
	p, c, err := m.live(ctx, group, name, status.State.IsSignallable)
	if err != nil {
		return err
	}
	if err := c.KillUnitWithTarget(ctx, p.unit, sd.Main, int32(sig)); err != nil {
		return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
	}
	return nil
}

// ClearLogs empties a process's log files when the units keep them
// (convert --log-files): the unit appends, so truncating in place is
// what Supervisor's remove-and-reopen amounts to. The journal cannot be
// cleared per unit: status.ErrFailed.
func (m *Manager) ClearLogs(ctx context.Context, group, name string) error {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return err
	}
	logs := []translate.Log{p.p.Stdout}
	if !p.p.RedirectStderr {
		logs = append(logs, p.p.Stderr)
	}
	for _, l := range logs {
		if l.Kind == translate.LogNone && !l.Syslog {
			continue // no log: nothing to clear, as under Supervisor
		}
		path := m.logPath(l)
		if path == "" {
			return status.ErrFailed // the journal keeps it
		}
		if err := os.Truncate(path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return status.ErrFailed
		}
	}
	return nil
}

// WriteStdin cannot reach a unit's standard input (it is /dev/null or a
// socket): status.ErrNoFile, Supervisor's answer for a closed stdin.
func (m *Manager) WriteStdin(ctx context.Context, group, name string, data []byte) error {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return err
	}
	cur, _, err := m.state(ctx, p)
	if err != nil {
		return err
	}
	if cur.PID == 0 || cur.State == status.Stopping {
		return status.ErrNotRunning
	}
	return status.ErrNoFile
}

// SendRemoteComm has no event listeners to reach under systemd; the
// event is dropped as supervisord drops one nobody subscribed to.
func (m *Manager) SendRemoteComm(ctx context.Context, typ, data string) error { return nil }

// MainLogFile is "": the manager logs to the journal (maintail reads
// it there, see Journal).
func (m *Manager) MainLogFile() string { return "" }

// ClearMainLog: there is no main log file to clear.
func (m *Manager) ClearMainLog(ctx context.Context) error { return status.ErrNoFile }

// Shutdown is supervisord's shutdown in systemd terms: every unit of the
// configuration is stopped, the anchor target too, and the call returns
// once the jobs are queued.
func (m *Manager) Shutdown(ctx context.Context) error {
	a, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	// Highest priority first (a.procs is in Supervisor's start order):
	// each stop job then waits for those of the units ordered After= its
	// unit, already queued, so systemd stops the programs as supervisord
	// does, one priority after the other. Queued the other way round,
	// the first job would run at once, with nothing to wait for.
	for i := len(a.procs) - 1; i >= 0; i-- {
		if err := m.enqueue(ctx, "stop", a.procs[i].unit); err != nil {
			return err
		}
	}
	return m.enqueue(ctx, "stop", m.anchor())
}

// Restart is supervisord's restart (supervisorctl reload), which reads
// the configuration again, stops every process, forgets them all and
// starts those with autostart:
//
//   - the configuration is read again; one supervisord would reject
//     changes nothing (CANT_REREAD), where supervisord would exit;
//   - the processes whose units the new configuration no longer makes
//     are stopped;
//   - units written by convert are written again from the new
//     configuration, in the directory the anchor target came from, as
//     update writes them (atomically, only files supersede wrote, those
//     it wrote for this configuration and no longer makes removed); the
//     generator's are rewritten by the manager's daemon-reload, which
//     follows in both cases;
//   - the time is recorded (reloadMark): a unit not started since reads
//     "Not started", as supervisord forgets every process;
//   - every process stops, those with autostart start again, and the
//     anchor target starts.
//
// It returns once the jobs are queued.
func (m *Manager) Restart(ctx context.Context) error {
	cfg, err := translate.Load(m.opts.ConfigPath, m.opts.Load)
	if err != nil {
		return cantReread(err)
	}
	dir, generated, err := m.unitDir(ctx)
	if err != nil {
		return err
	}
	var changes []unitgen.Change
	if !generated {
		res, err := m.generate(cfg, dir, false)
		if err != nil {
			return cantReread(err)
		}
		if changes, err = unitgen.Plan(dir, res, unitgen.WriteOptions{Prune: true, DryRun: true}); err != nil {
			return cantReread(err)
		}
	}
	old, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if n, err := unitgen.ServiceName(m.opts.Prefix, p); err == nil {
				keep[n] = true
			}
		}
	}
	for _, p := range old.procs {
		if !keep[p.unit] {
			if err := m.enqueue(ctx, "stop", p.unit); err != nil {
				return err
			}
		}
	}
	if len(changes) > 0 {
		if err := unitgen.Apply(dir, changes, false); err != nil {
			return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
	}
	if err := m.setConfig(cfg); err != nil {
		return cantReread(err)
	}
	m.mu.Lock()
	m.next, m.gen, m.removed = nil, nil, map[string]bool{}
	m.mu.Unlock()
	if err := m.daemonReload(ctx); err != nil {
		return err
	}
	if err := m.markReload(); err != nil {
		return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
	}
	a, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	base := m.base
	m.mu.Unlock()
	for _, p := range a.procs {
		kind := "stop"
		// a group whose section is gone (stale.go) is not started again,
		// as supervisord restarts with the configuration as it is now
		if p.p.AutoStart && slices.Contains(base.Groups, p.g) {
			kind = "restart"
		}
		if err := m.enqueue(ctx, kind, p.unit); err != nil {
			return err
		}
	}
	return m.enqueue(ctx, "start", m.anchor())
}

// daemonReload asks the manager to reload its unit files.
func (m *Manager) daemonReload(ctx context.Context) error {
	c, err := m.jobs()
	if err != nil {
		return err
	}
	if err := c.ReloadContext(ctx); err != nil {
		return fmt.Errorf("daemon-reload: %w", err)
	}
	return nil
}

// unitProperty reads one property of a unit.
func (m *Manager) unitProperty(ctx context.Context, unit, name string) (any, error) {
	c, err := m.jobs()
	if err != nil {
		return nil, err
	}
	p, err := c.GetUnitPropertyContext(ctx, unit, name)
	if err != nil {
		return nil, err
	}
	return p.Value.Value(), nil
}

// reloadFile is the file beside the units' state directories in which
// Restart records when it ran, for the anchor target of this Manager.
func (m *Manager) reloadFile() string {
	rt := m.runtimeDir()
	if rt == "" {
		return ""
	}
	return filepath.Join(rt, m.anchor()+".reloaded")
}

// markReload records now (µs since the epoch) as the time of the last
// reload, atomically.
func (m *Manager) markReload() error {
	path := m.reloadFile()
	if path == "" {
		return errors.New("XDG_RUNTIME_DIR is not set: cannot record the reload")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, strconv.AppendInt(nil, m.now().UnixMicro(), 10), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reloadMark is the time markReload recorded, µs; 0 for none.
func (m *Manager) reloadMark() uint64 {
	path := m.reloadFile()
	if path == "" {
		return 0
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
