package fallback

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// stormConf is n programs that die as soon as they are forked and are
// restarted at once, for ever: autorestart=true with startsecs=0 (a
// RUNNING program that dies is restarted without a backoff).
func stormConf(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[program:crash%03d]\ncommand=/bin/false\nautorestart=true\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n", i)
	}
	return b.String()
}

// A crash storm must not take the loop away from requests and signals:
// before turnBudget, reap never returned once the programs died as fast
// as they were forked, so Processes and SIGTERM were never served.
func TestCrashStormStaysResponsive(t *testing.T) {
	const n = 30
	h := start(t, stormConf(n), Options{})
	// The storm is on once every program has died and come back a few
	// times.
	h.log.waitLines(t, "exited: crash", 5*n)

	var lat []time.Duration
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		t0 := time.Now()
		ps, err := h.s.Processes(ctx)
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			t.Fatalf("Processes during a crash storm: %v", err)
		}
		if len(ps) != n {
			t.Fatalf("Processes: %d processes, want %d", len(ps), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(lat)
	t.Logf("Processes during a storm of %d programs: median %v, max %v", n, lat[len(lat)/2], lat[len(lat)-1])

	// The storm goes on while the loop serves: still restarting.
	before := len(h.log.all())
	h.log.waitLines(t, "spawned: 'crash", 1)
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("Run after SIGTERM: %v", err)
	}
	if len(h.log.all()) == before {
		t.Errorf("nothing was logged between the requests and SIGTERM: the storm stopped?")
	}
	for _, pid := range children(syscall.Getpid()) {
		t.Errorf("process %d survived the daemon's stop", pid)
	}
}

// The storm's main-log lines are written as they come, not held: the
// lines held back during one reap are bounded by its batch.
func TestCrashStormHoldsNoLines(t *testing.T) {
	const n = 30
	h := start(t, stormConf(n), Options{})
	h.log.waitLines(t, "exited: crash", 5*n)
	var most int
	for range 50 {
		var held int
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		err := h.s.call(ctx, func() { held = cap(h.s.held) })
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, held)
		time.Sleep(5 * time.Millisecond)
	}
	// Each exit holds back at most its exit, spawn and state lines.
	if most > 8*turnBudget {
		t.Errorf("%d main-log lines held back at once, want at most %d", most, 8*turnBudget)
	}
	if p := h.proc("crash000"); p.State == status.Fatal {
		t.Errorf("crash000 is FATAL; a program with startsecs=0 never backs off")
	}
}
