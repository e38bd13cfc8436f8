package sysd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/shim"
)

// unitState is what status needs to know of one service unit.
type unitState struct {
	Load, Active, Sub string
	MainPID           uint32
	RunPID            uint32 // the pid of the last run's program, kept after it ended (ExecStart's); 0 if not read
	Start             uint64 // ExecMainStartTimestamp, µs since the epoch; 0 = never started
	Exit              uint64 // ExecMainExitTimestamp
	ActiveExit        uint64 // ActiveExitTimestamp: when the unit left "active"
	InactiveEnter     uint64 // InactiveEnterTimestamp, asked of a failed unit and an inactive one with no Start
	InactiveExit      uint64 // InactiveExitTimestamp: when the unit last left inactive (a start); asked with InactiveEnter
	Result            string
	Code              int32  // ExecMainCode of the last run: 1 exited, 2 killed, 3 dumped (CLD_*); 0 while running
	Status            int32  // ExecMainStatus: the exit status, or the signal
	Job               string // the type of the unit's queued job ("stop", "start", "restart", ...), "" for none
	// Backoff: the compatibility step marks a backoff wait or its giving
	// up (shim.WaitFile); read in start-pre, and where no program ran in
	// this start (Start 0) in auto-restart and deactivating (stepWaits)
	Backoff bool
	// LastStart and LastStop are the last run's times as the
	// compatibility step kept them when it gave up (shim.LastRunSuffix),
	// µs; read for a failed unit whose ExecStart status systemd cleared.
	LastStart, LastStop uint64
	// Ended: the compatibility step refuses (or is about to refuse) the
	// restart that systemd makes after a late end it counts as a
	// failure under autorestart=false (shim.WaitEnded): Supervisor's
	// EXITED. LastStart, LastStop, LastCode and LastStatus are then that
	// run's times and end, from the state directory, or for a failed
	// unit from beside it (shim.LastRunSuffix).
	Ended                bool
	LastCode, LastStatus int32
	// Reloaded is when ctl reload (supervisord's restart) last ran for
	// these units, µs (reloadMark); read for an inactive or failed unit.
	Reloaded uint64
}

const (
	ifaceUnit    = "org.freedesktop.systemd1.Unit"
	ifaceService = "org.freedesktop.systemd1.Service"
	ifaceManager = "org.freedesktop.systemd1.Manager"
	destSystemd  = "org.freedesktop.systemd1"
)

// read gets the state of the units with as few round trips as systemd
// allows (reference/systemd.md §5.3): one ListUnitsByNames call for the
// load, active and sub states of all of them; then, in one write on the
// same connection, a Properties.Get for each further property a unit's
// state needs: ExecStart (the main process's pid and start and exit
// times) for every loaded unit, and for one that has stopped the time it
// left "active" and its result. A running program costs
// one small message each way; GetAll would send about 150 properties.
func (m *Manager) read(ctx context.Context, units []string) ([]unitState, error) {
	out, _, err := m.readWith(ctx, units, false, false)
	return out, err
}

// readUnits is read for the snapshots of every unit (readProcs); with
// withDir it also returns, from the same first batch, the directory the
// anchor target was loaded from ("" if none). The runs of running units
// may come from the cache of runs (runs.go); a read of one unit or one
// group (read) asks the manager, and only records what it learns there
// (so that the status after a start or restart finds its runs).
func (m *Manager) readUnits(ctx context.Context, units []string, withDir bool) ([]unitState, string, error) {
	return m.readWith(ctx, units, withDir, len(units) > 0)
}

// readWith is readUnits, with the cache of runs or without.
func (m *Manager) readWith(ctx context.Context, units []string, withDir, cached bool) ([]unitState, string, error) {
	w, err := m.wire(ctx)
	if err != nil {
		return nil, "", err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		w.c.SetDeadline(dl)
		defer w.c.SetDeadline(time.Time{})
	}
	anchor := ""
	if withDir {
		anchor = m.anchor()
	}
	if m.runs == nil && len(units) > 0 {
		m.runs = openRuns(m.opts.Scope, m.getenv, m.anchor())
	}
	out, dir, err := readStates(w, units, anchor, m.runs, cached)
	if err != nil {
		// a reply may be left half read: the next read dials again
		return nil, "", m.broken(err)
	}
	if cached && m.runs != nil {
		// the other reads' runs are written by Close: a start or a
		// stop reads its unit many times as it waits
		m.runs.save()
	}
	m.markBackoff(units, out)
	return out, dir, nil
}

