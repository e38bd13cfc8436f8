package fallback

import (
	"context"
	"errors"
	"os"
	"slices"
	"syscall"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// The operations of Supervisor's rpcinterface in Go words. Each runs on
// the loop goroutine; the ones that wait register a waiter there and
// block outside it.

// Identification is the [supervisord] identifier.
func (s *Supervisor) Identification() string { return s.ident }

// PID is the daemon's process id.
func (s *Supervisor) PID() int { return s.pid }

// ShuttingDown reports whether the daemon is stopping or restarting.
func (s *Supervisor) ShuttingDown() bool { return s.mood.Load() < moodRunning }

// MainLogFile is the main log's path, "" when it goes to syslog.
func (s *Supervisor) MainLogFile() string { return s.mainLog }

// ClearMainLog removes the main log and reopens it (clearLog).
func (s *Supervisor) ClearMainLog(ctx context.Context) error {
	if s.opts.MainLog != nil {
		return s.opts.MainLog.Clear()
	}
	if s.mainLog == "" {
		return status.ErrNoFile
	}
	if _, err := os.Stat(s.mainLog); err != nil {
		return status.ErrNoFile
	}
	if err := os.Remove(s.mainLog); err != nil {
		return status.ErrFailed
	}
	return nil
}

// Shutdown starts an orderly stop and the end of Run.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	return s.call(ctx, func() { s.mood.Store(moodShutdown) })
}

// Restart starts an orderly stop after which Run returns ErrRestart.
func (s *Supervisor) Restart(ctx context.Context) error {
	return s.call(ctx, func() {
		if s.mood.Load() == moodRunning {
			s.mood.Store(moodRestarting)
		}
	})
}

// Reload reads the configuration again and compares its groups with the
// active ones (reloadConfig). The configuration read becomes the one
// AddGroup and Configured use.
func (s *Supervisor) Reload(ctx context.Context) (added, changed, removed []string, err error) {
	cfg, lerr := s.load()
	if lerr != nil {
		return nil, nil, nil, &status.Error{Kind: status.ErrCantReread, Detail: translate.SupervisorMessage(lerr)}
	}
	err = s.call(ctx, func() {
		s.cfg = cfg
		added, changed, removed = s.diff()
	})
	return added, changed, removed, err
}

func (s *Supervisor) load() (*translate.Config, error) {
	if s.opts.Load != nil {
		return s.opts.Load()
	}
	return translate.Load(s.cfg.File, translate.Options{Environ: s.environ, Dir: s.dir})
}

// diff is Supervisor.diff_to_active: groups of the configuration read
// last that are not active, active ones whose configuration differs,
// and active ones it no longer has.
func (s *Supervisor) diff() (added, changed, removed []string) {
	added, changed, removed = []string{}, []string{}, []string{}
	fresh := map[string]*translate.Group{}
	for _, g := range s.cfg.Groups {
		if _, dup := fresh[g.Name]; !dup {
			fresh[g.Name] = g
		}
	}
	seen := map[string]bool{}
	for _, g := range s.cfg.Groups {
		if seen[g.Name] {
			continue
		}
		seen[g.Name] = true
		cur, ok := s.groups[g.Name]
		switch {
		case !ok:
			added = append(added, g.Name)
		case !groupEqual(cur.cfg, g):
			changed = append(changed, g.Name)
		}
	}
	for _, g := range s.groupOrder {
		if _, ok := fresh[g.cfg.Name]; !ok {
			removed = append(removed, g.cfg.Name)
		}
	}
	return added, changed, removed
}

// Configured returns the groups of the configuration read last and the
// names of the active ones.
func (s *Supervisor) Configured(ctx context.Context) (groups []*translate.Group, active []string, err error) {
	err = s.call(ctx, func() {
		groups = s.cfg.Groups
		for _, g := range s.groupOrder {
			active = append(active, g.cfg.Name)
		}
	})
	return groups, active, err
}

