package sysd

import (
	"slices"
	"strconv"
	"time"

	godbus "github.com/godbus/dbus/v5"

	"github.com/supersede/supersede/internal/status"
)

// The watch reads a unit's state after its signals, at moments: a
// program that crashes and is restarted by systemd (RestartSec=100 ms)
// can run and end whole between two readings on a loaded machine, and a
// reading sees only where the unit stands now. Supervisor's event
// listeners must still hear every attempt. The signals themselves say
// what the readings miss: the manager sends a unit's PropertiesChanged
// for the Service interface after every turn of its loop in which the
// unit changed, and that signal carries every ExecMain* property and
// NRestarts (all "emits change" in systemd 252): a snapshot of the
// program's current run — its start, its end once it ended, its pid, how
// it ended — and of the count of automatic restarts. The watch keeps
// those snapshots (runLog, no call to the manager: they come with the
// signals it receives anyway) and, before it advances a track to a
// reading, replays each run between the track's and the reading's as
// readings of its own (replay), through the same derivation and state
// machine, so that each gives Supervisor's transitions in its order.

// seenRun is one run of a unit's program as the signals told it.
type seenRun struct {
	start, exit  uint64 // ExecMainStartTimestamp, ExecMainExitTimestamp (0 while it runs), µs
	pid          uint32 // ExecMainPID
	code, status int32  // ExecMainCode, ExecMainStatus once it ended
	// restarts is NRestarts while the run went on (systemd counts an
	// automatic restart as it queues its start, while the properties
	// still show the run before), restarted whether a later snapshot of
	// the same run counted one more: the run's end was followed by an
	// automatic restart (not a stop, nor a start asked for after one).
	restarts  uint32
	restarted bool
}

// runLog is the runs each unit's signals told since the watch last read
// the unit, by unit, in the order their first snapshots came.
type runLog map[string][]seenRun

// note takes a PropertiesChanged signal of unit's Service interface
// (body: interface, changed properties, invalidated ones) into the log.
// The signals may come out of order (godbus delivers them late, not
// lost, when the watch's channel is full): every snapshot is whole, so
// none depends on the one before.
func (l runLog) note(unit string, body []any) {
	if len(body) < 2 {
		return
	}
	if iface, _ := body[0].(string); iface != ifaceService {
		return
	}
	ch, _ := body[1].(map[string]godbus.Variant)
	var r seenRun
	var ok1, ok2 bool
	r.start, ok1 = ch["ExecMainStartTimestamp"].Value().(uint64)
	r.pid, ok2 = ch["ExecMainPID"].Value().(uint32)
	if !ok1 || !ok2 || r.start == 0 || r.pid == 0 {
		return // no run (a start begins; the steps before the program)
	}
	r.exit, _ = ch["ExecMainExitTimestamp"].Value().(uint64)
	r.code, _ = ch["ExecMainCode"].Value().(int32)
	r.status, _ = ch["ExecMainStatus"].Value().(int32)
	restarts, counted := ch["NRestarts"].Value().(uint32)
	runs := l[unit]
	for i := range runs {
		o := &runs[i]
		if o.pid != r.pid || o.start != r.start {
			continue
		}
		if r.exit != 0 {
			o.exit, o.code, o.status = r.exit, r.code, r.status
		}
		if counted {
			switch {
			case restarts > o.restarts:
				o.restarted = true
			case restarts < o.restarts:
				// the later snapshot came first: this one is of the run
				// going on, the one taken of the restart queued after it
				o.restarts, o.restarted = restarts, true
			}
		}
		return
	}
	r.restarts = restarts
	l[unit] = append(runs, r)
}

// runEnded marks the end of the track's run as reported where the
// reading st showed it (the unit left the run: waiting to restart,
// stopping, stopped): its replay must not report it again. A program
// dead while its unit is still in its start steps reads STARTING: its
// end is not reported yet.
func (tr *track) runEnded(st unitState) {
	inRun := st.Active == "active" || st.Active == "reloading" || st.Active == "activating" && st.Sub != "auto-restart"
	if st.RunPID != 0 && st.RunPID == tr.runPID && st.Exit != 0 && !inRun {
		tr.endDone = true
	}
}

