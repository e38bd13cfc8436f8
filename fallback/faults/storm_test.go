package faults

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// TestCrashStorm: programs that die at once, with autorestart=true and
// startsecs=0, are restarted as fast as they die, for ever. Through the
// storm the API answers, memory stays put, and SIGTERM ends the daemon
// and every program within stopwaitsecs. (A common misconfiguration:
// before issue 15 ten such programs hung supersede for good.)
func TestCrashStorm(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		const (
			programs = 10
			stormFor = 3 * time.Second
			stopWait = 5 // stopwaitsecs
		)
		var sections strings.Builder
		for i := range programs {
			fmt.Fprintf(&sections, "[program:crash%02d]\ncommand=/bin/false\nautorestart=true\nstartsecs=0\nstopwaitsecs=%d\n\n", i, stopWait)
		}
		d := startDaemon(t, impl, config{sections: sections.String()})
		mem := d.memory()

		var lat []time.Duration
		for end := time.Now().Add(stormFor); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			info, took, err := d.processInfo(answerBound + 3*time.Second)
			if err != nil {
				t.Fatalf("%s: getAllProcessInfo during the storm: %v (after %v)", impl, err, took.Round(time.Millisecond))
			}
			if len(info) != programs {
				t.Fatalf("%s: getAllProcessInfo lists %d processes, want %d: %v", impl, len(info), programs, info)
			}
			lat = append(lat, took)
		}
		slices.Sort(lat)
		worst := lat[len(lat)-1]
		t.Logf("%s: %d getAllProcessInfo calls during the storm: median %v, worst %v", impl, len(lat),
			lat[len(lat)/2].Round(time.Microsecond), worst.Round(time.Microsecond))
		latency(t, impl, "getAllProcessInfo during the storm", worst, answerBound)
		mem.check(t, "during the storm", 30*mib)
		// The storm did happen: the programs were restarted, over and over.
		if n := count(d.mainLog(), `INFO spawned: 'crash\d\d'`); n < 2*programs {
			t.Errorf("%s: %d spawns in %v, want at least %d: no storm?\n%s", impl, n, stormFor, 2*programs, d.mainLog())
		}

		t0 := time.Now()
		d.signal(syscall.SIGTERM)
		code, err := d.waitExit(stopWait*time.Second + exitMargin)
		if err != nil {
			t.Fatalf("%s: SIGTERM during the storm: %v", impl, err)
		}
		took := time.Since(t0)
		t.Logf("%s: SIGTERM → exited (status %d) in %v", impl, code, took.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("%s: exit status %d after SIGTERM, want 0; output:\n%s", impl, code, d.output())
		}
		if left := d.waitGone(time.Second); len(left) > 0 {
			t.Errorf("%s: programs outlive the daemon: %v", impl, left)
		}
	})
}
