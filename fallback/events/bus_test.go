package events

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

func TestAddPoolErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		g    *translate.Group
		want string
	}{
		{"program group", &translate.Group{Name: "web", Type: translate.GroupProgram, BufferSize: 10, Events: []string{"EVENT"}},
			"group web is a program group, not an event listener pool"},
		{"buffer_size=0", listenerGroup("x", 0, []string{"EVENT"}),
			"[eventlistener:x] section sets invalid buffer_size (0)"},
		{"no events", listenerGroup("x", 10, nil),
			`[eventlistener:x] section requires an "events" line`},
		{"unknown event", listenerGroup("x", 10, []string{"PROCESS_STATE", "TICK_10"}),
			"Unknown event type TICK_10 in [eventlistener:x] events"},
		{"python handler", func() *translate.Group {
			g := listenerGroup("x", 10, []string{"EVENT"})
			g.ResultHandler = "superlance.handlers:mine"
			g.KeyPos = map[string]translate.Pos{"result_handler": {File: "/etc/s.conf", Line: 7}}
			return g
		}(), "/etc/s.conf:7: result_handler is not supported: superlance.handlers:mine in [eventlistener:x]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBus(Options{})
			_, err := b.AddPool(c.g)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("AddPool: %v\nwant prefix %s", err, c.want)
			}
		})
	}
	b := NewBus(Options{})
	if _, err := b.AddPool(listenerGroup("x", 1, []string{"EVENT"})); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddPool(listenerGroup("x", 1, []string{"EVENT"})); err == nil {
		t.Error("a second pool of the same name was added")
	}
	g := listenerGroup("y", 1, []string{"EVENT"})
	g.ResultHandler = "supervisor.dispatchers:default_handler"
	if _, err := b.AddPool(g); err != nil {
		t.Errorf("the default handler, named: %v", err)
	}
	g = listenerGroup("z", 1, []string{"EVENT"})
	g.ResultHandler = "nope:x"
	if _, err := b.AddPool(g); !errors.Is(err, ErrUnsupportedHandler) {
		t.Errorf("err = %v, want ErrUnsupportedHandler", err)
	}
}

func TestAttach(t *testing.T) {
	b := NewBus(Options{})
	p, err := b.AddPool(listenerGroup("pool", 10, []string{"EVENT"}, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Attach("c", &stdinRecorder{}); err == nil || err.Error() != "event listener pool pool has no process c" {
		t.Errorf("Attach(c): %v", err)
	}
	l, err := p.Attach("a", &stdinRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != "a" || l.Pool() != p || l.State() != ListenerAcknowledged || p.Name() != "pool" {
		t.Errorf("new listener: %s in %s, %s", l.Name(), l.Pool().Name(), l.State())
	}
	b.RemovePool(p)
	if _, err := p.Attach("b", &stdinRecorder{}); err == nil {
		t.Error("Attach on a removed pool worked")
	}
	l.Output([]byte("READY\n")) // ignored: the pool is gone
	if l.State() != ListenerAcknowledged {
		t.Errorf("a removed pool's listener moved to %s", l.State())
	}
	b.RemovePool(p) // twice is harmless
}

// TestRespawnRebuffers: attaching a process again while its previous
// listener still held an event gives the event back, as an exit does.
func TestRespawnRebuffers(t *testing.T) {
	b := NewBus(Options{})
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"REMOTE_COMMUNICATION"}, "a"))
	w := &stdinRecorder{}
	l, _ := p.Attach("a", w)
	l.Output([]byte("READY\n"))
	l.SetProcessState(status.Running)
	b.Publish(NewRemoteCommunication("t", "x"))
	b.writes.Wait()
	if l.State() != ListenerBusy || len(w.take()) == 0 {
		t.Fatalf("listener %s, nothing written", l.State())
	}
	l2, _ := p.Attach("a", &stdinRecorder{})
	b.mu.Lock()
	buf := bufferSerials(p)
	b.mu.Unlock()
	if !slices.Equal(buf, [][2]int64{{0, 0}}) {
		t.Errorf("buffer after respawn %v, want the event back", buf)
	}
	l.Output([]byte("RESULT 2\nOK")) // the old listener's late output is ignored
	l.Exit()
	if l2.State() != ListenerAcknowledged {
		t.Errorf("new listener %s", l2.State())
	}
}