// follow makes the run a reading is of (st) the track's run.
func (tr *track) follow(st unitState) {
	if st.Start == 0 {
		return
	}
	if st.RunPID == 0 {
		// read from ExecMain* (ExecStart's status is not kept across
		// a daemon-reload): a running program's pid, else an ended
		// run known by its start alone
		st.RunPID = st.MainPID
		if st.RunPID == 0 {
			tr.runPID, tr.runStart, tr.endDone = 0, st.Start, true
			return
		}
	}
	if st.RunPID != tr.runPID {
		tr.runPID, tr.runStart, tr.endDone = st.RunPID, st.Start, false
	}
	tr.runEnded(st)
}

// replay reports the runs of runs that came between the track's run and
// the one st (the reading about to be taken, begun at readAt, µs) is
// of, and the end of the track's run where the reading does not show it:
// each as the readings a watch reading often enough would have taken —
// its start, its RUNNING if it lived startsecs, its end with the
// automatic restart that followed — through supervisorState and advance. It goes on only while
// Supervisor's state machine would take each step by itself: a run
// that ended without an automatic restart after it (a stop, a restart
// asked for) ends the replay, and the reading then goes on from there as
// before. It returns the transitions.
func (tr *track) replay(p *proc, runs []seenRun, st unitState, readAt uint64) []StateChange {
	if len(runs) == 0 {
		return nil
	}
	slices.SortFunc(runs, func(a, b seenRun) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	var out []StateChange
	see := func(u unitState, inv string, now time.Time) {
		u.Load = "loaded"
		cur := supervisorState(p.p, u, now)
		out = append(out, tr.advance(p, cur, u, inv)...)
	}
	// the run's end; false where the replay must end
	end := func(r seenRun, inv string, last bool) bool {
		if r.exit == 0 || !r.restarted || last && st.Ended {
			// no end told, or no automatic restart after it, or the
			// one after it refused by the compatibility step (a late
			// end under autorestart=false: EXITED, the reading's)
			return false
		}
		u := unitState{Active: "activating", Sub: "auto-restart", RunPID: r.pid, Start: r.start, Exit: r.exit, Code: r.code, Status: r.status}
		see(u, inv, micro(r.exit))
		tr.endDone = true
		return true
	}
	for i, r := range runs {
		last := i == len(runs)-1
		switch {
		case st.Start != 0 && r.pid == st.RunPID, r.start >= readAt:
			// the reading's own run, or one begun after the reading
			// began: the next reading's
			return out
		case r.pid == tr.runPID:
			if !tr.endDone && !end(r, tr.run, last) {
				return out
			}
			continue
		case r.start <= tr.runStart:
			continue // the track's run known by its start alone, or one before: reported
		}
		// a run the readings missed: Supervisor starts it by itself
		// from BACKOFF and after an end that restarts (STARTING
		// already), and any start from a resting state is a start
		switch tr.state {
		case status.Backoff, status.Starting, status.Stopped, status.Exited, status.Fatal:
		default:
			return out
		}
		if tr.state == status.Starting && tr.runPID != 0 && !tr.endDone {
			return out // a run under way whose end the signals did not tell
		}
		inv := "pid:" + strconv.FormatUint(uint64(r.pid), 10) // a run of its own; its InvocationID is on another interface
		see(unitState{Active: "activating", Sub: "start", MainPID: r.pid, RunPID: r.pid, Start: r.start}, inv, micro(r.start))
		tr.runPID, tr.runStart, tr.endDone = r.pid, r.start, false
		if r.exit != 0 && time.Duration(r.exit-r.start)*time.Microsecond >= p.p.MinUptime {
			see(unitState{Active: "active", Sub: "running", MainPID: r.pid, RunPID: r.pid, Start: r.start},
				inv, micro(r.start).Add(p.p.MinUptime))
		}
		if !end(r, inv, last) {
			return out
		}
	}
	return out
}

// keepRuns is the runs still to keep for tr: its own run (whose end may
// come later) and those after it.
func keepRuns(runs []seenRun, tr *track) []seenRun {
	kept := runs[:0]
	for _, r := range runs {
		if r.pid == tr.runPID || r.start > tr.runStart {
			kept = append(kept, r)
		}
	}
	return kept
}
