package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/renameio/v2"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Options say what to migrate, where to, and how.
type Options struct {
	Config *translate.Config // the configuration supervisord runs
	Load   translate.Options // how it was read (environment, directory)
	Units  *unitgen.Result   // the units converted from it (as convert does)
	Gen    unitgen.Options   // the options they were made with (Prefix, LogFiles, Shim)
	Scope  sysd.Scope        // the manager that takes the programs over
	Getenv func(string) string

	UnitDir   string // where the units go
	StateFile string // the migration's record
	LinkDir   string // where supervisorctl is linked to Self; "" links nothing
	Self      string // the supersede binary

	ServerURL, Username, Password string // supervisord's XML-RPC server, as supervisorctl reaches it

	Groups []string // move only these groups (--group); nil: all

	Out, Err io.Writer

	// CrashAfter, if > 0, kills migrate (SIGKILL) right after the
	// CrashAfter-th step it takes, before the step is marked done: the
	// test of an interrupted migration (SUPERSEDE_MIGRATE_CRASH_AFTER).
	CrashAfter int
}

// Failed is the error of a migration that stopped because a group's units
// did not reach RUNNING; the group is back under supervisord. It has been
// explained on Out already.
type Failed struct {
	Group    string
	Programs []string
}

func (f *Failed) Error() string {
	return fmt.Sprintf("group %s did not start under systemd (%s): moved back to supervisord", f.Group, strings.Join(f.Programs, ", "))
}

// migration is one run of migrate or of its rollback.
type migration struct {
	opts  Options
	st    *State
	rpc   *xmlrpc.Client
	sd    *sysd.Manager
	taken int       // steps taken in this run, for CrashAfter
	since time.Time // when this run began: a failed unit's output is read from there
}

func (m *migration) printf(format string, args ...any) { fmt.Fprintf(m.opts.Out, format+"\n", args...) }

func (m *migration) scopeFlag() string {
	if m.opts.Scope == sysd.User {
		return " --user"
	}
	return ""
}

