package sysd

import (
	"reflect"
	"testing"
	"time"

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
