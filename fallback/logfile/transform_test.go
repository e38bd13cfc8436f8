package logfile

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/testreal"
)

// newIdlePump is a Pump that is not running, for tests that feed sources
// chunks by hand from the test goroutine.
func newIdlePump(t *testing.T) *Pump {
	t.Helper()
	p, err := NewPump()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.release)
	return p
}

// idleSource adds a source on a pipe nobody writes.
func idleSource(t *testing.T, p *Pump, o Output) *Source {
	t.Helper()
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(w) })
	s, err := p.Add(r, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pyDispatcher feeds each case's chunks to Supervisor's own
// POutputDispatcher, as reads of the child's pipe, and returns the log
// file, the PROCESS_LOG and PROCESS_COMMUNICATION events in order, and
// the output it still holds.
const pyDispatcher = `
import sys, json, base64, tempfile, os
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor import dispatchers, events, loggers
b64 = lambda b: base64.b64encode(b).decode()
rec = []
events.subscribe(events.ProcessLogEvent, lambda e: rec.append(['log', b64(e.data)]))
events.subscribe(events.ProcessCommunicationEvent, lambda e: rec.append(['comm', b64(e.data)]))
class Options:
    loglevel = loggers.LevelsByName.INFO
    logger = loggers.getLogger(loggers.LevelsByName.INFO)
    def getLogger(self, *a, **k): return loggers.getLogger(*a, **k)
    def readfd(self, fd): return self.chunks.pop(0)
class Obj: pass
out = []
for c in json.load(sys.stdin):
    c['chunks'] = c['chunks'] or []
    del rec[:]
    fd, path = tempfile.mkstemp(); os.close(fd)
    opts = Options(); opts.strip_ansi = c['strip']
    opts.chunks = [base64.b64decode(x or '') for x in c['chunks']]
    cfg = Obj(); cfg.name = 'p'; cfg.options = opts
    cfg.stdout_logfile = path; cfg.stdout_logfile_maxbytes = 0; cfg.stdout_logfile_backups = 0
    cfg.stdout_syslog = False; cfg.stdout_capture_maxbytes = c['capture']
    cfg.stdout_events_enabled = True; cfg.stderr_events_enabled = False
    proc = Obj(); proc.config = cfg; proc.pid = 1
    d = dispatchers.POutputDispatcher(proc, events.ProcessCommunicationStdoutEvent, 5)
    for _ in c['chunks']:
        d.handle_read_event()
    with open(path, 'rb') as f:
        data = f.read()
    os.remove(path)
    out.append({'file': b64(data), 'events': list(rec), 'held': b64(d.output_buffer)})
json.dump(out, sys.stdout)
`

type dispatchCase struct {
	Chunks  [][]byte `json:"chunks"`
	Capture int      `json:"capture"`
	Strip   bool     `json:"strip"`
}

type dispatchResult struct {
	File   []byte     `json:"file"`
	Events [][]string `json:"events"`
	Held   []byte     `json:"held"`
}

// randomStream builds output from pieces that exercise capture mode and
// escapes, cut into random reads.
func randomStream(rng *rand.Rand, withEscapes bool) [][]byte {
	pieces := []string{"hello\n", "x", "<!--XSUPERVISOR:BEGIN-->", "<!--XSUPERVISOR:END-->",
		"<!--XSUPER", "VISOR:END-->", "<!--", "data in between ", "\u00e9\u2603", "\n\n"}
	if withEscapes {
		pieces = append(pieces, "\x1b[31m", "\x1b[0m", "\x1b[", "m", "\x1b")
	}
	var all []byte
	for range rng.IntN(40) {
		all = append(all, pieces[rng.IntN(len(pieces))]...)
	}
	var chunks [][]byte
	for len(all) > 0 {
		n := min(1+rng.IntN(40), len(all))
		chunks = append(chunks, all[:n])
		all = all[n:]
	}
	return chunks
}

// TestDispatchMatchesSupervisor compares capture mode, strip_ansi and the
// PROCESS_LOG events with Supervisor's dispatcher for the same reads.
func TestDispatchMatchesSupervisor(t *testing.T) {
	testreal.RequireSupervisor(t)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []dispatchCase{
		{Chunks: [][]byte{[]byte("plain\n")}, Capture: 0},
		{Chunks: [][]byte{[]byte("a<!--XSUPERVISOR:BEGIN-->captured<!--XSUPERVISOR:END-->b")}, Capture: 100},
		{Chunks: [][]byte{[]byte("short")}, Capture: 100}, // held: not longer than a token
		{Chunks: [][]byte{[]byte("a<!--XSUPERVISOR:BEGIN-->0123456789<!--XSUPERVISOR:END-->")}, Capture: 4},
		{Chunks: [][]byte{[]byte("\x1b[1mbold\x1b[0m\n")}, Strip: true},
		{Chunks: [][]byte{[]byte("\x1b[1m")}, Strip: true}, // an event with empty data
	}
	for i := range 150 {
		c := dispatchCase{Chunks: randomStream(rng, i%2 == 0), Capture: []int{0, 5, 30, 1000}[i%4]}
		// Supervisor strips each logged piece on its own, and here the
		// stream as a whole: they agree only when escapes do not straddle
		// pieces, so random escapes are checked without strip_ansi and
		// strip_ansi by TestStripANSIMatchesSupervisor.
		cases = append(cases, c)
	}
	var want []dispatchResult
	testreal.RunPython(t, pyDispatcher, cases, &want)
	for i, c := range cases {
		p := newIdlePump(t)
		log := filepath.Join(t.TempDir(), "p.log")
		f, err := Open(log, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var events [][]string
		b64 := base64.StdEncoding.EncodeToString
		s := idleSource(t, p, Output{
			File: f, StripANSI: c.Strip, CaptureMaxBytes: c.Capture,
			OnData:    func(d []byte) { events = append(events, []string{"log", b64(d)}) },
			OnCapture: func(d []byte) { events = append(events, []string{"comm", b64(d)}) },
		})
		for _, ch := range c.Chunks {
			p.process(s, ch)
		}
		got, _ := os.ReadFile(log)
		var held []byte
		if s.capt != nil {
			held = s.capt.held
		}
		w := want[i]
		if !bytes.Equal(got, w.File) || fmt.Sprint(events) != fmt.Sprint(w.Events) || !bytes.Equal(held, w.Held) {
			t.Errorf("case %d %q capture=%d strip=%v:\n file %q\n want %q\n events %v\n want   %v\n held %q, want %q",
				i, c.Chunks, c.Capture, c.Strip, got, w.File, events, w.Events, held, w.Held)
		}
		// What Supervisor would lose at end of file is logged here.
		p.close(s)
		if len(held) > 0 && !(s.capt.mode) {
			if after, _ := os.ReadFile(log); !bytes.HasSuffix(after, held) {
				t.Errorf("case %d: held %q not logged at close: %q", i, held, after)
			}
		}
		f.Close()
	}
}

// pyStrip is Supervisor's stripEscapes on each input.
const pyStrip = `
import sys, json, base64
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor.dispatchers import stripEscapes
json.dump([base64.b64encode(stripEscapes(base64.b64decode(x or ''))).decode() for x in json.load(sys.stdin)], sys.stdout)
`

func randomEscapes(rng *rand.Rand) []byte {
	alphabet := []string{"\x1b", "[", "m", "H", "3", "1", ";", "a", "\n", "\x1b[", "\x1b[0m", "xyz", "\u00e9"}
	var b []byte
	for range rng.IntN(30) {
		b = append(b, alphabet[rng.IntN(len(alphabet))]...)
	}
	return b
}

// stripStream strips data fed in random pieces.
func stripStream(rng *rand.Rand, data []byte) []byte {
	var a ansiState
	var out []byte
	for len(data) > 0 {
		n := min(rng.IntN(6), len(data))
		out = a.strip(out, data[:n])
		data = data[n:]
	}
	return a.flush(out)
}

// TestStripANSIMatchesSupervisor: the streaming stripper, fed any split
// of the input, gives what stripEscapes gives for the whole input.
func TestStripANSIMatchesSupervisor(t *testing.T) {
	testreal.RequireSupervisor(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var inputs [][]byte
	for range 500 {
		inputs = append(inputs, randomEscapes(rng))
	}
	var want [][]byte
	testreal.RunPython(t, pyStrip, inputs, &want)
	for i, in := range inputs {
		if got := stripStream(rng, in); !bytes.Equal(got, want[i]) {
			t.Errorf("strip %q = %q, Supervisor %q", in, got, want[i])
		}
	}
}

// stripEscapes is Supervisor's function transcribed line by line, the
// reference for fuzzing without Python.
func stripEscapes(s []byte) []byte {
	var result []byte
	show := true
	for i := 0; i < len(s); i++ {
		if !show && strings.IndexByte(ansiTerminators, s[i]) >= 0 {
			show = true
		} else if show {
			n := bytes.Index(s[i:], []byte("\x1b["))
			if n < 0 {
				return append(result, s[i:]...)
			}
			result = append(result, s[i:i+n]...)
			i += n
			show = false
		}
	}
	return result
}

func FuzzStripANSI(f *testing.F) {
	f.Add([]byte("a\x1b[31mred\x1b[0m"), uint64(1))
	f.Add([]byte("\x1b\x1b[m\x1b"), uint64(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 0))
		if got, want := stripStream(rng, data), stripEscapes(data); !bytes.Equal(got, want) {
			t.Errorf("strip %q = %q, want %q", data, got, want)
		}
	})
}

// prefixed runs writes through sources sharing one file and returns the
// file: each write is {source index, data}; a negative index is a plain
// File.Write (the main log to the same stdout).
func prefixed(t *testing.T, prefixes []string, writes []prefixWrite) string {
	t.Helper()
	p := newIdlePump(t)
	log := filepath.Join(t.TempDir(), "shared.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var srcs []*Source
	for _, pre := range prefixes {
		srcs = append(srcs, idleSource(t, p, Output{File: f, Prefix: pre}))
	}
	for _, w := range writes {
		switch {
		case w.src < 0:
			f.Write([]byte(w.data))
		case w.data == "<close>":
			p.close(srcs[w.src])
		default:
			p.process(srcs[w.src], []byte(w.data))
		}
	}
	got, _ := os.ReadFile(log)
	return string(got)
}

type prefixWrite struct {
	src  int
	data string
}

func TestPrefix(t *testing.T) {
	for _, c := range []struct {
		name   string
		writes []prefixWrite
		want   string
	}{
		{"whole lines", []prefixWrite{{0, "a\nb\n"}, {1, "c\n"}}, "A| a\nA| b\nB| c\n"},
		{"a partial line is written at once", []prefixWrite{{0, "par"}}, "A| par"},
		{"continued by its own source", []prefixWrite{{0, "x\ny"}, {0, "z\n"}}, "A| x\nA| yz\n"},
		{"broken by another source", []prefixWrite{{0, "hel"}, {1, "world\n"}, {0, "lo\n"}},
			"A| hel\nB| world\nA| lo\n"},
		{"broken by the main log", []prefixWrite{{0, "hel"}, {-1, "MAIN\n"}, {0, "lo\n"}},
			"A| hel\nMAIN\nA| lo\n"},
		{"a character cut by the read waits", []prefixWrite{{0, "caf\xc3"}, {1, "b\n"}, {0, "\xa9!\n"}},
			"A| caf\nB| b\nA| \u00e9!\n"},
		{"a 4-byte character in three reads", []prefixWrite{{0, "\xf0\x9f"}, {0, "\x98"}, {1, "b\n"}, {0, "\x80\n"}},
			"A| \nB| b\nA| \U0001F600\n"},
		{"the cut character is written at close", []prefixWrite{{0, "caf\xc3"}, {0, "<close>"}}, "A| caf\xc3"},
		{"empty lines get a prefix", []prefixWrite{{0, "\n\n"}}, "A| \nA| \n"},
		{"invalid bytes are not held", []prefixWrite{{0, "a\x80"}, {1, "b\n"}}, "A| a\x80\nB| b\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := prefixed(t, []string{"A| ", "B| "}, c.writes); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// FuzzPrefix: two sources' UTF-8 text in arbitrary reads, interleaved
// arbitrarily: every line of the shared file starts with a prefix and is
// valid UTF-8, and each source's lines hold its text (newlines aside).
func FuzzPrefix(f *testing.F) {
	f.Add("h\u00e9llo\nw\u00f6rld", "\u2603 snow\n\U0001F600", uint64(7))
	f.Add("", "\n\n\n", uint64(1))
	f.Fuzz(func(t *testing.T, a, b string, seed uint64) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		texts := []string{a, b}
		var writes []prefixWrite
		for texts[0] != "" || texts[1] != "" {
			i := rng.IntN(2)
			if texts[i] == "" {
				i = 1 - i
			}
			n := min(1+rng.IntN(5), len(texts[i]))
			writes = append(writes, prefixWrite{i, texts[i][:n]})
			texts[i] = texts[i][n:]
		}
		writes = append(writes, prefixWrite{0, "<close>"}, prefixWrite{1, "<close>"})
		out := prefixed(t, []string{"A| ", "B| "}, writes)
		var bodies [2]strings.Builder
		for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			if out == "" {
				break
			}
			if !utf8.ValidString(line) {
				t.Fatalf("line %q is not UTF-8 in %q", line, out)
			}
			switch {
			case strings.HasPrefix(line, "A| "):
				bodies[0].WriteString(line[3:])
			case strings.HasPrefix(line, "B| "):
				bodies[1].WriteString(line[3:])
			default:
				t.Fatalf("line %q has no prefix in %q", line, out)
			}
		}
		for i, want := range []string{a, b} {
			if got := bodies[i].String(); got != strings.ReplaceAll(want, "\n", "") {
				t.Errorf("source %d: %q, want %q (output %q)", i, got, want, out)
			}
		}
	})
}

func TestIncompleteTail(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "abc": 0, "\u00e9": 0, "a\xc3": 1, "\xe2\x98": 2, "\xe2": 1, "\xf0\x9f\x98": 3,
		"\xf0\x9f\x98\x80": 0, "\x80": 0, "\x80\x80\x80": 0, "\xff": 0, "a\n\xc3": 1,
	} {
		if got := incompleteTail([]byte(in)); got != want {
			t.Errorf("incompleteTail(%q) = %d, want %d", in, got, want)
		}
	}
}

// Output queued behind a full destination gets its prefixes when it is
// written: a line another source broke meanwhile starts afresh.
func TestPrefixQueued(t *testing.T) {
	p := newIdlePump(t)
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(r)
	syscall.SetNonblock(r, true)
	setPipeSize(w, 4096)
	f, err := Open(fmt.Sprintf("/dev/fd/%d", w), 0, 0)
	syscall.Close(w)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := idleSource(t, p, Output{File: f, Prefix: "A| "})
	b := idleSource(t, p, Output{File: f, Prefix: "B| "})
	long := strings.Repeat("x", 5000)
	p.process(a, []byte("abc"))
	p.process(b, []byte(long)) // fills the pipe: b waits
	p.process(a, []byte("def\n"))
	p.process(a, []byte("caf\xc3")) // a waits too: queued, the cut character included
	p.close(a)
	if !b.paused || !a.paused {
		t.Fatalf("paused: a %v, b %v; want both", a.paused, b.paused)
	}
	var out []byte
	buf := make([]byte, 8192)
	for i := 0; len(p.dests) > 0; i++ {
		if i == 10000 {
			t.Fatalf("the queued writes make no progress; read so far %q", out)
		}
		n, _ := syscall.Read(r, buf)
		out = append(out, buf[:max(n, 0)]...)
		for _, d := range p.dests {
			p.destReady(d.id)
		}
	}
	for {
		n, _ := syscall.Read(r, buf)
		if n <= 0 {
			break
		}
		out = append(out, buf[:n]...)
	}
	if got, want := strings.ReplaceAll(string(out), long, "<5000 x>"), "A| abc\nB| <5000 x>\nA| def\nA| caf\xc3"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !a.done {
		t.Error("a closed while waiting, but was not finalized once written")
	}
}