// step takes one step unless it was completed before: recorded (and the
// state file saved) before it is taken, marked done after. do learns
// whether an earlier run began it (and was stopped half-way).
func (m *migration) step(op, group string, do func(resumed bool) error) error {
	if m.st.done(op, group) {
		return nil
	}
	resumed, err := m.begin(op, group)
	if err != nil {
		return err
	}
	if err := do(resumed); err != nil {
		return err
	}
	m.taken1()
	m.st.find(op, group).Done = true
	if err := m.st.save(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// begin records a step as begun, unless an earlier run did (resumed).
func (m *migration) begin(op, group string) (resumed bool, err error) {
	if m.st.begun(op, group) {
		return true, nil
	}
	m.st.Steps = append(m.st.Steps, Step{Op: op, Group: group, Begun: time.Now()})
	if err := m.st.save(); err != nil {
		return false, fmt.Errorf("state file: %w", err)
	}
	return false, nil
}

// taken1 counts a step taken, for CrashAfter.
func (m *migration) taken1() {
	m.taken++
	if m.opts.CrashAfter > 0 && m.taken == m.opts.CrashAfter {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute) // never reached: the signal is delivered first
	}
}

func (m *migration) connect(ctx context.Context) error {
	c, err := xmlrpc.NewClient(m.opts.ServerURL, m.opts.Username, m.opts.Password)
	if err != nil {
		return err
	}
	m.rpc = c
	if m.st == nil && !answers(ctx, c) {
		// a new migration needs the running supervisord first of all
		return fmt.Errorf("no supervisord answers at %s (the serverurl of %s): migrate moves the programs of a running supervisord; start it, or use supersede convert to write the units without moving anything", m.opts.ServerURL, m.opts.Config.File)
	}
	sd, err := sysd.New(ctx, m.opts.Config, sysd.Options{Scope: m.opts.Scope, ConfigPath: m.opts.Config.File,
		Load: m.opts.Load, Prefix: m.opts.Gen.Prefix, LogFiles: m.opts.Gen.LogFiles, Shim: m.opts.Gen.Shim, Getenv: m.opts.Getenv})
	if err != nil {
		return err
	}
	m.sd = sd
	return nil
}

func (m *migration) close() {
	if m.rpc != nil {
		m.rpc.Close()
	}
	if m.sd != nil {
		m.sd.Close()
	}
}

// groupsToMove are the configuration's groups in Supervisor's order
// (priority, then name), those of --group only if it was given.
func (m *migration) groupsToMove() ([]*translate.Group, error) {
	var out []*translate.Group
	for _, name := range m.opts.Groups {
		if !slices.ContainsFunc(m.opts.Config.Groups, func(g *translate.Group) bool { return g.Name == name }) {
			return nil, fmt.Errorf("--group %s: no such group in %s", name, m.opts.Config.File)
		}
	}
	for _, g := range m.opts.Config.Groups {
		if len(m.opts.Groups) == 0 || slices.Contains(m.opts.Groups, g.Name) {
			out = append(out, g)
		}
	}
	return out, nil
}

// unitsOf splits the converted units: each group's (its services, its
// target, its socket) and the host's (the anchor target, the serve
// units).
func unitsOf(cfg *translate.Config, res *unitgen.Result, prefix string) (map[string][]unitgen.Unit, []unitgen.Unit) {
	owner := map[string]string{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if n, err := unitgen.ServiceName(prefix, p); err == nil {
				owner[n] = g.Name
			}
		}
		if n, err := unitgen.GroupTarget(prefix, g); err == nil && n != "" {
			owner[n] = g.Name
		}
		if n, err := unitgen.UnitName(prefix, g.Name, unitgen.Socket); err == nil {
			owner[n] = g.Name
		}
	}
	byGroup := map[string][]unitgen.Unit{}
	var host []unitgen.Unit
	for _, u := range res.Units {
		if g, ok := owner[u.Name]; ok {
			byGroup[g] = append(byGroup[g], u)
		} else {
			host = append(host, u)
		}
	}
	return byGroup, host
}

// writeUnits writes units into the unit directory (recording each file
// in the state first) and reloads the manager.
func (m *migration) writeUnits(ctx context.Context, group string, units []unitgen.Unit) ([]string, error) {
	res := &unitgen.Result{Config: m.opts.Units.Config, Units: units}
	changes, err := unitgen.Plan(m.opts.UnitDir, res, unitgen.WriteOptions{Sync: true})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range changes {
		names = append(names, filepath.Base(c.Path))
		switch c.Action {
		case unitgen.Create:
			m.st.record(File{Path: c.Path, Group: group, Created: true})
		case unitgen.Update:
			m.st.record(File{Path: c.Path, Group: group, Old: c.Old})
		}
	}
	if err := m.st.save(); err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	if err := unitgen.Apply(m.opts.UnitDir, changes, true); err != nil {
		return nil, err
	}
	return names, m.sd.DaemonReload(ctx)
}

