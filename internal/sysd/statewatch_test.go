package sysd

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// statePath fills in the transitions a reading skipped, along
// Supervisor's state machine.
func TestStatePath(t *testing.T) {
	S := status.Stopped
	for _, c := range []struct {
		from, to status.State
		again    bool
		want     []status.State
	}{
		{S, status.Starting, false, []status.State{status.Starting}},
		{S, status.Running, false, []status.State{status.Starting, status.Running}},
		{status.Running, status.Stopped, false, []status.State{status.Stopping, status.Stopped}},
		{status.Starting, status.Fatal, false, []status.State{status.Backoff, status.Fatal}},
		{status.Starting, status.Exited, false, []status.State{status.Running, status.Exited}},
		{status.Starting, status.Starting, true, []status.State{status.Backoff, status.Starting}},
		{status.Running, status.Running, true, []status.State{status.Exited, status.Starting, status.Running}},
		{status.Backoff, status.Stopped, false, []status.State{status.Stopped}},
		{S, status.Unknown, false, []status.State{status.Unknown}},
	} {
		if got := statePath(c.from, c.to, c.again); !reflect.DeepEqual(got, c.want) {
			t.Errorf("statePath(%v, %v, %v) = %v, want %v", c.from, c.to, c.again, got, c.want)
		}
	}
}

