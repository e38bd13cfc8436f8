// Package hostile is the corpus of hostile XML-RPC requests that the
// tests send to supersede's API server: fallback/faults to `supersede
// run` (beside the real supervisord), cmd/supersede's
// TestServeHostileInputOnSystemd to `supersede serve` on a real user
// manager. A request added here runs against both.
//
// It is test support: payloads and what is expected of them, nothing
// that talks to a server. It depends on the standard library alone, so
// the suites never share code with what they test, and no shipped binary
// links it (internal/depcheck).
package hostile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Request is one hostile request: the body of a POST to /RPC2 that the
// server must refuse (an HTTP 4xx, an XML-RPC fault, or the connection
// closed) without crashing, hanging its other clients, or holding
// unbounded memory.
type Request struct {
	Name string
	Body func() []byte // made when sent: some are tens of megabytes
	// Took bounds the time the refusal may take; 0 means the suite's
	// bound for one small call.
	Took time.Duration
	// Mem bounds the growth of the server's peak RSS since it started,
	// once the corpus up to this request has run (in order, on one
	// server: the bounds only grow); 0 means the suite's small bound.
	Mem int64
	// MayAccept: the request may also be answered as if its DTD were not
	// there: an external DTD or parameter entity that is never fetched
	// changes nothing (supervisord's expat refuses them).
	MayAccept bool
	// Supervisord is what the real supervisord 4.2.5 does with it.
	Supervisord Supervisord
}

// Supervisord says what a suite may expect of the real supervisord on a
// request.
type Supervisord int

const (
	Refuses  Supervisord = iota // refuses it as supersede must (compared)
	Mishands                    // closes the connection, or answers HTTP 500 and a traceback: logged, not compared
	Costly                      // not sent: costly, the answer is known (the request's comment says)
)

// MiB is a mebibyte, for Request.Mem.
const MiB = 1 << 20

// GetAPIVersion is the start of a call to supervisor.getAPIVersion, up
// to its parameters: a request goes on with its own and closes it.
const GetAPIVersion = `<?xml version="1.0"?><methodCall><methodName>supervisor.getAPIVersion</methodName><params>`

// passwd is what /etc/passwd starts with; see Leak.
var passwd = []byte("root:")

// Leak says why an answer gives away a file the corpus tries to make
// the server read (XXE): /etc/passwd's content in it. nil if it does not.
func Leak(answer []byte) error {
	if bytes.Contains(answer, passwd) {
		return fmt.Errorf("the answer holds /etc/passwd: %.300s", answer)
	}
	return nil
}

// Corpus is the requests, in the order they are sent to one server.
// program names a program the server runs (or at least knows), at which
// the wrongly typed calls aim: with an unknown name they would be
// refused for the name, before the type is looked at.
func Corpus(program string) []Request {
	str := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">`
	for i := 1; i <= 9; i++ {
		lol += fmt.Sprintf(`<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	lol += `]><methodCall><methodName>&lol9;</methodName></methodCall>`
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rnd.UintN(256))
	}
	call := func(method, params string) string {
		return `<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params>` + params + `</params></methodCall>`
	}
	return []Request{
		{Name: "truncated", Body: str(`<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params>`)},
		{Name: "not XML", Body: str(`hello`)},
		{Name: "binary garbage", Body: func() []byte { return garbage }, Supervisord: Mishands},
		{Name: "invalid UTF-8", Supervisord: Mishands, Body: str("<?xml version=\"1.0\"?><methodCall><methodName>supervisor.getState\xff\xfe</methodName></methodCall>")},
		{Name: "two roots", Body: str(`<methodCall><methodName>supervisor.getState</methodName></methodCall><methodCall><methodName>supervisor.getState</methodName></methodCall>`)},
		{Name: "billion laughs", Body: str(lol)},
		// One 100,000-byte entity referenced 1000 times, a 101 KB
		// request, is refused (supervisord: 400, expat's protection)
		// without the 100 MB it expands to ever being held.
		{Name: "one entity used a thousand times", Body: func() []byte {
			return []byte(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "` + strings.Repeat("x", 100000) + `">]>` +
				GetAPIVersion + `<param><value><string>` + strings.Repeat("&e;", 1000) + `</string></value></param></params></methodCall>`)
		}},
		{Name: "XXE /etc/passwd", Body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + GetAPIVersion + `<param><value><string>&x;</string></value></param></params></methodCall>`)},
		{Name: "XXE parameter entity", MayAccept: true, Body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>` + GetAPIVersion + `</params></methodCall>`)},
		{Name: "XXE /dev/zero", Body: str(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY z SYSTEM "file:///dev/zero">]>` + GetAPIVersion + `<param><value><string>&z;</string></value></param></params></methodCall>`)},
		{Name: "external DTD /dev/zero", MayAccept: true, Body: str(`<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "file:///dev/zero">` + GetAPIVersion + `</params></methodCall>`)},
		// Wrongly typed calls (fallback/faults' TestWrongTypes makes
		// every such call of every method): supervisord's Python fails
		// on them with a traceback and HTTP 500.
		{Name: "a number for a process name", Supervisord: Mishands, Body: str(call("supervisor.stopProcess", `<param><value><int>7</int></value></param>`))},
		{Name: "a struct for a signal", Supervisord: Mishands, Body: str(call("supervisor.signalProcess",
			`<param><value><string>`+program+`</string></value></param><param><value><struct></struct></value></param>`))},
		{Name: "deep nesting", Mem: 40 * MiB, Body: func() []byte {
			const depth = 50000
			return []byte(GetAPIVersion + `<param>` + strings.Repeat(`<value><array><data>`, depth) +
				strings.Repeat(`</data></array></value>`, depth) + `</param></params></methodCall>`)
		}},
		{Name: "100000 parameters", Mem: 60 * MiB, Took: 5 * time.Second, Body: func() []byte {
			return []byte(GetAPIVersion + strings.Repeat(`<param><value><int>1</int></value></param>`, 100000) + `</params></methodCall>`)
		}},
		{Name: "10 MB string", Mem: 100 * MiB, Took: 10 * time.Second, Body: func() []byte {
			return []byte(GetAPIVersion + `<param><value><string>` + strings.Repeat("x", 10<<20) + `</string></value></param></params></methodCall>`)
		}},
		// Over the 64 MiB cap of one request. supervisord takes 6 s and
		// 580 MiB to answer it with a fault: not sent there.
		{Name: "70 MB body", Mem: 256 * MiB, Took: 10 * time.Second, Supervisord: Costly, Body: func() []byte {
			return []byte(GetAPIVersion + `<param><value><string>` + strings.Repeat("x", 70<<20) + `</string></value></param></params></methodCall>`)
		}},
	}
}
