package sysd

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	godbus "github.com/godbus/dbus/v5"

	"github.com/supersede/supersede/internal/status"
)

// StateChange is one change of a process's Supervisor state, with the
// fields of Supervisor's PROCESS_STATE_* events: the backoff counter
// (tries) after the change, whether an exit was expected, and the pid as
// the change happens (the exiting pid for EXITED and STOPPED).
type StateChange struct {
	Group, Name string
	Unit        string
	From, To    status.State
	Tries       int
	Expected    bool
	PID         int
}

// Tracks is what WatchStates knows of each unit between calls: the
// state last reported, so that a watch started again (after a
// daemon-reload, on a new Manager) goes on from there.
type Tracks struct {
	mu sync.Mutex
	by map[string]*track
}

// track is one process as the watch last saw it.
type track struct {
	state   status.State
	pid     int           // the pid of the last run seen (the one an EXITED or STOPPED reports)
	run     string        // the InvocationID of the start whose run the state is of, "" while not known yet (runOf)
	backoff int           // Supervisor's backoff counter, as its state machine keeps it
	timer   *time.Timer   // set while the state is STARTING by the clock (startsecs, no step)
	minUp   time.Duration // startsecs
	// the run of the program last read or replayed (replay.go): its pid
	// and start (µs), and whether its end was reported
	runPID   uint32
	runStart uint64
	endDone  bool
	inv      string // the InvocationID of the last reading
}

// settle corrects what status reads for a moment that has no state of
// Supervisor's own, seen from where the process was (status shows it as
// it reads it; a transition must not go through it): the program ended
// by itself after startsecs and its unit runs its stop steps (no stop
// job): Supervisor is EXITED from the death on, not STOPPING. (The
// compatibility step marks its backoff waits and its giving up itself,
// shim.WaitFile, so status reads those as Supervisor has them.)
func (tr *track) settle(cur status.Process, st unitState) status.Process {
	noStop := st.Job != "stop" && st.Job != "restart"
	if cur.State == status.Stopping && st.Active == "deactivating" && noStop && st.MainPID == 0 && st.Exit != 0 && st.Exit >= st.Start {
		cur.State = status.Exited
		cur.ExitStatus = exitStatus(st)
		cur.Stop = micro(st.Exit)
	}
	return cur
}

// NewTracks returns empty tracks: the first watch takes the states it
// reads as where every process stands, and reports nothing for them.
func NewTracks() *Tracks { return &Tracks{by: map[string]*track{}} }

// State returns the state last reported for unit, and whether it is known.
func (t *Tracks) State(unit string) (status.State, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.by[unit]
	if !ok {
		return 0, false
	}
	return tr.state, true
}

// PID returns the pid of unit's program as last seen, 0 if none.
func (t *Tracks) PID(unit string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.by[unit]; ok {
		return tr.pid
	}
	return 0
}