func TestSerialWraps(t *testing.T) {
	b := NewBus(Options{})
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"EVENT"}))
	b.serial = math.MaxInt64 - 1
	p.serial = math.MaxInt64
	b.Publish(NewSupervisorRunning())
	b.Publish(NewSupervisorRunning())
	got := bufferSerials(p)
	want := [][2]int64{{math.MaxInt64, 0}, {0, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("serials %v, want %v", got, want)
	}
}

func TestSubscribed(t *testing.T) {
	b := NewBus(Options{})
	if b.Subscribed(ProcessLogStdout) {
		t.Error("a bus without pools subscribes")
	}
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"PROCESS_LOG"}))
	if !b.Subscribed(ProcessLogStdout) || !b.Subscribed(ProcessLogStderr) || b.Subscribed(ProcessStateRunning) {
		t.Error("PROCESS_LOG subscription")
	}
	b.RemovePool(p)
	if b.Subscribed(ProcessLogStdout) {
		t.Error("a removed pool still subscribes")
	}
}

// TestTickTimer: the TICK clock is armed only while a pool subscribes to
// a TICK type (EVENT and TICK included), for the shortest such period.
func TestTickTimer(t *testing.T) {
	b := NewBus(Options{})
	defer b.Close()
	armed := func() int64 {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.timer == nil {
			return 0
		}
		return b.timerPeriod
	}
	if armed() != 0 {
		t.Fatal("a new bus has a timer")
	}
	ps, _ := b.AddPool(listenerGroup("state", 10, []string{"PROCESS_STATE", "REMOTE_COMMUNICATION"}))
	if armed() != 0 {
		t.Error("armed without a TICK subscriber")
	}
	p3600, _ := b.AddPool(listenerGroup("hourly", 10, []string{"TICK_3600"}))
	if got := armed(); got != 3600 {
		t.Errorf("armed for %d, want 3600", got)
	}
	pAny, _ := b.AddPool(listenerGroup("all", 10, []string{"TICK"}))
	if got := armed(); got != 5 {
		t.Errorf("armed for %d, want 5", got)
	}
	b.RemovePool(pAny)
	if got := armed(); got != 3600 {
		t.Errorf("armed for %d after removing TICK, want 3600", got)
	}
	pEvent, _ := b.AddPool(listenerGroup("everything", 10, []string{"EVENT"}))
	if got := armed(); got != 5 {
		t.Errorf("armed for %d with EVENT, want 5", got)
	}
	b.RemovePool(pEvent)
	b.RemovePool(p3600)
	if armed() != 0 {
		t.Error("still armed with no TICK subscriber")
	}
	b.RemovePool(ps)
	p60, _ := b.AddPool(listenerGroup("minutely", 10, []string{"TICK_60"}))
	b.Close()
	if armed() != 0 {
		t.Error("armed after Close")
	}
	b.RemovePool(p60)
}

// TestTickEvents drives supervisord's tick() with a chosen clock: one
// TICK per period boundary crossed, when: rounded down to the period.
func TestTickEvents(t *testing.T) {
	start := time.Unix(1795783961, 0) // 1 s into a 5 s slice, 41 s into a minute
	b := NewBus(Options{Now: func() time.Time { return start }})
	p, _ := b.AddPool(listenerGroup("all", 100, []string{"TICK"}))
	defer b.Close()
	var got []string
	step := func(at time.Time) {
		b.mu.Lock()
		b.tick(at)
		for p.buf.len() > 0 {
			it := p.buf.popFront()
			got = append(got, it.ev.Type.String()+" "+it.ev.Payload)
		}
		b.mu.Unlock()
	}
	step(start.Add(1 * time.Second)) // same slices: nothing
	step(start.Add(4 * time.Second)) // 1795783965: TICK_5
	step(start.Add(4*time.Second + 900*time.Millisecond))
	step(start.Add(19 * time.Second)) // 1795783980: TICK_5 and TICK_60
	step(start.Add(2 * time.Hour))    // all three
	want := []string{
		"TICK_5 when:1795783965",
		"TICK_5 when:1795783980", "TICK_60 when:1795783980",
		"TICK_5 when:1795791160", "TICK_60 when:1795791120", "TICK_3600 when:1795788000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ticks\n got %q\nwant %q", got, want)
	}
}