// AddGroup activates a group of the configuration read last and starts
// its autostart processes.
func (s *Supervisor) AddGroup(ctx context.Context, name string) error {
	var err error
	if cerr := s.call(ctx, func() {
		for _, g := range s.cfg.Groups {
			if g.Name != name {
				continue
			}
			if err = s.addGroup(g); err == nil {
				s.settleAll(s.groups[name].procs)
			}
			return
		}
		err = status.ErrBadName
	}); cerr != nil {
		return cerr
	}
	return err
}

// RemoveGroup deactivates a group whose processes are all stopped.
func (s *Supervisor) RemoveGroup(ctx context.Context, name string) error {
	var err error
	if cerr := s.call(ctx, func() { err = s.removeGroup(name) }); cerr != nil {
		return cerr
	}
	return err
}

// Processes returns the status of every active process, groups by
// priority, processes by priority within each.
func (s *Supervisor) Processes(ctx context.Context) ([]status.Process, error) {
	var out []status.Process
	err := s.call(ctx, func() {
		for _, g := range s.sortedGroups() {
			for _, p := range g.byPriority() {
				out = append(out, p.info())
			}
		}
	})
	return out, err
}

// info is p's status as getProcessInfo reports it.
func (p *proc) info() status.Process {
	stdout, stderr := p.stdoutLog, p.stderrLog
	return status.Process{
		Name:       p.cfg.Name,
		Group:      p.cfg.Group,
		State:      p.state,
		PID:        p.pid,
		Start:      p.laststart,
		Stop:       p.laststop,
		ExitStatus: p.exitstatus,
		SpawnErr:   p.spawnerr,
		StdoutLog:  stdout,
		StderrLog:  stderr,
	}
}

// Groups returns the names of the active groups.
func (s *Supervisor) Groups(ctx context.Context) ([]string, error) {
	var out []string
	err := s.call(ctx, func() {
		for _, g := range s.groupOrder {
			out = append(out, g.cfg.Name)
		}
	})
	return out, err
}

// lookup finds an active process.
func (s *Supervisor) lookup(group, name string) (*proc, error) {
	g, ok := s.groups[group]
	if !ok {
		return nil, status.ErrBadName
	}
	p := g.find(name)
	if p == nil {
		return nil, status.ErrBadName
	}
	return p, nil
}

// Start is the first half of startProcess: the checks, then the spawn.
func (s *Supervisor) Start(ctx context.Context, group, name string) error {
	var err error
	if cerr := s.call(ctx, func() { err = s.start(group, name) }); cerr != nil {
		return cerr
	}
	return err
}

func (s *Supervisor) start(group, name string) error {
	p, err := s.lookup(group, name)
	if err != nil {
		return err
	}
	if ex := translate.ResolveExec(p.cfg, s.environ, s.dir); ex.Err != "" {
		kind := status.ErrNotExecutable
		if ex.Kind == "NotFound" {
			kind = status.ErrNoFile
		}
		return &status.Error{Kind: kind, Detail: ex.Err}
	}
	if p.state.IsRunning() {
		return status.ErrAlreadyStarted
	}
	if p.state == status.Unknown {
		return &status.Error{Kind: status.ErrFailed, Detail: p.cfg.Namespec() + " is in an unknown process state"}
	}
	p.spawn(s.now())
	// A child that died at once is seen now, as Supervisor's reap().
	s.reap()
	if p.spawnerr != "" {
		s.schedule(p)
		return status.ErrSpawnError
	}
	s.settle(p)
	return nil
}

// WaitStarted is the second half of startProcess with wait=true.
func (s *Supervisor) WaitStarted(ctx context.Context, group, name string) error {
	return s.wait(ctx, group, name, false, func(p *proc) (bool, error) {
		switch {
		case p.spawnerr != "":
			return true, status.ErrSpawnError
		case p.state == status.Running:
			return true, nil
		case p.state != status.Starting:
			return true, status.ErrAbnormalTermination
		}
		return false, nil
	})
}

// Stop is the first half of stopProcess: send the stop signal.
func (s *Supervisor) Stop(ctx context.Context, group, name string) error {
	var err error
	if cerr := s.call(ctx, func() { err = s.stopOne(group, name) }); cerr != nil {
		return cerr
	}
	return err
}