// WatchStates reports every change of Supervisor's state of the
// configuration's processes, derived from their units' D-Bus signals
// (PropertiesChanged of each unit; systemd sends one for every change of
// its active and sub state and of its job) through the same derivation
// as status (supervisorState), so the state a change reports is the
// state status shows. It returns when ctx is done or the connection
// breaks, with the reason. ready, if not nil, is called once the
// subscription is in place and the starting states are read.
//
// A signal may stand for several of Supervisor's transitions (systemd
// coalesces the changes of one turn of its loop, and a read comes after
// the signal): emit gets every transition of Supervisor's state machine
// between the state last reported and the one read, in Supervisor's
// order (path), with the backoff counter as Supervisor keeps it. Whole
// runs between two readings (a program that crashes and is restarted
// every 100 ms, read late on a loaded machine) are replayed first from
// the snapshots the signals carry (replay.go), so that none is lost.
//
// It costs nothing while the units are idle: the manager pushes the
// signals; the only timer is one per process that is STARTING by the
// clock (units without the compatibility step), due when startsecs
// passes.
func (m *Manager) WatchStates(ctx context.Context, tracks *Tracks, ready func(), emit func(StateChange)) error {
	c, err := dialEndpoint(ctx, m.ep)
	if err != nil {
		return fmt.Errorf("watching the units: %w", err)
	}
	defer c.Close()
	// room for the signals of many restarts while a reading is under
	// way (godbus delivers the rest late, out of order, not lost)
	sigs := make(chan *godbus.Signal, 1024)
	c.Signal(sigs)
	if !m.ep.private {
		if err := c.AddMatchSignalContext(ctx, godbus.WithMatchInterface("org.freedesktop.DBus.Properties"),
			godbus.WithMatchMember("PropertiesChanged"), godbus.WithMatchPathNamespace("/org/freedesktop/systemd1/unit")); err != nil {
			return fmt.Errorf("watching the units: %w", err)
		}
		obj := c.Object(destSystemd, "/org/freedesktop/systemd1")
		if err := obj.CallWithContext(ctx, ifaceManager+".Subscribe", 0).Err; err != nil {
			return fmt.Errorf("watching the units: Subscribe: %w", err)
		}
	}
	m.mu.Lock()
	procs := slices.Clone(m.procs)
	m.mu.Unlock()
	byPath := make(map[godbus.ObjectPath]*proc, len(procs))
	for _, p := range procs {
		byPath[p.path] = p
	}
	due := make(chan *proc, 16) // a STARTING process whose startsecs passed
	defer func() {
		tracks.mu.Lock()
		for _, tr := range tracks.by {
			if tr.timer != nil {
				tr.timer.Stop()
				tr.timer = nil
			}
		}
		tracks.mu.Unlock()
	}()
	runs := runLog{} // the runs the signals told since the last reading (replay.go)
	var dirty []*proc
	take := func(s *godbus.Signal) {
		if p := unitOfSignal(byPath, s); p != nil {
			if !slices.Contains(dirty, p) {
				dirty = append(dirty, p)
			}
			runs.note(p.unit, s.Body)
		}
	}
	// take every signal already there: one read for all of them
	drain := func() {
		for {
			select {
			case s, ok := <-sigs:
				if !ok {
					return // the loop's next wait says so
				}
				take(s)
			default:
				return
			}
		}
	}
	// sync takes the signals the manager sent before a reading that
	// came in while it was made (a reading that shows a new start must
	// find the runs before it in the log): the manager answers a Ping
	// on the watch's connection after every signal it sent there
	// before, and godbus hands the signals over before the answer. The
	// units they are about are read again (what came after the reading).
	sync := func() error {
		err := c.Object(destSystemd, "/org/freedesktop/systemd1").CallWithContext(ctx, "org.freedesktop.DBus.Peer.Ping", 0).Err
		drain()
		return err
	}
	if err := m.observe(ctx, tracks, procs, runs, sync, due, emit); err != nil {
		return fmt.Errorf("watching the units: %w", err)
	}
	if ready != nil {
		ready()
	}
	for {
		if len(dirty) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case p := <-due:
				dirty = append(dirty, p)
			case s, ok := <-sigs:
				if !ok {
					return fmt.Errorf("watching the units: the connection to %s closed", m.ep.addr)
				}
				take(s)
			}
		}
		if m.watchHold != nil {
			m.watchHold()
		}
		drain()
		batch := dirty
		dirty = nil
		if err := m.observe(ctx, tracks, batch, runs, sync, due, emit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watching the units: %w", err)
		}
	}
}

// unitOfSignal is the process whose unit a PropertiesChanged signal is
// about, nil for other signals and units.
func unitOfSignal(byPath map[godbus.ObjectPath]*proc, s *godbus.Signal) *proc {
	if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" || len(s.Body) == 0 {
		return nil
	}
	if iface, _ := s.Body[0].(string); iface != ifaceUnit && iface != ifaceService {
		return nil
	}
	return byPath[s.Path]
}

// observe reads the units of procs and reports the transitions since
// their tracks, with the runs between that their signals told (runs,
// which it empties of what it reported). Where a unit was started anew
// since its last reading (its InvocationID moved), it first calls sync,
// once, to take the signals sent before the reading into runs: on a
// loaded machine they may still be on their way.
func (m *Manager) observe(ctx context.Context, tracks *Tracks, procs []*proc, runs runLog, sync func() error, due chan<- *proc, emit func(StateChange)) error {
	if len(procs) == 0 {
		return nil
	}
	units := make([]string, len(procs))
	for i, p := range procs {
		units[i] = p.unit
	}
	// the wall clock, as systemd's timestamps: a run that began after
	// the reading did (its signals taken by sync) is the next reading's
	readAt := uint64(time.Now().UnixMicro())
	sts, invs, err := m.readRuns(ctx, units)
	if err != nil {
		return err
	}
	tracks.mu.Lock()
	moved := false
	for i, p := range procs {
		if tr := tracks.by[p.unit]; tr != nil && tr.inv != invs[i] {
			moved = true
		}
	}
	tracks.mu.Unlock()
	if moved {
		if err := sync(); err != nil {
			return err
		}
	}
	now := m.now()
	var out []StateChange
	tracks.mu.Lock()
	for i, p := range procs {
		cur := supervisorState(p.p, sts[i], now)
		tr := tracks.by[p.unit]
		if tr == nil {
			// the starting point: nothing to report
			tr = &track{state: cur.State, pid: cur.PID, minUp: p.p.MinUptime}
			tr.run, _ = runOf(cur, sts[i], invs[i])
			if cur.State == status.Backoff {
				tr.backoff = 1
			}
			tracks.by[p.unit] = tr
		} else {
			missed := tr.replay(p, runs[p.unit], sts[i], readAt)
			out = append(out, missed...)
			cur = tr.settle(cur, sts[i])
			out = append(out, tr.advance(p, cur, sts[i], invs[i])...)
		}
		tr.follow(sts[i])
		tr.inv = invs[i]
		if kept := keepRuns(runs[p.unit], tr); len(kept) > 0 {
			runs[p.unit] = kept
		} else {
			delete(runs, p.unit)
		}
		tr.minUp = p.p.MinUptime
		if tr.timer != nil {
			tr.timer.Stop()
			tr.timer = nil
		}
		if cur.State == status.Starting && (sts[i].Active == "active" || sts[i].Active == "reloading") {
			// STARTING by the clock: look again when startsecs has passed
			pp := p
			left := cur.Start.Add(p.p.MinUptime).Sub(now) + time.Millisecond
			tr.timer = time.AfterFunc(max(left, time.Millisecond), func() {
				select {
				case due <- pp:
				case <-ctx.Done():
				}
			})
		}
	}
	tracks.mu.Unlock()
	for _, c := range out {
		emit(c)
	}
	return nil
}

