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
// the backoff counter counts each failed start, FATAL resets it.
func TestAdvanceCrashLoop(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	base := time.Unix(1000, 0)
	tr := &track{state: status.Stopped}
	var got []string
	see := func(st status.State, start time.Duration) {
		cur := status.Process{State: st}
		if start > 0 {
			cur.Start = base.Add(start)
		}
		for _, c := range tr.advance(p, cur, unitState{}) {
			got = append(got, c.From.String()+">"+c.To.String()+":"+itoa(c.Tries))
		}
	}
	see(status.Starting, time.Second)  // first run
	see(status.Backoff, 3*time.Second) // a second run seen dead only: STARTING, BACKOFF between
	see(status.Fatal, 0)
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
// from the one the watch saw by more than sameRun on a slow machine.
func TestAdvanceFatalIsNoNewRun(t *testing.T) {
	p := &proc{p: &translate.Process{Name: "x", ExitCodes: []int{0}, MinUptime: time.Second}, g: &translate.Group{Name: "x"}, unit: "x.service"}
	seen := time.Now().Add(-5 * time.Second)
	tr := &track{state: status.Backoff, start: seen, backoff: 3}
	cur := status.Process{State: status.Fatal, Start: seen.Add(-2 * time.Second)}
	got := tr.advance(p, cur, unitState{Load: "loaded", Active: "failed", Sub: "failed"})
	if len(got) != 1 || got[0].From != status.Backoff || got[0].To != status.Fatal {
		t.Errorf("give-up: %+v, want one BACKOFF to FATAL", got)
	}
}