// Run migrates: it starts a migration, or goes on with the one the state
// file records.
func Run(ctx context.Context, opts Options) error {
	m := &migration{opts: opts, since: time.Now().Add(-time.Second)}
	st, err := loadState(opts.StateFile)
	if err != nil {
		return err
	}
	if st != nil {
		if err := m.check(st); err != nil {
			return err
		}
		if st.done(opDone, "") {
			m.printf("%s was migrated already (%s); supersede migrate --rollback%s -c %s moves it back", st.Config, opts.StateFile, m.scopeFlag(), st.Config)
			return nil
		}
	}
	m.st = st
	defer m.close()
	if err := m.connect(ctx); err != nil {
		return err
	}
	if st == nil {
		if st, err = m.start(ctx); err != nil {
			return err
		}
	} else {
		m.printf("resuming the migration recorded in %s", opts.StateFile)
	}
	m.st = st
	groups, err := m.groupsToMove()
	if err != nil {
		return err
	}
	byGroup, host := unitsOf(opts.Config, opts.Units, opts.Gen.Prefix)
	// a group whose move back was under way when migrate stopped is
	// finished first, then moved afresh
	for _, group := range st.groups() {
		if st.begun(opBack, group) {
			if err := m.moveBack(ctx, group); err != nil {
				return m.interrupted(err, "moving group "+group+" back")
			}
		}
	}
	for _, g := range groups {
		if err := m.moveGroup(ctx, g, byGroup[g.Name]); err != nil {
			var f *Failed
			if errors.As(err, &f) {
				return err
			}
			return m.interrupted(err, "group "+g.Name)
		}
	}
	var left []string
	for _, g := range opts.Config.Groups {
		if !st.done(opStart, g.Name) {
			left = append(left, g.Name)
		}
	}
	if len(left) > 0 {
		m.printf("%d group(s) still run under supervisord (%s): run supersede migrate%s -c %s again (without --group) to move them and retire supervisord", len(left), strings.Join(left, ", "), m.scopeFlag(), opts.Config.File)
		return nil
	}
	if err := m.finish(ctx, host); err != nil {
		return m.interrupted(err, "retiring supervisord")
	}
	return nil
}

// interrupted explains a migration that stopped on an error (or a
// signal) between steps.
func (m *migration) interrupted(err error, where string) error {
	return fmt.Errorf("%s: %w\nthe migration stopped there; its record is %s: run supersede migrate%s -c %s again to go on, or supersede migrate --rollback%s -c %s to move every program back to supervisord",
		where, err, m.opts.StateFile, m.scopeFlag(), m.opts.Config.File, m.scopeFlag(), m.opts.Config.File)
}

// check refuses a state file of another configuration or manager.
func (m *migration) check(st *State) error {
	scope := m.opts.Scope.String()
	if st.Config != m.opts.Config.File || st.Scope != scope {
		return fmt.Errorf("%s records a migration of %s to the %s manager, not of %s to the %s manager: name another --state file, or finish that one", m.opts.StateFile, st.Config, st.Scope, m.opts.Config.File, scope)
	}
	if st.UnitDir != m.opts.UnitDir || st.Prefix != m.opts.Gen.Prefix || st.LogFiles != m.opts.Gen.LogFiles {
		return fmt.Errorf("%s records a migration with -o %s --prefix %q --log-files=%v: pass the same to go on or roll back", m.opts.StateFile, st.UnitDir, st.Prefix, st.LogFiles)
	}
	return nil
}

// start reads the live host (supervisord's processes and how it was
// started) and records it in a new state file.
func (m *migration) start(ctx context.Context) (*State, error) {
	o := m.opts
	live, err := states(ctx, m.rpc)
	if err != nil {
		return nil, fmt.Errorf("supervisord at %s: getAllProcessInfo: %w", o.ServerURL, err)
	}
	if err := sameProcesses(o.Config, live); err != nil {
		return nil, err
	}
	pid, err := supervisordPID(ctx, m.rpc)
	if err != nil {
		return nil, fmt.Errorf("supervisord at %s: %w", o.ServerURL, err)
	}
	d, err := daemonOf(pid)
	if err != nil {
		return nil, err
	}
	d.Unit, d.UnitScope = m.startedBy(ctx, d)
	// every unit is planned before anything is written: a unit file
	// supersede did not write stops the migration here, not half-way
	if _, err := unitgen.Plan(o.UnitDir, o.Units, unitgen.WriteOptions{}); err != nil {
		return nil, err
	}
	st := &State{Version: stateVersion, Config: o.Config.File, Scope: o.Scope.String(), UnitDir: o.UnitDir,
		Prefix: o.Gen.Prefix, LogFiles: o.Gen.LogFiles, ServerURL: o.ServerURL, Before: map[string]string{},
		Supervisord: d, path: o.StateFile}
	running := 0
	for name, s := range live {
		st.Before[name] = s.String()
		if s.IsRunning() {
			running++
		}
	}
	if err := st.save(); err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	by := "by hand (not by a service unit)"
	if d.Unit != "" {
		by = "by " + d.Unit + " (" + d.UnitScope + " manager)"
	}
	m.printf("supervisord (pid %d, started %s) at %s runs %d processes, %d of them running; moving them to the systemd %s manager, units in %s; record: %s",
		pid, by, o.ServerURL, len(live), running, o.Scope, o.UnitDir, o.StateFile)
	return st, nil
}

