package status

import (
	"testing"
	"time"
)

func TestUptime(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00"},
		{5*time.Second + 900*time.Millisecond, "0:00:05"},
		{3723 * time.Second, "1:02:03"},
		{86400*time.Second + 7384*time.Second, "1 day, 2:03:04"},
		{3*86400*time.Second + time.Second, "3 days, 0:00:01"},
	} {
		if got := Uptime(c.d); got != c.want {
			t.Errorf("Uptime(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestDescription(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 44, 30, 0, time.UTC)
	for _, c := range []struct {
		name string
		p    Process
		want string
	}{
		{"running", Process{Name: "a", Group: "a", State: Running, PID: 42, Start: now.Add(-10 * time.Second)}, "pid 42, uptime 0:00:10"},
		{"never started", Process{Name: "a", Group: "a", State: Stopped}, "Not started"},
		{"exited", Process{Name: "a", Group: "a", State: Exited, Start: now.Add(-time.Hour), Stop: now}, "Nov 27 10:44 AM"},
		{"fatal", Process{Name: "a", Group: "a", State: Fatal, SpawnErr: "can't find command '/x'"}, "can't find command '/x'"},
		{"backoff no error", Process{Name: "b", Group: "g", State: Backoff}, `unknown error (try "tail b")`},
		{"starting", Process{Name: "a", Group: "a", State: Starting}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Description(c.p, now, time.UTC); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	for s := Stopped; s <= Unknown; s++ {
		if back, ok := ParseState(s.String()); !ok || back != s {
			t.Errorf("ParseState(%q) = %v, %v", s, back, ok)
		}
	}
	if Backoff.IsStopped() || !Backoff.IsRunning() || Backoff.IsSignallable() {
		t.Error("BACKOFF classification")
	}
}