// readRuns reads the units' states as status does, and the InvocationID
// of each unit for that reading (hex, "" for none): systemd draws a new
// one for every start, automatic restarts too. The IDs are read before
// and after the states, and the states again where they differ (a start
// began during the reading), so that each state is of the start its ID
// names.
func (m *Manager) readRuns(ctx context.Context, units []string) ([]unitState, []string, error) {
	for try := 0; ; try++ {
		before, err := m.invocations(ctx, units)
		if err != nil {
			return nil, nil, err
		}
		sts, err := m.read(ctx, units)
		if err != nil {
			return nil, nil, err
		}
		after, err := m.invocations(ctx, units)
		if err != nil {
			return nil, nil, err
		}
		// a start every few µs for the whole reading, five times over,
		// is not a unit of Supervisor's: take the last reading then
		if slices.Equal(before, after) || try == 4 {
			return sts, after, nil
		}
	}
}

// invocations reads the InvocationID of each unit, in one batch on the
// status reads' connection (wire.go), hex-encoded; "" for a unit that
// has none (never started, not loaded).
func (m *Manager) invocations(ctx context.Context, units []string) ([]string, error) {
	w, err := m.wire(ctx)
	if err != nil {
		return nil, err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		w.c.SetDeadline(dl)
		defer w.c.SetDeadline(time.Time{})
	}
	out := make([]string, len(units))
	first := w.serial + 1
	for _, u := range units {
		w.call(destSystemd, string(unitPath(u)), "org.freedesktop.DBus.Properties", "Get", "ss", ifaceUnit, "InvocationID")
	}
	if err := w.flush(); err != nil {
		return nil, m.broken(err)
	}
	if _, err := w.replies(len(units), func(serial int, r *reply) error {
		i := int(uint32(serial) - first)
		if uint32(serial) < first || i >= len(units) || r.err() != nil {
			return nil // a unit that is not there has none
		}
		d := decoder{b: r.body, o: r.order}
		if sig := d.sig(); sig != "ay" {
			return fmt.Errorf("%s InvocationID: unexpected type %q", units[i], sig)
		}
		n := int(d.u32())
		if d.need(n) {
			out[i] = hex.EncodeToString(d.b[d.p : d.p+n])
		}
		return d.err
	}); err != nil {
		return nil, m.broken(err)
	}
	return out, nil
}

// runOf is the start (its InvocationID) whose run a reading in state cur
// is of, and whether the reading tells: a start in which the program ran
// (ExecStart's status, which systemd clears as a start begins), or one
// under way before its program (STARTING in start-pre). A unit waiting to
// restart after a run that ended past startsecs is STARTING for the next
// start, not known yet (""). A reading with no program run in its start
// (the step waiting out the backoff, which belongs to the run before;
// giving up; stopped) tells none.
func runOf(cur status.Process, st unitState, inv string) (string, bool) {
	switch {
	case inv == "":
		return "", false
	case st.Sub == "auto-restart" && cur.State == status.Starting:
		return "", true
	case st.Start != 0:
		return inv, true
	case st.Active == "activating" && cur.State == status.Starting:
		return inv, true
	}
	return "", false
}