func (s *Supervisor) stopOne(group, name string) error {
	p, err := s.lookup(group, name)
	if err != nil {
		return err
	}
	if !p.state.IsRunning() {
		return status.ErrNotRunning
	}
	msg := p.stop(s.now())
	s.reap()
	s.schedule(p)
	if msg != "" {
		return &status.Error{Kind: status.ErrFailed, Detail: msg}
	}
	return nil
}

// WaitStopped is the second half of stopProcess with wait=true.
func (s *Supervisor) WaitStopped(ctx context.Context, group, name string) error {
	return s.wait(ctx, group, name, true, func(p *proc) (bool, error) {
		return p.state.IsStopped(), nil
	})
}

// wait blocks until check says the wait is over.
func (s *Supervisor) wait(ctx context.Context, group, name string, report bool, check func(*proc) (bool, error)) error {
	w := &waiter{check: check, res: make(chan error, 1), report: report}
	var err error
	if cerr := s.call(ctx, func() {
		var p *proc
		if p, err = s.lookup(group, name); err != nil {
			return
		}
		if done, werr := check(p); done {
			w.res <- werr
			return
		}
		if report {
			p.stopReport(s.now())
		}
		p.waiters = append(p.waiters, w)
		s.schedule(p)
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	select {
	case err := <-w.res:
		return err
	case <-ctx.Done():
		s.call(context.Background(), func() {
			if p, err := s.lookup(group, name); err == nil {
				p.waiters = slices.DeleteFunc(p.waiters, func(x *waiter) bool { return x == w })
			}
		})
		return ctx.Err()
	case <-s.done:
		select {
		case err := <-w.res:
			return err
		default:
		}
		return status.ErrShutdownState
	}
}

// Signal sends sig to a process (signalProcess).
func (s *Supervisor) Signal(ctx context.Context, group, name string, sig syscall.Signal) error {
	var err error
	if cerr := s.call(ctx, func() {
		var p *proc
		if p, err = s.lookup(group, name); err != nil {
			return
		}
		if !p.state.IsSignallable() {
			err = status.ErrNotRunning
			return
		}
		if msg := p.signal(s.now(), sig); msg != "" {
			err = &status.Error{Kind: status.ErrFailed, Detail: msg}
		}
		s.schedule(p)
	}); cerr != nil {
		return cerr
	}
	return err
}

// ClearLogs empties a process's log files (clearProcessLogs).
func (s *Supervisor) ClearLogs(ctx context.Context, group, name string) error {
	var err error
	if cerr := s.call(ctx, func() {
		var p *proc
		if p, err = s.lookup(group, name); err != nil {
			return
		}
		// As Supervisor: only a running process's logs are open to clear.
		if p.out != nil {
			if cerr := p.out.clear(); cerr != nil {
				err = &status.Error{Kind: status.ErrFailed, Detail: p.cfg.Namespec()}
			}
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// WriteStdin queues data for a process's stdin (sendProcessStdin) and
// returns: the data is written as the child reads it, whatever becomes
// of the client (see stdinQueue).
func (s *Supervisor) WriteStdin(ctx context.Context, group, name string, data []byte) error {
	var err error
	var q *stdinQueue
	if cerr := s.call(ctx, func() {
		var p *proc
		if p, err = s.lookup(group, name); err != nil {
			return
		}
		if p.pid == 0 || p.killing {
			err = status.ErrNotRunning
			return
		}
		if p.stdin < 0 {
			err = status.ErrNoFile
			return
		}
		if p.stdinQ == nil {
			p.stdinQ = newStdinQueue(p.stdinWriter())
		}
		q = p.stdinQ
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	// Outside the loop: the first write waits for nothing, but an event
	// listener's protocol writes may hold the file.
	var full *errStdinFull
	switch err := q.write(name, data); {
	case err == nil:
		return nil
	case errors.As(err, &full):
		return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
	default:
		return status.ErrNoFile
	}
}

// SendRemoteComm emits a REMOTE_COMMUNICATION event.
func (s *Supervisor) SendRemoteComm(ctx context.Context, typ, data string) error {
	s.bus.Publish(events.NewRemoteCommunication(typ, data))
	return nil
}