// sameProcesses checks that supervisord runs the processes of cfg: a
// configuration edited since supervisord read it would move other
// programs than the ones running.
func sameProcesses(cfg *translate.Config, live map[string]status.State) error {
	want := map[string]bool{}
	var missing, extra []string
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			want[p.Namespec()] = true
			if _, ok := live[p.Namespec()]; !ok {
				missing = append(missing, p.Namespec())
			}
		}
	}
	for name := range live {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(missing)+len(extra) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	msg := "supervisord does not run the configuration in " + cfg.File + ":"
	if len(missing) > 0 {
		msg += " not in supervisord: " + strings.Join(missing, ", ") + ";"
	}
	if len(extra) > 0 {
		msg += " not in the file: " + strings.Join(extra, ", ") + ";"
	}
	return errors.New(msg + " run supervisorctl reread and update (or fix the file) first, so that both agree")
}

// startedBy finds the service unit that started supervisord: the unit
// of its cgroup, if supervisord is that unit's main process (a login
// session, a shell, or a service that merely ran it, is not).
func (m *migration) startedBy(ctx context.Context, d Daemon) (unit, scope string) {
	unit, scope = serviceOf(d.Cgroup)
	if unit == "" {
		return "", ""
	}
	mgr, err := m.manager(ctx, scope)
	if err != nil {
		return "", ""
	}
	if mgr != m.sd {
		defer mgr.Close()
	}
	info, err := mgr.Unit(ctx, unit)
	if err != nil || info.MainPID != d.PID {
		return "", ""
	}
	return unit, scope
}

// manager is the migration's manager for its scope, another for the
// other one (the caller closes that).
func (m *migration) manager(ctx context.Context, scope string) (*sysd.Manager, error) {
	s := sysd.System
	if scope == "user" {
		s = sysd.User
	}
	if s == m.opts.Scope && m.sd != nil {
		return m.sd, nil
	}
	return sysd.New(ctx, m.opts.Config, sysd.Options{Scope: s, ConfigPath: m.opts.Config.File, Load: m.opts.Load, Getenv: m.opts.Getenv})
}

// moveGroup moves one group: its units written and loaded, the group
// stopped in supervisord, its units started, each waited for until
// RUNNING. If one does not get there, the group goes back (moveBack).
func (m *migration) moveGroup(ctx context.Context, g *translate.Group, units []unitgen.Unit) error {
	if m.st.done(opStart, g.Name) {
		return nil
	}
	if err := m.step(opUnits, g.Name, func(bool) error {
		names, err := m.writeUnits(ctx, g.Name, units)
		if err == nil {
			m.printf("group %s: wrote and loaded %s", g.Name, strings.Join(names, ", "))
		}
		return err
	}); err != nil {
		return err
	}
	var stopBegan, stopEnded time.Time
	if err := m.step(opStop, g.Name, func(resumed bool) error {
		if !resumed {
			// the group's states as they are now, recorded before the stop
			live, err := states(ctx, m.rpc)
			if err != nil {
				return err
			}
			for _, p := range g.Processes {
				if s, ok := live[p.Namespec()]; ok {
					m.st.Before[p.Namespec()] = s.String()
				}
			}
			if err := m.st.save(); err != nil {
				return err
			}
		}
		stopBegan = time.Now()
		if !m.anyRunningBefore(g) {
			stopEnded = stopBegan
			return nil
		}
		if err := stopGroup(ctx, m.rpc, g.Name); err != nil {
			return err
		}
		stopEnded = time.Now()
		m.printf("group %s: stopped in supervisord in %s", g.Name, secs(stopEnded.Sub(stopBegan)))
		return nil
	}); err != nil {
		return err
	}
	var failed []string
	err := m.step(opStart, g.Name, func(bool) error {
		failed = m.startGroup(ctx, g, stopBegan, stopEnded)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(failed) > 0 {
			return &Failed{Group: g.Name, Programs: failed}
		}
		return nil
	})
	var f *Failed
	if !errors.As(err, &f) {
		return err
	}
	if err := m.moveBack(ctx, g.Name); err != nil {
		return fmt.Errorf("%v; moving it back failed too: %w", f, err)
	}
	m.printf("group %s is RUNNING under supervisord again, as before; the migration stopped there. Fix what kept %s from starting under systemd (its output above; a program that needs supervisord's environment gets it through environment= in %s), then run supersede migrate%s -c %s again to go on from group %s, or supersede migrate --rollback%s -c %s to move the groups moved so far back to supervisord",
		g.Name, strings.Join(f.Programs, ", "), m.opts.Config.File, m.scopeFlag(), m.opts.Config.File, g.Name, m.scopeFlag(), m.opts.Config.File)
	return f
}

