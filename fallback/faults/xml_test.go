package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/hostile"
)

// rejected says why r is not a refusal of a hostile request: an HTTP
// error status (4xx) or an XML-RPC fault is one; a value, a server error
// or a malformed answer is not.
func rejected(r response) error {
	switch {
	case r.status >= 400 && r.status < 500:
		return nil
	case r.status != http.StatusOK:
		return fmt.Errorf("HTTP %d: %.200s", r.status, r.body)
	}
	v, err := decodeResponse(r.body)
	var f *fault
	if errors.As(err, &f) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("accepted, answered %.200v", v)
}

// alive fails t unless the daemon still answers getState.
func alive(t *testing.T, d *daemon, after string) {
	t.Helper()
	if _, err := d.call(answerBound+3*time.Second, "supervisor.getState"); err != nil {
		t.Fatalf("%s: getState after %s: %v", d.impl, after, err)
	}
}

// TestHostileXML sends the corpus (internal/hostile, which serve's
// TestServeHostileInputOnSystemd sends too), in order, to one daemon:
// each request is refused (400 or a fault) within its bound, no file's
// content leaks into an answer, memory stays within the bound, and the
// daemon answers getState after each.
func TestHostileXML(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := startDaemon(t, impl, config{sections: "[program:sleeper]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n"})
		mem := d.memory()
		for _, h := range hostile.Corpus("sleeper") {
			sd := impl == fallbacktest.Supervisord
			if sd && h.Supervisord == hostile.Costly {
				continue
			}
			if h.Took == 0 {
				h.Took = answerBound
			}
			if h.Mem == 0 {
				h.Mem = 20 * mib
			}
			r, err := d.post(h.Body(), h.Took+10*time.Second)
			if err == nil {
				t.Logf("%s: %s: HTTP %d in %v", impl, h.Name, r.status, r.took.Round(time.Millisecond))
				err = rejected(r)
				if err != nil && h.MayAccept && r.status == http.StatusOK {
					err = nil
				}
				if err == nil {
					err = hostile.Leak(r.body)
				}
				latency(t, impl, h.Name, r.took, h.Took)
			}
			switch {
			case err == nil:
			case sd && h.Supervisord == hostile.Mishands:
				t.Logf("%s: %s: %v (as expected of supervisord)", impl, h.Name, err)
			default:
				t.Errorf("%s: %s: %v", impl, h.Name, err)
			}
			mem.check(t, h.Name, h.Mem)
			alive(t, d, h.Name)
		}
	})
}

// TestConcurrentHugeBodies: six clients send a 40 MB body each at once.
// Each is under the per-request cap (64 MiB), their sum is not: the
// daemon bounds the bodies it holds at once, so six cost no more memory
// than about one (before issue 15 ten 60 MB bodies took its peak RSS to
// 2.3 GB), and the owner's small calls are answered meanwhile.
// supervisord reads every body whole into memory, as supersede did: not
// compared.
func TestConcurrentHugeBodies(t *testing.T) {
	onlySupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		const clients = 6
		d := startDaemon(t, impl, config{})
		body := []byte(hostile.GetAPIVersion + `<param><value><string>` + strings.Repeat("x", 40<<20) + `</string></value></param></params></methodCall>`)
		post := func() (time.Duration, error) {
			r, err := d.post(body, 90*time.Second)
			if err == nil && r.status != http.StatusServiceUnavailable { // 503: no turn within 60 s
				err = rejected(r)
			}
			return r.took, err
		}
		// One alone, for what one costs.
		mem := d.memory()
		if _, err := post(); err != nil {
			t.Fatalf("%s: one 40 MB body: %v", impl, err)
		}
		one := d.hwm() - mem.base
		t.Logf("%s: one 40 MB body: peak RSS grew by %.1f MiB", impl, float64(one)/mib)

		ctx, cancel := context.WithCancel(context.Background())
		var ownerWorst time.Duration
		var ow sync.WaitGroup
		ow.Go(func() { ownerWorst = owner(ctx, t, d) })
		var wg sync.WaitGroup
		errs := make([]error, clients)
		took := make([]time.Duration, clients)
		for i := range clients {
			wg.Go(func() { took[i], errs[i] = post() })
		}
		wg.Wait()
		cancel()
		ow.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: client %d: %v", impl, i, err)
			}
			// Served in turn, each within the server's 60 s ReadTimeout.
			latency(t, impl, fmt.Sprintf("client %d's 40 MB body", i), took[i], 60*time.Second)
		}
		t.Logf("%s: the owner's slowest getAllProcessInfo among %d 40 MB bodies: %v", impl, clients, ownerWorst.Round(time.Microsecond))
		latency(t, impl, "getAllProcessInfo among huge bodies", ownerWorst, answerBound)
		mem.check(t, fmt.Sprintf("%d 40 MB bodies at once (one alone: %.0f MiB)", clients, float64(one)/mib), 2*one+64*mib)
		alive(t, d, "six 40 MB bodies")
	})
}