// TestTickTimerFires lets the real timer fire: the clock starts just
// before a 5 s boundary, so the TICK_5 comes within milliseconds.
func TestTickTimerFires(t *testing.T) {
	boundary := time.Unix(1795783965, 0)
	offset := boundary.Add(-200 * time.Millisecond).Sub(time.Now())
	clock := func() time.Time { return time.Now().Add(offset) }
	ticked := make(chan struct{}, 10)
	b := NewBus(Options{Now: clock, OnListenerState: func(*Listener, ListenerState, ListenerState) {
		select {
		case ticked <- struct{}{}:
		default:
		}
	}})
	defer b.Close()
	when := timeslice(5, clock()) + 5 // 1795783965 unless this test was slow
	p, _ := b.AddPool(listenerGroup("ticks", 10, []string{"TICK_5"}, "l0"))
	w := &stdinRecorder{}
	l, _ := p.Attach("l0", w)
	l.Output([]byte("READY\n"))
	l.SetProcessState(status.Running)
	<-ticked // READY
	select {
	case <-ticked: // BUSY: the tick was sent
	case <-time.After(30 * time.Second):
		t.Fatal("no TICK_5 was sent")
	}
	b.writes.Wait()
	want := fmt.Sprintf("ver:3.0 server: serial:0 pool:ticks poolserial:0 eventname:TICK_5 len:15\nwhen:%d", when)
	if got := string(w.take()); got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	b.mu.Lock()
	period := b.timerPeriod
	rearmed := b.timer != nil
	b.mu.Unlock()
	if !rearmed || period != 5 {
		t.Errorf("after a tick: timer armed %v for %d", rearmed, period)
	}
}

// TestWriteFailure: a listener whose stdin is gone (EPIPE) gets no more
// events; the event goes to the next listener, as Supervisor's
// _dispatchEvent moves on after EPIPE.
func TestWriteFailure(t *testing.T) {
	rec := &logRecorder{}
	b := NewBus(Options{Logger: slog.New(rec)})
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"REMOTE_COMMUNICATION"}, "a", "b"))
	wa := &stdinRecorder{err: syscall.EPIPE}
	wb := &stdinRecorder{}
	la, _ := p.Attach("a", wa)
	la.Output([]byte("READY\n"))
	la.SetProcessState(status.Running)
	b.Publish(NewRemoteCommunication("t", "x"))
	b.writes.Wait()
	if !slices.Contains(rec.take(), "epipe occurred while sending event 0 to listener a, listener state unchanged") {
		t.Error("no epipe message")
	}
	if la.State() != ListenerReady {
		t.Errorf("a is %s, want READY (unchanged)", la.State())
	}
	lb, _ := p.Attach("b", wb)
	lb.Output([]byte("READY\n"))
	lb.SetProcessState(status.Running)
	b.writes.Wait()
	if got := string(wb.take()); !strings.Contains(got, "serial:0 ") {
		t.Errorf("b got %q, want event 0", got)
	}
	la.Exit()
	lb.Exit()
}

// blockingStdin is a listener that does not read: each write blocks until
// released.
type blockingStdin struct {
	stdinRecorder
	entered chan struct{}
	release chan struct{}
}

func (w *blockingStdin) Write(b []byte) (int, error) {
	w.entered <- struct{}{}
	<-w.release
	return w.stdinRecorder.Write(b)
}