func (m *migration) anyRunningBefore(g *translate.Group) bool {
	return slices.ContainsFunc(g.Processes, m.runningBefore)
}

func (m *migration) runningBefore(p *translate.Process) bool {
	s, _ := status.ParseState(m.st.Before[p.Namespec()])
	return s.IsRunning()
}

// backoffBefore reports whether p was failing to start (BACKOFF) under
// supervisord: its unit is started, but not required to reach RUNNING,
// which it did not under supervisord either.
func (m *migration) backoffBefore(p *translate.Process) bool {
	return m.st.Before[p.Namespec()] == status.Backoff.String()
}

// startGroup starts the units of the group's processes that ran under
// supervisord, all at once (systemd orders them by priority through
// After=), waits for each to be RUNNING by Supervisor's rule (startsecs)
// and prints each one's downtime. It returns the processes that did not
// get there, after printing why.
func (m *migration) startGroup(ctx context.Context, g *translate.Group, stopBegan, stopEnded time.Time) []string {
	type result struct {
		p       *translate.Process
		err     error
		running time.Time
	}
	var wg sync.WaitGroup
	results := make([]result, len(g.Processes))
	for i, p := range g.Processes {
		results[i].p = p
		if !m.runningBefore(p) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// bounded: the compatibility step ends the unit FATAL after
			// startretries; the minute on top catches a hang
			limit := time.Minute + time.Duration(p.StartRetries+1)*(p.MinUptime+time.Duration(p.StartRetries+1)*time.Second)
			cctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			err := m.sd.Start(cctx, g.Name, p.Name)
			if errors.Is(err, status.ErrAlreadyStarted) {
				err = nil
			}
			if err == nil && !m.backoffBefore(p) {
				err = m.sd.WaitStarted(cctx, g.Name, p.Name)
			}
			results[i].err, results[i].running = err, time.Now()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil // interrupted: the caller says so
	}
	procs, _ := m.sd.GroupProcesses(ctx, g.Name)
	spawned := map[string]status.Process{}
	for _, sp := range procs {
		spawned[sp.Name] = sp
	}
	var failed []string
	for _, r := range results {
		p := r.p
		if !m.runningBefore(p) {
			m.printf("%s: %s under supervisord: stays stopped under systemd (its unit is loaded, not started)", p.Namespec(), m.st.Before[p.Namespec()])
			continue
		}
		if r.err != nil {
			failed = append(failed, p.Namespec())
			m.explain(ctx, g, p, r.err)
			continue
		}
		sp := spawned[p.Name]
		if m.backoffBefore(p) {
			m.printf("%s: was BACKOFF under supervisord (failing to start): its unit is started and retries as supervisord did, now %s", p.Namespec(), sp.State)
			continue
		}
		if stopBegan.IsZero() {
			m.printf("%s: RUNNING under systemd (pid %d); stopped in supervisord by an earlier run, downtime not measured", p.Namespec(), sp.PID)
			continue
		}
		down := "unknown"
		if !sp.Start.IsZero() {
			down = secs(sp.Start.Sub(stopBegan))
		}
		m.printf("%s: RUNNING under systemd (pid %d): down %s (stop %s, then spawned), RUNNING %s after the stop began (startsecs %s)",
			p.Namespec(), sp.PID, down, secs(stopEnded.Sub(stopBegan)), secs(r.running.Sub(stopBegan)), secs(p.MinUptime))
	}
	return failed
}

