package xmlrpc

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

// hostileText is n bytes of log output that escapeText has work on
// everywhere: multibyte characters, truncated and invalid sequences,
// control characters and markup, so that many of them straddle the
// pieces a streamed answer is read in.
func hostileText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	atoms := [][]byte{
		[]byte("plain text "), []byte("\n"), []byte("é"), []byte("€"), []byte("😀"),
		{0xE2, 0x82}, {0xF0, 0x9F, 0x98}, {0xC3}, {0xFF}, {0xED, 0xA0, 0x80}, {0xEF, 0xBF, 0xBE},
		{0x80}, {0x00}, {0x1B}, []byte("<&>"), []byte("\r\t"),
	}
	out := make([]byte, 0, n+8)
	for len(out) < n {
		out = append(out, atoms[r.IntN(len(atoms))]...)
	}
	return out[:n]
}

// TestStreamedLogReads: a log read larger than inlineMax is written as
// it is read (no Content-Length), and its answer is byte for byte the
// one the whole string encodes to, for every read method, inside a
// multicall too; a small read keeps its Content-Length.
func TestStreamedLogReads(t *testing.T) {
	w := newWorld(t)
	text := hostileText(3*inlineMax+12345, 7)
	p := w.find("sleeper", "sleeper")
	writeFile(t, p.StdoutLog, string(text))
	writeFile(t, w.mainLog, string(text))
	h := w.server().Handler(Auth{})
	n := int64(len(text))
	want := func(v any) string {
		var buf bytes.Buffer
		if err := encodeResponse(&buf, v); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	s := string(text)
	call := func(method string, params ...any) *httptest.ResponseRecorder {
		var body bytes.Buffer
		if err := encodeCall(&body, method, params); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/RPC2", &body)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		name     string
		method   string
		params   []any
		want     any
		streamed bool
	}{
		{"all of it", "supervisor.readProcessStdoutLog", []any{"sleeper", 0, 0}, s, true},
		{"from an offset", "supervisor.readProcessStdoutLog", []any{"sleeper", 1001, 0}, s[1001:], true},
		{"a length", "supervisor.readProcessLog", []any{"sleeper", 3, 2*inlineMax + 7}, s[3 : 3+2*inlineMax+7], true},
		{"the last bytes", "supervisor.readProcessStdoutLog", []any{"sleeper", -(2*inlineMax + 1), 0}, s[n-(2*inlineMax+1):], true},
		{"the main log", "supervisor.readLog", []any{0, 0}, s, true},
		{"a tail", "supervisor.tailProcessStdoutLog", []any{"sleeper", 0, 2 * inlineMax}, []any{s[n-2*inlineMax:], n, true}, true},
		{"a small read", "supervisor.readProcessStdoutLog", []any{"sleeper", 5, 1000}, s[5:1005], false},
		{"a small tail", "supervisor.tailProcessStdoutLog", []any{"sleeper", n - 10, 100}, []any{s[n-100:], n, false}, false},
	} {
		rec := call(c.method, c.params...)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", c.name, rec.Code)
		}
		if got, want := rec.Body.String(), want(c.want); got != want {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: the answer (%d bytes) differs from the whole string's (%d bytes) at byte %d: %q vs %q",
				c.name, len(got), len(want), i, got[i:min(i+40, len(got))], want[i:min(i+40, len(want))])
		}
		if cl := rec.Header().Get("Content-Length"); (cl == "") != c.streamed {
			t.Errorf("%s: Content-Length %q; streamed: %v", c.name, cl, c.streamed)
		}
	}

	// A multicall of two large reads, a small one and a fault.
	rec := call("system.multicall", []any{
		map[string]any{"methodName": "supervisor.readProcessStdoutLog", "params": []any{"sleeper", 0, 0}},
		map[string]any{"methodName": "supervisor.readProcessStdoutLog", "params": []any{"nosuch", 0, 0}},
		map[string]any{"methodName": "supervisor.readLog", "params": []any{-(inlineMax + 1), 0}},
		map[string]any{"methodName": "supervisor.readLog", "params": []any{0, 10}},
	})
	v, err := parseResponse(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("multicall: %v", err)
	}
	list, _ := v.([]any)
	if len(list) != 4 {
		t.Fatalf("multicall: %d results", len(list))
	}
	wantText := func(i int, want string) {
		t.Helper()
		str, ok := list[i].(string) // Supervisor's multicall does not wrap results in lists
		if !ok {
			t.Fatalf("multicall result %d: %T", i, list[i])
		}
		// As the client decodes the whole string's answer.
		var enc bytes.Buffer
		if err := encodeResponse(&enc, want); err != nil {
			t.Fatal(err)
		}
		dec, err := parseResponse(enc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if str != dec {
			t.Errorf("multicall result %d differs from the file's bytes", i)
		}
	}
	wantText(0, s)
	wantText(2, s[n-(inlineMax+1):])
	wantText(3, s[:10])
	if m, _ := list[1].(map[string]any); m["faultCode"] != 10 {
		t.Errorf("multicall result 1: %v, want BAD_NAME", list[1])
	}
}

// TestSafeCut: escaping the pieces of a text cut at safeCut gives the
// escape of the whole text, wherever the pieces end.
func TestSafeCut(t *testing.T) {
	for seed := range uint64(50) {
		text := hostileText(300, seed)
		for size := 1; size <= 9; size++ {
			var whole, pieces bytes.Buffer
			escapeText(&whole, string(text))
			var work []byte
			for i := 0; i < len(text); i += size {
				work = append(work, text[i:min(i+size, len(text))]...)
				cut := safeCut(work)
				escapeText(&pieces, string(work[:cut]))
				work = append(work[:0], work[cut:]...)
			}
			escapeText(&pieces, string(work))
			if whole.String() != pieces.String() {
				t.Fatalf("seed %d, pieces of %d: %q, want %q", seed, size, pieces.String(), whole.String())
			}
		}
	}
}