// advance moves tr to cur, read of the start inv, along Supervisor's
// state machine and returns the transitions, with Supervisor's backoff
// counter: BACKOFF counts one up, RUNNING, EXITED and FATAL (give_up)
// reset it, STARTING reports it.
func (tr *track) advance(p *proc, cur status.Process, st unitState, inv string) []StateChange {
	// A run is one start's program, told by the start's InvocationID:
	// a reading of another start in which the program ran is a new run,
	// however its state compares (the watch missed a run, or more, on a
	// loaded machine). A start in which no program ran (the step gave
	// up: FATAL) is none.
	newRun := st.Start != 0 && inv != "" && tr.run != "" && inv != tr.run
	if cur.State == tr.state && !newRun {
		if cur.PID != 0 {
			tr.pid = cur.PID
		}
		if run, ok := runOf(cur, st, inv); ok {
			tr.run = run
		}
		return nil
	}
	path := statePath(tr.state, cur.State, false)
	if newRun {
		// a new run of the program began since: through its STARTING
		path = statePath(tr.state, status.Starting, tr.state == status.Starting)
		if cur.State != status.Starting {
			path = append(path, statePath(status.Starting, cur.State, false)...)
		}
	}
	var out []StateChange
	for _, to := range path {
		c := StateChange{Group: p.g.Name, Name: p.p.Name, Unit: p.unit, From: tr.state, To: to}
		switch to {
		case status.Backoff:
			tr.backoff++
			c.Tries = tr.backoff
		case status.Starting:
			c.Tries = tr.backoff
			tr.pid = cur.PID // the new run's, when it is the one read
			tr.run = ""      // a new run: its start is not known yet
		case status.Running:
			tr.backoff = 0
			if cur.PID != 0 {
				tr.pid = cur.PID
			}
			c.PID = tr.pid
		case status.Stopping:
			if cur.PID != 0 {
				tr.pid = cur.PID
			}
			c.PID = tr.pid
		case status.Exited:
			tr.backoff = 0
			c.PID = tr.pid
			c.Expected = slices.Contains(p.p.ExitCodes, cur.ExitStatus)
			if cur.State != status.Exited {
				// an exit seen only through the restart that followed it
				c.Expected = slices.Contains(p.p.ExitCodes, exitStatus(st))
			}
			tr.pid = 0
		case status.Stopped:
			c.PID = tr.pid
			if tr.state == status.Backoff {
				c.PID = 0
			}
			tr.pid = 0
		case status.Fatal:
			tr.backoff = 0
		}
		tr.state = to
		out = append(out, c)
	}
	if run, ok := runOf(cur, st, inv); ok {
		tr.run = run
	}
	if cur.PID != 0 {
		tr.pid = cur.PID
	}
	return out
}

// supervisorEdges is Supervisor 4.2.5's process state machine
// (supervisor.md §7): the states each state changes to directly. The
// order of each list is the preference when two paths are as short.
var supervisorEdges = map[status.State][]status.State{
	status.Stopped:  {status.Starting},
	status.Starting: {status.Running, status.Backoff, status.Stopping},
	status.Running:  {status.Exited, status.Stopping},
	status.Backoff:  {status.Starting, status.Fatal, status.Stopped},
	status.Stopping: {status.Stopped},
	status.Exited:   {status.Starting},
	status.Fatal:    {status.Starting},
}

// statePath is the shortest path of Supervisor's transitions from from
// to to (again: a new run in the same state, a path of at least one
// step), without from itself. A state Supervisor cannot reach that way
// (UNKNOWN) is reached in one step.
func statePath(from, to status.State, again bool) []status.State {
	type node struct {
		s    status.State
		prev *node
	}
	start := &node{s: from}
	queue := []*node{start}
	seen := map[status.State]bool{}
	if !again {
		seen[from] = true
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, next := range supervisorEdges[n.s] {
			if seen[next] {
				continue
			}
			seen[next] = true
			nn := &node{s: next, prev: n}
			if next == to {
				var path []status.State
				for x := nn; x != start; x = x.prev {
					path = append(path, x.s)
				}
				slices.Reverse(path)
				return path
			}
			queue = append(queue, nn)
		}
	}
	return []status.State{to}
}

// UnitProcess returns the group and name of the process whose unit is
// unit, and whether there is one.
func (m *Manager) UnitProcess(unit string) (group, name string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.procs {
		if p.unit == unit {
			return p.g.Name, p.p.Name, true
		}
	}
	return "", "", false
}

// UnitOfCgroup is the unit a process of the manager runs in, from the
// cgroup path /proc/PID/cgroup gives ("" if it names none): the last
// component that is a service.
func UnitOfCgroup(cgroup string) string {
	parts := strings.Split(strings.TrimSpace(cgroup), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if strings.HasSuffix(parts[i], ".service") {
			return parts[i]
		}
	}
	return ""
}