// A crash loop read only now and then still gives Supervisor's events:
// the backoff counter counts each failed start, FATAL resets it. Each
// reading is of a start (its InvocationID); a reading of another start
// in which the program ran is a new run, whatever its state.
func TestAdvanceCrashLoop(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	tr := &track{state: status.Stopped}
	var got []string
	see := func(st status.State, u unitState, inv string) {
		for _, c := range tr.advance(p, status.Process{State: st}, u, inv) {
			got = append(got, c.From.String()+">"+c.To.String()+":"+itoa(c.Tries))
		}
	}
	ran := unitState{Load: "loaded", Active: "activating", Sub: "start-post", Start: 1}
	dead := unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: 1, Exit: 2}
	waits := unitState{Load: "loaded", Active: "activating", Sub: "start-pre", Backoff: true}
	see(status.Starting, ran, "a")  // first run
	see(status.Backoff, dead, "a")  // its death
	see(status.Backoff, waits, "b") // the next start's step waits: the same BACKOFF
	see(status.Backoff, dead, "b")  // that start read again only dead: its run between, the same state
	see(status.Fatal, unitState{Load: "loaded", Active: "failed", Sub: "failed"}, "d")
	want := []string{"STOPPED>STARTING:0", "STARTING>BACKOFF:1", "BACKOFF>STARTING:1", "STARTING>BACKOFF:2", "BACKOFF>FATAL:0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if tr.backoff != 0 {
		t.Errorf("backoff %d after FATAL, want 0", tr.backoff)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// A give-up after BACKOFF is one transition, BACKOFF to FATAL, though
// FATAL's start time (the step's own record of the last run) differs
// from the one the watch saw by more than any tolerance: the start in
// which the step gave up ran no program, so it is no new run.
func TestAdvanceFatalIsNoNewRun(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	seen := time.Now().Add(-5 * time.Second)
	tr := &track{state: status.Backoff, run: "a", backoff: 3}
	cur := status.Process{State: status.Fatal, Start: seen.Add(-2 * time.Second)}
	got := tr.advance(p, cur, unitState{Load: "loaded", Active: "failed", Sub: "failed", LastStart: 1, LastStop: 2}, "b")
	if len(got) != 1 || got[0].From != status.Backoff || got[0].To != status.Fatal {
		t.Errorf("give-up: %+v, want one BACKOFF to FATAL", got)
	}
}

// A program that ran past startsecs and died comes back at once:
// RUNNING, EXITED, STARTING, RUNNING, as Supervisor has it. The reading
// while the unit waits to restart is of the run that ended (its start
// time, its InvocationID); its STARTING is the next start's, which must
// not count as yet another run when it is read.
func TestAdvanceRestartAfterRunning(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	base := time.Unix(1000, 0)
	tr := &track{state: status.Running, run: "a", pid: 10}
	var got []string
	see := func(cur status.Process, u unitState, inv string) {
		for _, c := range tr.advance(p, cur, u, inv) {
			got = append(got, c.From.String()+">"+c.To.String())
		}
	}
	see(status.Process{State: status.Starting, Start: base}, unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: 1, Exit: 2, Code: 1, Status: 1}, "a")
	see(status.Process{State: status.Starting}, unitState{Load: "loaded", Active: "activating", Sub: "start-pre"}, "b")
	see(status.Process{State: status.Running, Start: base.Add(3 * time.Second), PID: 11}, unitState{Load: "loaded", Active: "active", Sub: "running", Start: 3}, "b")
	want := []string{"RUNNING>EXITED", "EXITED>STARTING", "STARTING>RUNNING"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// the same, the next start read only once its program runs
	tr = &track{state: status.Running, run: "a", pid: 10}
	got = nil
	see(status.Process{State: status.Starting, Start: base}, unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: 1, Exit: 2, Code: 1, Status: 1}, "a")
	see(status.Process{State: status.Running, Start: base.Add(3 * time.Second), PID: 11}, unitState{Load: "loaded", Active: "active", Sub: "running", Start: 3}, "b")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// A run missed whole is still reported: a RUNNING program read RUNNING
// again in another start went through EXITED and STARTING.
func TestAdvanceMissedRun(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	tr := &track{state: status.Running, run: "a", pid: 10}
	var got []string
	for _, c := range tr.advance(p, status.Process{State: status.Running, PID: 11}, unitState{Load: "loaded", Active: "active", Sub: "running", Start: 3}, "b") {
		got = append(got, c.From.String()+">"+c.To.String())
	}
	want := []string{"RUNNING>EXITED", "EXITED>STARTING", "STARTING>RUNNING"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// the same start read again is no new run
	if c := tr.advance(p, status.Process{State: status.Running, PID: 11}, unitState{Load: "loaded", Active: "active", Sub: "running", Start: 3}, "b"); len(c) != 0 {
		t.Errorf("the same run again: %+v", c)
	}
}

// serviceSignal is the body of a PropertiesChanged signal of a unit's
// Service interface with the ExecMain* snapshot and NRestarts.
func serviceSignal(start, exit uint64, pid uint32, code, st int32, restarts uint32) []any {
	return []any{ifaceService, map[string]godbus.Variant{
		"ExecMainStartTimestamp": godbus.MakeVariant(start),
		"ExecMainExitTimestamp":  godbus.MakeVariant(exit),
		"ExecMainPID":            godbus.MakeVariant(pid),
		"ExecMainCode":           godbus.MakeVariant(code),
		"ExecMainStatus":         godbus.MakeVariant(st),
		"NRestarts":              godbus.MakeVariant(restarts),
	}, []string{}}
}

// The signals' snapshots make one run each, whatever order they come
// in: its start, end and pid, the automatic restarts before it, and
// whether one followed it (NRestarts counted while its end still shows).
func TestRunLogNote(t *testing.T) {
	l := runLog{}
	l.note("x.service", serviceSignal(2_000_000, 2_100_000, 11, 1, 1, 4)) // the restart after run 11 queued
	l.note("x.service", serviceSignal(1_000_000, 0, 10, 0, 0, 2))         // run 10 going on
	l.note("x.service", serviceSignal(0, 0, 0, 0, 0, 4))                  // a start begins: no run
	l.note("x.service", serviceSignal(2_000_000, 0, 11, 0, 0, 3))         // run 11 going on
	l.note("x.service", serviceSignal(1_000_000, 1_500_000, 10, 2, 9, 2)) // run 10 killed
	l.note("x.service", []any{ifaceUnit, map[string]godbus.Variant{"ActiveState": godbus.MakeVariant("active")}, []string{}})
	want := []seenRun{
		{start: 2_000_000, exit: 2_100_000, pid: 11, code: 1, status: 1, restarts: 3, restarted: true},
		{start: 1_000_000, exit: 1_500_000, pid: 10, code: 2, status: 9, restarts: 2},
	}
	if got := l["x.service"]; !reflect.DeepEqual(got, want) {
		t.Errorf("runs\n%+v\nwant\n%+v", got, want)
	}
}

// A run the readings missed whole, between a RUNNING one and the one
// read now, is reported with its own pids and end (a SIGKILL: not
// expected, however the run read now may end); a run whose end no
// automatic restart followed (a stop, then a start asked for) is not
// replayed as a crash.
func TestReplayMissedRuns(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	const s = 1_000_000 // µs
	tr := &track{state: status.Running, run: "a", pid: 10, runPID: 10, runStart: 100 * s}
	l := runLog{}
	l.note("x.service", serviceSignal(100*s, 105*s, 10, 2, 9, 0))
	l.note("x.service", serviceSignal(100*s, 105*s, 10, 2, 9, 1))
	l.note("x.service", serviceSignal(106*s, 0, 11, 0, 0, 1))
	l.note("x.service", serviceSignal(106*s, 108*s, 11, 2, 9, 1))
	l.note("x.service", serviceSignal(106*s, 108*s, 11, 2, 9, 2))
	l.note("x.service", serviceSignal(109*s, 0, 12, 0, 0, 2))
	read := unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: 12, RunPID: 12, Start: 109 * s}
	var got []string
	out := tr.replay(p, l["x.service"], read, 1<<62)
	out = append(out, tr.advance(p, supervisorState(p.p, read, time.UnixMicro(111*s)), read, "c")...)
	for _, c := range out {
		got = append(got, fmt.Sprintf("%v>%v:%d:%v:%d", c.From, c.To, c.Tries, c.Expected, c.PID))
	}
	want := []string{"RUNNING>EXITED:0:false:10", "EXITED>STARTING:0:false:0", "STARTING>RUNNING:0:false:11",
		"RUNNING>EXITED:0:false:11", "EXITED>STARTING:0:false:0", "STARTING>RUNNING:0:false:12"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n%v\nwant\n%v", got, want)
	}

	// stopped, then started again: no automatic restart counted
	tr = &track{state: status.Running, run: "a", pid: 10, runPID: 10, runStart: 100 * s}
	l = runLog{}
	l.note("x.service", serviceSignal(100*s, 105*s, 10, 2, 15, 0))
	l.note("x.service", serviceSignal(106*s, 0, 11, 0, 0, 0))
	read = unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: 11, RunPID: 11, Start: 106 * s}
	if out := tr.replay(p, l["x.service"], read, 1<<62); len(out) != 0 {
		t.Errorf("a stop and a start replayed as %+v", out)
	}

	// a core dump past startsecs under autorestart=false: systemd's
	// restart, which the compatibility step refuses, is no crash
	tr = &track{state: status.Running, run: "a", pid: 10, runPID: 10, runStart: 100 * s}
	l = runLog{}
	l.note("x.service", serviceSignal(100*s, 105*s, 10, 3, 6, 0))
	l.note("x.service", serviceSignal(100*s, 105*s, 10, 3, 6, 1))
	read = unitState{Load: "loaded", Active: "failed", Sub: "failed", Ended: true, LastStart: 100 * s, LastStop: 105 * s, LastCode: 3, LastStatus: 6}
	if out := tr.replay(p, l["x.service"], read, 1<<62); len(out) != 0 {
		t.Errorf("a refused restart replayed as %+v", out)
	}
}