// TestStalledListener: a listener that answers without reading its stdin
// gets no second event while the first is still being written, and
// nobody else waits for it.
func TestStalledListener(t *testing.T) {
	b := NewBus(Options{})
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"REMOTE_COMMUNICATION"}, "a"))
	w := &blockingStdin{entered: make(chan struct{}, 10), release: make(chan struct{})}
	l, _ := p.Attach("a", w)
	l.Output([]byte("READY\n"))
	l.SetProcessState(status.Running)
	b.Publish(NewRemoteCommunication("t", "0"))
	<-w.entered
	l.Output([]byte("RESULT 2\nOKREADY\n"))
	b.Publish(NewRemoteCommunication("t", "1")) // must not block, nor be sent yet
	select {
	case <-w.entered:
		t.Fatal("a second write started while the first was pending")
	default:
	}
	close(w.release)
	<-w.entered // the second event, once the first write is done
	b.writes.Wait()
	got := string(w.take())
	if !strings.Contains(got, "serial:0 ") || !strings.Contains(got, "serial:1 ") {
		t.Errorf("written %q", got)
	}
	l.Exit()
}

// TestListenerStateHook: OnListenerState sees every change, in order, and
// may call back into the bus.
func TestListenerStateHook(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var b *Bus
	b = NewBus(Options{OnListenerState: func(l *Listener, from, to ListenerState) {
		b.Subscribed(Any) // calling back does not deadlock
		mu.Lock()
		seen = append(seen, l.Name()+" "+from.String()+">"+to.String())
		mu.Unlock()
	}})
	p, _ := b.AddPool(listenerGroup("pool", 10, []string{"REMOTE_COMMUNICATION"}, "a"))
	l, _ := p.Attach("a", &stdinRecorder{})
	l.SetProcessState(status.Running)
	l.Output([]byte("READY\n"))
	b.Publish(NewRemoteCommunication("t", "x"))
	b.writes.Wait()
	l.Output([]byte("RESULT 2\nOKREADY\nx"))
	l.Exit()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"a ACKNOWLEDGED>READY", "a READY>BUSY", "a BUSY>ACKNOWLEDGED", "a ACKNOWLEDGED>READY", "a READY>UNKNOWN"}
	if !slices.Equal(seen, want) {
		t.Errorf("hook saw %q\nwant %q", seen, want)
	}
}

func TestPyInt(t *testing.T) {
	for in, want := range map[string]int64{
		"2": 2, " 2 ": 2, "+2": 2, "02": 2, "1_000": 1000, "\t\v\f3\r\n": 3, "-0": 0, "-0_0": 0,
		"9223372036854775807": math.MaxInt64,
	} {
		if got, ok := pyInt([]byte(in)); !ok || got != want {
			t.Errorf("pyInt(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", " ", "x", "1__0", "_1", "1_", "0x1", "-1", "- 1", "+", "-", "2\x00", "\xa02",
		"\x1c2", "9223372036854775808", "1.0", "١"} {
		if got, ok := pyInt([]byte(in)); ok {
			t.Errorf("pyInt(%q) = %d, want an error", in, got)
		}
	}
}

// TestLogLevels: Supervisor's error, warnings and debug lines keep their
// levels.
func TestLogLevels(t *testing.T) {
	rec := &logRecorder{}
	b := NewBus(Options{Logger: slog.New(rec)})
	p, _ := b.AddPool(listenerGroup("pool", 1, []string{"REMOTE_COMMUNICATION"}, "a"))
	b.Publish(NewRemoteCommunication("t", "0"))
	b.Publish(NewRemoteCommunication("t", "1")) // overflow
	l, _ := p.Attach("a", &stdinRecorder{})
	l.SetProcessState(status.Running)
	l.Output([]byte("READY\n"))
	b.writes.Wait()
	l.Output([]byte("RESULT 4\nFAIL"))
	l.Output([]byte("junk!!"))
	l.Exit()
	want := map[string]slog.Level{
		"pool pool event buffer overflowed, discarding event 0": slog.LevelError,
		"event 1 sent to listener a":                            slog.LevelDebug,
		"a: event was rejected":                                 slog.LevelWarn,
		"a: ACKNOWLEDGED -> UNKNOWN":                            slog.LevelDebug,
		"a: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol": slog.LevelWarn,
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, m := range rec.msgs {
		if lvl, ok := want[m]; ok {
			if rec.lvls[i] != lvl {
				t.Errorf("%q logged at %v, want %v", m, rec.lvls[i], lvl)
			}
			delete(want, m)
		}
	}
	for m := range want {
		t.Errorf("not logged: %q", m)
	}
}