// markBackoff marks the units whose compatibility step waits out
// Supervisor's backoff or gives up (stepWaits), adds the
// last run's times of the units whose step gave up (lastRun), and the
// time of the last reload to stopped units (reloadMark).
func (m *Manager) markBackoff(units []string, out []unitState) {
	reloaded, read := uint64(0), false
	for i := range out {
		st := &out[i]
		switch {
		case st.Active == "activating" && st.Sub == "start-pre":
			st.Backoff, st.Ended = m.stepWaits(units[i], true)
		case st.Sub == "auto-restart" || st.Active == "deactivating" && st.MainPID == 0:
			// a late end whose restart the step refuses is marked as
			// the unit stops (Start is still the program's then)
			backoff, ended := m.stepWaits(units[i], false)
			st.Backoff, st.Ended = backoff && st.Start == 0, ended
		case st.Active == "inactive" || st.Active == "failed":
			if !read {
				reloaded, read = m.reloadMark(), true
			}
			st.Reloaded = reloaded
			if st.Active == "failed" && st.Start == 0 {
				st.LastStart, st.LastStop, st.LastCode, st.LastStatus = m.lastRun(units[i])
				st.Ended = st.LastCode != 0
			}
		}
		if st.Ended && st.Active != "failed" {
			st.LastStart, st.LastStop, st.LastCode, st.LastStatus = m.endedRun(units[i])
		}
	}
}

// runtimeDir is where the units' compatibility step keeps its state
// (%t/supersede), "" when it cannot be known.
func (m *Manager) runtimeDir() string {
	return runtimeDir(m.opts.Scope, m.getenv)
}

// runtimeDir is the units' runtime state directory of the manager of
// scope ("" when it cannot be known).
func runtimeDir(scope Scope, getenv func(string) string) string {
	if scope == User {
		rt := getenv("XDG_RUNTIME_DIR")
		if rt == "" {
			return ""
		}
		return filepath.Join(rt, "supersede")
	}
	return "/run/supersede"
}

// lastRun reads the last run's times that the compatibility step of unit
// kept as it gave up or refused a restart (shim.LastRunSuffix), in µs,
// with the run's end where it refused (code 0 otherwise); zeros when
// there are none.
func (m *Manager) lastRun(unit string) (start, stop uint64, code, status int32) {
	rt := m.runtimeDir()
	if rt == "" {
		return 0, 0, 0, 0
	}
	state := filepath.Join(rt, strings.TrimSuffix(unit, ".service"))
	b, err := os.ReadFile(state + shim.LastRunSuffix)
	if err != nil {
		// the step could not write beside its directory (a program run
		// as another user): the directory itself, if systemd left it
		return m.endedRun(unit)
	}
	return lastRunMicro(string(b))
}

// endedRun reads the times and the end of the last run from unit's state
// directory (shim's started, stopped and EndFile), as lastRun does.
func (m *Manager) endedRun(unit string) (start, stop uint64, code, status int32) {
	rt := m.runtimeDir()
	if rt == "" {
		return 0, 0, 0, 0
	}
	state := filepath.Join(rt, strings.TrimSuffix(unit, ".service"))
	started, err1 := os.ReadFile(filepath.Join(state, shim.StartedFile))
	stopped, err2 := os.ReadFile(filepath.Join(state, shim.StoppedFile))
	if err1 != nil || err2 != nil {
		return 0, 0, 0, 0
	}
	run := string(bytes.TrimSpace(started)) + " " + string(bytes.TrimSpace(stopped))
	if shim.ReadWait(state) == shim.WaitEnded {
		if end, err := os.ReadFile(filepath.Join(state, shim.EndFile)); err == nil {
			run += " " + string(bytes.TrimSpace(end))
		}
	}
	return lastRunMicro(run)
}