// explain says why a process did not reach RUNNING under systemd: its
// unit's state and result, and the last lines of its output.
func (m *migration) explain(ctx context.Context, g *translate.Group, p *translate.Process, err error) {
	unit, _ := unitgen.ServiceName(m.opts.Gen.Prefix, p)
	why := err.Error()
	if info, e := m.sd.Unit(ctx, unit); e == nil {
		why = fmt.Sprintf("%s (unit %s: %s, result %s)", why, unit, info.ActiveState, info.Result)
	}
	m.printf("%s: did not reach RUNNING under systemd: %s", p.Namespec(), why)
	var out []byte
	if u, journal, e := m.sd.JournalFor(ctx, g.Name, p.Name, "stdout"); e == nil && journal {
		// journald stores a line a moment after the program wrote it
		waitFor(ctx, 3*time.Second, func() bool {
			out, _ = m.sd.ReadOutput(ctx, u, p.Name, m.since, 4096)
			return len(out) > 0
		})
	} else if p.Stdout.Kind == translate.LogFile {
		out, _ = tail(p.Stdout.Path, 4096)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	if len(out) == 0 {
		m.printf("  (it wrote nothing)")
		return
	}
	m.printf("  its last output:")
	for _, l := range lines {
		m.printf("  | %s", l)
	}
}

func tail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	_, err = f.ReadAt(buf, off)
	return buf, err
}

