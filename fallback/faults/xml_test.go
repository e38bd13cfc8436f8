package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
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

const getAPIVersion = `<?xml version="1.0"?><methodCall><methodName>supervisor.getAPIVersion</methodName><params>`

// TestEntityExpansion: one 100,000-byte entity referenced 1000 times, a
// 101 KB request, is refused (supervisord: 400, expat's protection)
// without the 100 MB it expands to ever being held.
func TestEntityExpansion(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := startDaemon(t, impl, config{})
		mem := d.memory()
		body := `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "` + strings.Repeat("x", 100000) + `">]>` +
			`<methodCall><methodName>supervisor.getAPIVersion</methodName><params><param><value><string>` +
			strings.Repeat("&e;", 1000) + `</string></value></param></params></methodCall>`
		r, err := d.post([]byte(body), answerBound+5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		t.Logf("%s: HTTP %d in %v", impl, r.status, r.took.Round(time.Millisecond))
		if err := rejected(r); err != nil {
			t.Errorf("%s: entity expansion not refused: %v", impl, err)
		}
		latency(t, impl, "refusing the entity expansion", r.took, answerBound)
		mem.check(t, "entity expansion", 20*mib)
		alive(t, d, "the entity expansion")
	})
}

// hostile is one request of the corpus.
type hostile struct {
	name  string
	body  func() []byte
	took  time.Duration // latency bound
	mem   int64         // bound on the peak RSS growth since the daemon started, cumulative
	check func(r response) error
	// mayAccept: the request may also be answered as if its DTD were not
	// there: an external DTD or parameter entity that is never fetched
	// changes nothing (supervisord's expat refuses them).
	mayAccept bool
	// supervisord: how the real supervisord is compared on this request.
	supervisord sdCompare
}

// sdCompare says what the suite expects of supervisord on a request.
type sdCompare int

const (
	sdRefuses sdCompare = iota // refuses it as supersede must (compared)
	sdDrops                    // closes the connection without an answer: logged, not compared
	sdSkip                     // not sent: costly, the answer is known (the comment says)
)

func hostileCorpus() []hostile {
	str := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">`
	for i := 1; i <= 9; i++ {
		lol += fmt.Sprintf(`<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	lol += `]><methodCall><methodName>&lol9;</methodName></methodCall>`
	noPasswd := func(r response) error {
		if bytes.Contains(r.body, []byte("root:")) {
			return fmt.Errorf("the answer holds /etc/passwd: %.300s", r.body)
		}
		return nil
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rnd.UintN(256))
	}
	// The corpus runs in order on one daemon; memory bounds only grow.
	return []hostile{
		{name: "truncated", body: str(`<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params>`)},
		{name: "not XML", body: str(`hello`)},
		{name: "binary garbage", body: func() []byte { return garbage }, supervisord: sdDrops},
		{name: "invalid UTF-8", supervisord: sdDrops, body: str("<?xml version=\"1.0\"?><methodCall><methodName>supervisor.getState\xff\xfe</methodName></methodCall>")},
		{name: "two roots", body: str(`<methodCall><methodName>supervisor.getState</methodName></methodCall><methodCall><methodName>supervisor.getState</methodName></methodCall>`)},
		{name: "billion laughs", body: str(lol)},
		{name: "XXE /etc/passwd", body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + getAPIVersion + `<param><value><string>&x;</string></value></param></params></methodCall>`), check: noPasswd},
		{name: "XXE parameter entity", mayAccept: true, body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>` + getAPIVersion + `</params></methodCall>`), check: noPasswd},
		{name: "XXE /dev/zero", body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY z SYSTEM "file:///dev/zero">]>` + getAPIVersion + `<param><value><string>&z;</string></value></param></params></methodCall>`)},
		{name: "external DTD /dev/zero", mayAccept: true, body: str(`<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "file:///dev/zero">` + getAPIVersion + `</params></methodCall>`)},
		{name: "deep nesting", mem: 40 * mib, body: func() []byte {
			const depth = 50000
			return []byte(getAPIVersion + `<param>` + strings.Repeat(`<value><array><data>`, depth) +
				strings.Repeat(`</data></array></value>`, depth) + `</param></params></methodCall>`)
		}},
		{name: "100000 parameters", mem: 60 * mib, took: 5 * time.Second, body: func() []byte {
			return []byte(getAPIVersion + strings.Repeat(`<param><value><int>1</int></value></param>`, 100000) + `</params></methodCall>`)
		}},
		{name: "10 MB string", mem: 100 * mib, took: 10 * time.Second, body: func() []byte {
			return []byte(getAPIVersion + `<param><value><string>` + strings.Repeat("x", 10<<20) + `</string></value></param></params></methodCall>`)
		}},
		// Over the 64 MiB cap of one request. supervisord takes 6 s and
		// 580 MiB to answer it with a fault: not sent there.
		{name: "70 MB body", mem: 256 * mib, took: 10 * time.Second, supervisord: sdSkip, body: func() []byte {
			return []byte(getAPIVersion + `<param><value><string>` + strings.Repeat("x", 70<<20) + `</string></value></param></params></methodCall>`)
		}},
	}
}

// TestHostileXML sends the corpus, in order, to one daemon: each request
// is refused (400 or a fault) within its bound, no file's content leaks
// into an answer, memory stays within the bound, and the daemon answers
// getState after each.
func TestHostileXML(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := startDaemon(t, impl, config{})
		mem := d.memory()
		for _, h := range hostileCorpus() {
			sd := impl == fallbacktest.Supervisord
			if sd && h.supervisord == sdSkip {
				continue
			}
			if h.took == 0 {
				h.took = answerBound
			}
			if h.mem == 0 {
				h.mem = 20 * mib
			}
			r, err := d.post(h.body(), h.took+10*time.Second)
			if err == nil {
				t.Logf("%s: %s: HTTP %d in %v", impl, h.name, r.status, r.took.Round(time.Millisecond))
				err = rejected(r)
				if err != nil && h.mayAccept && r.status == http.StatusOK {
					err = nil
				}
				if h.check != nil && err == nil {
					err = h.check(r)
				}
				latency(t, impl, h.name, r.took, h.took)
			}
			switch {
			case err == nil:
			case sd && h.supervisord == sdDrops:
				t.Logf("%s: %s: %v (as expected of supervisord)", impl, h.name, err)
			default:
				t.Errorf("%s: %s: %v", impl, h.name, err)
			}
			mem.check(t, h.name, h.mem)
			alive(t, d, h.name)
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
		body := []byte(getAPIVersion + `<param><value><string>` + strings.Repeat("x", 40<<20) + `</string></value></param></params></methodCall>`)
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