// lastRunMicro is shim.ParseLastRun with the times in µs; zeros for a
// malformed run.
func lastRunMicro(s string) (start, stop uint64, code, status int32) {
	start, stop, code, status, ok := shim.ParseLastRun(s)
	if !ok {
		return 0, 0, 0, 0
	}
	return start / 1000, stop / 1000, code, status
}

// readStates is the reading of readUnits on w; anchor, if not "", is the
// anchor target whose directory to return. With rc, rc learns the runs
// the Gets told (runs.go), and with use too, the pid and start time of a
// running unit whose run rc knows are taken from rc instead of a Get.
// After an error, w may be in the middle of a reply and must not be used
// again.
func readStates(w *wire, units []string, anchor string, rc *runCache, use bool) ([]unitState, string, error) {
	withDir := anchor != ""
	// One batch: ListUnitsByNames, and ExecStart of every unit at the
	// object path its name gives (unitPath); for the usual case, all
	// programs running, that is the only round trip.
	out := make([]unitState, len(units))
	paths := make([]string, len(units))
	list := w.call(destSystemd, "/org/freedesktop/systemd1", ifaceManager, "ListUnitsByNames", "as", units)
	frag := uint32(0)
	dir := ""
	if withDir {
		frag = w.call(destSystemd, string(unitPath(anchor)), "org.freedesktop.DBus.Properties", "Get", "ss", ifaceUnit, "FragmentPath")
	}
	var ids []string // each unit's invocation ID, read before any Get of it is sent
	var taken []run  // the run of units[i] from its record or the cache (runs.go), id "" for none
	if rc != nil {
		// the manager lists the units while the symlinks and records
		// are read
		if err := w.flush(); err != nil {
			return nil, "", err
		}
		ids = rc.invocations(units)
		taken = rc.lookup(units, ids, use)
	}
	// With use, a unit with a taken run gets no Get unless the list
	// says it no longer runs it; without, every unit is asked, and a
	// record still gives the start (below).
	hit := func(i int) bool { return use && taken != nil && taken[i].id != "" }
	// the ExecStart Gets have consecutive serials: first+k is units[asked[k]]'s
	first := w.serial + 1
	asked := make([]int, 0, len(units))
	for i, u := range units {
		if !hit(i) {
			asked = append(asked, i)
		}
		paths[i] = string(unitPath(u))
	}
	for k, i := range asked {
		at := w.buf.Len()
		w.call(destSystemd, paths[i], "org.freedesktop.DBus.Properties", "Get", "ss", ifaceService, "ExecStart")
		if k == 0 && len(asked) > 1 {
			// room for the rest at once: the Gets differ only in their
			// path (and its padding), and growing by doubling left
			// twice the batch behind as garbage
			rest := 0
			for _, j := range asked[1:] {
				rest += len(paths[j]) + 8
			}
			w.buf.Grow((w.buf.Len()-at-len(paths[i]))*(len(asked)-1) + rest)
		}
	}
	if err := w.flush(); err != nil {
		return nil, "", err
	}
	n := 1 + len(asked)
	if withDir {
		n++
	}
	if _, err := w.replies(n, func(serial int, r *reply) error {
		if withDir && uint32(serial) == frag {
			if r.err() != nil {
				return nil // no anchor: no units of this config
			}
			d := decoder{b: r.body, o: r.order}
			if sig := d.sig(); sig != "s" {
				return fmt.Errorf("%s FragmentPath: unexpected type %q", anchor, sig)
			}
			if p := d.str(); p != "" {
				dir = filepath.Dir(p)
			}
			return d.err
		}
		if uint32(serial) != list {
			k := int(uint32(serial) - first)
			if uint32(serial) < first || k >= len(asked) || r.err() != nil {
				return nil // a unit that is not there has no ExecStart
			}
			return store(get{asked[k], "ExecStart"}, r, units, out)
		}
		if err := r.err(); err != nil {
			return fmt.Errorf("ListUnitsByNames: %w", err)
		}
		if r.sig != "a(ssssssouso)" {
			return fmt.Errorf("ListUnitsByNames: unexpected reply %q", r.sig)
		}
		d := decoder{b: r.body, o: r.order}
		end := int(d.u32())
		d.align(8)
		end += d.p
		for i := 0; d.p < end && d.err == nil; i++ {
			d.align(8)
			name := d.view()
			d.view() // description
			load, active, sub := d.view(), d.view(), d.view()
			d.view() // following
			d.view() // path
			d.u32()  // job id
			job := d.view()
			d.view() // job path
			if i >= len(units) || string(name) != units[i] {
				return fmt.Errorf("ListUnitsByNames: answer %d is %q, not %q", i, name, units[min(i, len(units)-1)])
			}
			out[i].Load, out[i].Active, out[i].Sub = intern(load), intern(active), intern(sub)
			if len(job) > 0 {
				out[i].Job = intern(job)
			}
		}
		return d.err
	}); err != nil {
		return nil, "", err
	}
	if taken != nil {
		// a known run, and the unit still runs it with nothing queued:
		// the run's pid and start (where the unit was asked too, the
		// start of a record's run, if the manager names its pid); else
		// ask, as for the others
		late := map[uint32]get{}
		// a run read from its record now must be the run the manager
		// listed (confirm)
		rc.confirm(units, taken)
		for i := range out {
			r := taken[i]
			if r.id == "" {
				continue
			}
			st := &out[i]
			running := st.Load == "loaded" && st.Active == "active" && st.Sub == "running" && st.Job == "" && !r.stale
			switch {
			case running && hit(i):
				st.MainPID, st.Start = r.pid, r.start
			case running && st.MainPID == r.pid && st.Exit == 0 && st.Code == 0:
				st.Start = r.start
			case !hit(i):
			default:
				s := w.call(destSystemd, paths[i], "org.freedesktop.DBus.Properties", "Get", "ss", ifaceService, "ExecStart")
				late[s] = get{i, "ExecStart"}
			}
		}
		if len(late) > 0 {
			if err := w.flush(); err != nil {
				return nil, "", err
			}
			if _, err := w.replies(len(late), func(serial int, r *reply) error {
				g, ok := late[uint32(serial)]
				if !ok || r.err() != nil {
					return nil // gone meanwhile: no ExecStart, as in the first batch
				}
				return store(g, r, units, out)
			}); err != nil {
				return nil, "", err
			}
		}
	}
	gets := map[uint32]get{}
	ask := func(i int, iface, prop string) {
		s := w.call(destSystemd, paths[i], "org.freedesktop.DBus.Properties", "Get", "ss", iface, prop)
		gets[s] = get{i, prop}
	}
	for i := range out {
		st := &out[i]
		if st.Load != "loaded" {
			continue
		}
		switch st.Active {
		case "active", "activating", "deactivating", "reloading":
		default: // inactive, failed
			ask(i, ifaceUnit, "ActiveExitTimestamp")
			ask(i, ifaceService, "Result")
			if st.Start == 0 && st.Active == "inactive" || st.Active == "failed" {
				// never started, or stopped while the compatibility
				// step waited (systemd clears ExecStart's status as a
				// start begins): when it stopped tells them apart
				ask(i, ifaceUnit, "InactiveEnterTimestamp")
				ask(i, ifaceUnit, "InactiveExitTimestamp")
			}
		}
	}
	if err := exchange(w, gets, units, out); err != nil {
		return nil, "", err
	}
	// ExecStart's status of the last run is not kept across a
	// daemon-reload; where it is empty, ask the ExecMain* properties,
	// which are (a third round trip, only after a reload).
	gets = map[uint32]get{}
	for i := range out {
		st := &out[i]
		if st.Load != "loaded" || st.Start != 0 {
			continue
		}
		ask(i, ifaceService, "ExecMainStartTimestamp")
		switch st.Active {
		case "active", "activating", "deactivating", "reloading":
			ask(i, ifaceService, "MainPID")
		default:
			ask(i, ifaceService, "ExecMainExitTimestamp")
			ask(i, ifaceService, "ExecMainCode")
			ask(i, ifaceService, "ExecMainStatus")
		}
	}
	if err := exchange(w, gets, units, out); err != nil {
		return nil, "", err
	}
	if rc != nil {
		rc.note(units, ids, out, taken)
	}
	return out, dir, nil
}

