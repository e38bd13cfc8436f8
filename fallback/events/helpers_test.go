package events

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

// logRecorder is a slog.Handler that keeps each message, as Supervisor's
// DummyLogger keeps them (text only, every level).
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
	lvls []slog.Level
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.lvls = append(r.lvls, rec.Level)
	r.mu.Unlock()
	return nil
}

// take returns the messages logged since the last call.
func (r *logRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs, r.lvls = nil, nil
	return m
}

// stdinRecorder stands for a listener's stdin pipe: it keeps what is
// written, or fails every write with err.
type stdinRecorder struct {
	mu  sync.Mutex
	buf []byte
	err error
}

func (w *stdinRecorder) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, b...)
	return len(b), nil
}

// take returns what was written since the last call.
func (w *stdinRecorder) take() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf
	w.buf = nil
	return b
}

// listenerGroup is the translate.Group of an [eventlistener:name].
func listenerGroup(name string, size int, events []string, procs ...string) *translate.Group {
	g := &translate.Group{Name: name, Type: translate.GroupEventListener, BufferSize: size,
		Events: events, ResultHandler: DefaultResultHandler}
	for _, p := range procs {
		g.Processes = append(g.Processes, &translate.Process{Name: p, Group: name})
	}
	return g
}

// runSupervisor runs testdata/supervisor_events.py, Supervisor's own
// event code, with request in and its answer decoded into out.
func runSupervisor(t *testing.T, in, out any) {
	t.Helper()
	testreal.RequireSupervisor(t)
	script, err := os.ReadFile("testdata/supervisor_events.py")
	if err != nil {
		t.Fatal(err)
	}
	testreal.RunPython(t, string(script), in, out)
}

// bufferSerials lists p's buffered events as [serial, pool serial].
func bufferSerials(p *Pool) [][2]int64 {
	var out [][2]int64
	for i := range p.buf.len() {
		it := p.buf.items[(p.buf.head+i)%len(p.buf.items)]
		out = append(out, [2]int64{it.ev.serial, it.poolSerial})
	}
	return out
}