// moveBack returns a group to supervisord: its units stopped, its
// processes that ran before started again in supervisord, its unit files
// removed (or put back as they were), and its steps forgotten, so that a
// later run moves it afresh.
func (m *migration) moveBack(ctx context.Context, group string) error {
	if _, err := m.begin(opBack, group); err != nil {
		return err
	}
	if err := m.stopUnits(ctx, group); err != nil {
		return err
	}
	if err := m.startInSupervisord(ctx, group); err != nil {
		return err
	}
	if err := m.removeFiles(ctx, group); err != nil {
		return err
	}
	m.taken1()
	m.st.forgetGroup(group)
	if err := m.st.save(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// processesOf are the namespecs of a group's processes, as supervisord
// listed them when the migration began (the record, not the file, which
// may have changed since).
func (m *migration) processesOf(group string) []string {
	var out []string
	for name := range m.st.Before {
		g, _, ok := strings.Cut(name, ":")
		if !ok {
			g = name
		}
		if g == group {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// stopUnits stops every unit of a group: the services of its processes
// and every unit file migrate wrote for it, services first.
func (m *migration) stopUnits(ctx context.Context, group string) error {
	units := map[string]bool{}
	for _, name := range m.processesOf(group) {
		u, err := unitgen.UnitName(m.opts.Gen.Prefix, name, unitgen.Service)
		if err != nil {
			return err
		}
		units[u] = true
	}
	var others []string
	for _, f := range m.st.Files {
		if f.Group != group {
			continue
		}
		if u := filepath.Base(f.Path); strings.HasSuffix(u, unitgen.Service) {
			units[u] = true
		} else {
			others = append(others, u)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.sd.UnitJob(ctx, "stop", u)
			if err == nil && res != "done" {
				err = fmt.Errorf("stop %s: %s", u, res)
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, u := range others {
		if _, err := m.sd.UnitJob(ctx, "stop", u); err != nil {
			return err
		}
	}
	return nil
}

// startInSupervisord starts again in supervisord the processes of a
// group that ran there before.
func (m *migration) startInSupervisord(ctx context.Context, group string) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, name := range m.processesOf(group) {
		before, _ := status.ParseState(m.st.Before[name])
		if !before.IsRunning() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := startProcess(ctx, m.rpc, name)
			if before == status.Backoff && (errors.Is(err, status.ErrSpawnError) || errors.Is(err, status.ErrAbnormalTermination)) {
				err = nil // it was failing to start before, too
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeFiles removes the unit files migrate wrote for a group (every
// file, with group "*"): created ones are deleted, replaced ones put back;
// a file changed since by someone else is left alone, with a note.
func (m *migration) removeFiles(ctx context.Context, group string) error {
	var units []string
	for _, f := range m.st.Files {
		if group != "*" && f.Group != group {
			continue
		}
		data, err := os.ReadFile(f.Path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if err == nil && !unitgen.IsGenerated(data) {
			m.printf("left %s: it was changed since migrate wrote it (no longer supersede's)", f.Path)
			continue
		}
		if f.Created {
			if err := os.Remove(f.Path); err != nil && !os.IsNotExist(err) {
				return err
			}
		} else if err := writeFile(f.Path, f.Old); err != nil {
			return err
		}
		units = append(units, filepath.Base(f.Path))
	}
	if len(units) == 0 {
		return nil
	}
	if err := m.sd.DaemonReload(ctx); err != nil {
		return err
	}
	for _, u := range units {
		m.sd.ResetFailed(ctx, u) // a failed unit whose file is gone stays loaded until then; an error is only "not loaded"
	}
	return nil
}

// writeFile puts a unit file back atomically (renameio), as unitgen
// writes units.
func writeFile(path string, data []byte) error {
	return renameio.WriteFile(path, data, 0o644, renameio.WithStaticPermissions(0o644))
}

// finish retires supervisord once every group runs under systemd: the
// host's units, supervisord stopped, whatever started it disabled, the
// anchor target enabled for the next boot, the serve socket started,
// supervisorctl linked.
func (m *migration) finish(ctx context.Context, host []unitgen.Unit) error {
	d := m.st.Supervisord
	if err := m.step(opHost, "", func(bool) error {
		if len(host) == 0 {
			return nil
		}
		names, err := m.writeUnits(ctx, "", host)
		if err == nil {
			m.printf("wrote and loaded %s", strings.Join(names, ", "))
		}
		return err
	}); err != nil {
		return err
	}
	if err := m.step(opShutdown, "", func(bool) error { return m.stopSupervisord(ctx) }); err != nil {
		return err
	}
	if err := m.step(opDisable, "", func(bool) error {
		if d.Unit == "" {
			m.printf("nothing to disable: supervisord (pid %d) was not started by a service unit (cgroup %s); if something else starts it at boot (an init script, cron @reboot, rc.local), remove that", d.PID, d.Cgroup)
			return nil
		}
		mgr, err := m.manager(ctx, d.UnitScope)
		if err != nil {
			return err
		}
		if mgr != m.sd {
			defer mgr.Close()
		}
		info, err := mgr.Unit(ctx, d.Unit)
		if err != nil {
			return err
		}
		switch info.UnitFileState {
		case "enabled":
			m.st.Supervisord.WasEnabled = true
			if err := m.st.save(); err != nil {
				return err
			}
		case "generated":
			// systemd-sysv-generator made it from an init script
			m.printf("%s is generated from an init script (/etc/init.d/%s): disable that yourself (update-rc.d %s disable), or it starts supervisord at the next boot",
				d.Unit, strings.TrimSuffix(d.Unit, ".service"), strings.TrimSuffix(d.Unit, ".service"))
			return nil
		default:
			m.printf("%s is %s: nothing starts it at boot, nothing to disable", d.Unit, info.UnitFileState)
			return nil
		}
		if err := mgr.DisableUnits(ctx, []string{d.Unit}); err != nil {
			return err
		}
		m.printf("disabled %s (%s manager): supervisord does not come back at boot", d.Unit, d.UnitScope)
		return nil
	}); err != nil {
		return err
	}
	anchor := unitgen.AnchorTarget(m.opts.Gen.Prefix)
	socket, _ := unitgen.ServeUnits(m.opts.Gen.Prefix)
	hasSocket := slices.ContainsFunc(host, func(u unitgen.Unit) bool { return u.Name == socket })
	if err := m.step(opEnable, "", func(bool) error {
		enable := []string{anchor}
		if hasSocket {
			enable = append(enable, socket)
		}
		if err := m.sd.EnableUnits(ctx, enable); err != nil {
			return err
		}
		m.printf("enabled %s: at boot it starts the autostart programs, as supervisord did", strings.Join(enable, " and "))
		if hasSocket {
			res, err := m.sd.UnitJob(ctx, "start", socket)
			if err != nil {
				return err
			}
			if res != "done" {
				return fmt.Errorf("start %s: %s (see journalctl%s -u %s)", socket, res, m.scopeFlag(), socket)
			}
			m.printf("started %s: supervisorctl and other XML-RPC clients at %s now drive the units (supersede serve)", socket, m.opts.ServerURL)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.step(opLink, "", func(bool) error { return m.link() }); err != nil {
		return err
	}
	if err := m.step(opDone, "", func(bool) error { return nil }); err != nil {
		return err
	}
	out := "journalctl" + m.scopeFlag() + " -t NAME"
	if m.opts.Gen.LogFiles {
		out = "the same log files as before (--log-files)"
	}
	m.printf("done: every program runs under systemd; supervisord is retired. Programs' output goes to %s; supersede ctl%s -c %s (or supervisorctl) drives them; supersede migrate --rollback%s -c %s moves everything back",
		out, m.scopeFlag(), m.opts.Config.File, m.scopeFlag(), m.opts.Config.File)
	return nil
}

// stopSupervisord stops supervisord: through the unit that started it,
// else over XML-RPC (shutdown), and waits until its process is gone.
func (m *migration) stopSupervisord(ctx context.Context) error {
	d := m.st.Supervisord
	if d.Unit != "" {
		mgr, err := m.manager(ctx, d.UnitScope)
		if err != nil {
			return err
		}
		if mgr != m.sd {
			defer mgr.Close()
		}
		if _, err := mgr.UnitJob(ctx, "stop", d.Unit); err != nil {
			return err
		}
	} else if answers(ctx, m.rpc) {
		if _, err := m.rpc.Call(ctx, "supervisor.shutdown"); err != nil && answers(ctx, m.rpc) {
			return fmt.Errorf("supervisord: shutdown: %w", err)
		}
	}
	if !waitFor(ctx, 2*time.Minute, func() bool { return !alive(d.PID) && !answers(ctx, m.rpc) }) {
		return fmt.Errorf("supervisord (pid %d) did not exit after shutdown", d.PID)
	}
	m.printf("supervisord (pid %d) stopped", d.PID)
	return nil
}

// link makes supervisorctl in LinkDir supersede, as make install LINKS=1
// does, unless a supervisorctl that is not supersede is there already.
// supervisord is not linked: supersede run would supervise the programs a
// second time, next to systemd.
func (m *migration) link() error {
	if m.opts.LinkDir == "" {
		return nil
	}
	path := filepath.Join(m.opts.LinkDir, "supervisorctl")
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink != 0 && sameFile(path, m.opts.Self):
		m.printf("%s is supersede already: it drives the units", path)
		return nil
	case err == nil:
		m.printf("left %s as it is: it is not supersede (link supersede there yourself, or use supersede ctl)", path)
		return nil
	case !os.IsNotExist(err):
		return err
	}
	m.st.Links = append(m.st.Links, File{Path: path, Target: m.opts.Self, Created: true})
	if err := m.st.save(); err != nil {
		return err
	}
	if err := os.Symlink(m.opts.Self, path); err != nil && !os.IsExist(err) {
		return err
	}
	m.printf("linked %s to %s: supervisorctl now drives the units", path, m.opts.Self)
	return nil
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// secs formats a duration in seconds with two decimals: "1.02 s".
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