// intern returns the states systemd names without allocating.
func intern(b []byte) string {
	switch string(b) {
	case "loaded":
		return "loaded"
	case "not-found":
		return "not-found"
	case "active":
		return "active"
	case "inactive":
		return "inactive"
	case "running":
		return "running"
	case "dead":
		return "dead"
	case "failed":
		return "failed"
	case "exited":
		return "exited"
	}
	return string(b)
}

// failedStarts is the compatibility step's count of failed starts of
// unit (internal/shim, in the unit's RuntimeDirectory=, unitgen.StateDir);
// read only for a step of an older supersede, which marks no wait
// (stepWaits).
func (m *Manager) failedStarts(unit string) int {
	rt := m.runtimeDir()
	if rt == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(rt, strings.TrimSuffix(unit, ".service"), shim.CountFile))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// get is one property asked of the unit units[i].
type get struct {
	i    int
	prop string
}

// exchange sends the batch of gets and stores the answers in out.
func exchange(w *wire, gets map[uint32]get, units []string, out []unitState) error {
	if len(gets) == 0 {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	if _, err := w.replies(len(gets), func(serial int, r *reply) error {
		g, ok := gets[uint32(serial)]
		if !ok {
			return nil
		}
		if err := r.err(); err != nil {
			return fmt.Errorf("%s %s: %w", units[g.i], g.prop, err)
		}
		return store(g, r, units, out)
	}); err != nil {
		return err
	}
	return nil
}

// store decodes the answer to g into out.
func store(g get, r *reply, units []string, out []unitState) error {
	d := decoder{b: r.body, o: r.order}
	sig := d.sig()
	st := &out[g.i]
	switch {
	case g.prop == "ExecStart" && sig == "a(sasbttttuii)":
		st.execStart(&d)
	case g.prop == "ActiveExitTimestamp" && sig == "t":
		st.ActiveExit = d.u64()
	case g.prop == "InactiveEnterTimestamp" && sig == "t":
		st.InactiveEnter = d.u64()
	case g.prop == "InactiveExitTimestamp" && sig == "t":
		st.InactiveExit = d.u64()
	case g.prop == "ExecMainStartTimestamp" && sig == "t":
		st.Start = d.u64()
	case g.prop == "ExecMainExitTimestamp" && sig == "t":
		st.Exit = d.u64()
	case g.prop == "MainPID" && sig == "u":
		st.MainPID = d.u32()
	case g.prop == "Result" && sig == "s":
		st.Result = d.str()
	case g.prop == "ExecMainCode" && sig == "i":
		st.Code = int32(d.u32())
	case g.prop == "ExecMainStatus" && sig == "i":
		st.Status = int32(d.u32())
	default:
		return fmt.Errorf("%s %s: unexpected type %q", units[g.i], g.prop, sig)
	}
	return d.err
}

// execStart takes the main process's pid and timestamps from the unit's
// ExecStart property, a(sasbttttuii): path, argv, ignore-errors, start
// (realtime, monotonic), exit (realtime, monotonic), pid, code, status of
// the last run of each command. One property instead of MainPID,
// ExecMainStartTimestamp and ExecMainExitTimestamp halves the calls.
func (st *unitState) execStart(d *decoder) {
	n := int(d.u32())
	d.align(8)
	if n == 0 || d.err != nil {
		return
	}
	d.str()         // path
	d.skipStrings() // argv
	d.u32()         // ignore errors
	st.Start = d.u64()
	d.u64()
	st.Exit = d.u64()
	d.u64()
	pid := d.u32()
	code := d.u32()
	st.Code, st.Status = int32(code), int32(d.u32())
	st.RunPID = pid
	if code == 0 && st.Exit == 0 {
		st.MainPID = pid // still running
	}
}
