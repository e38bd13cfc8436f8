package xmlrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangBound is how long a test waits for what a limit must end; the
// limits under test are a fraction of it, so a loaded machine still
// passes and a missing limit fails instead of hanging.
const hangBound = 15 * time.Second

// limitedServer serves the world on a unix socket with lim.
func limitedServer(t *testing.T, b Backend, lim Limits) (*Server, string) {
	t.Helper()
	s := NewServer(b, Options{Now: func() time.Time { return fixtureNow }, Location: time.UTC, Limits: lim})
	return s, serveUnix(t, s, Auth{})
}

func dialT(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readResponse reads one response from c within hangBound: its status
// code, or 0 and the error when the connection ends first.
func readResponse(t *testing.T, c net.Conn) (int, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hangBound))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer and no close within %v", hangBound)
		}
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitClosed waits until the server closes c.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hangBound))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", hangBound)
	}
}

func postHead(n int) string {
	return fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", n)
}

func TestHeaderTimeout(t *testing.T) {
	t.Parallel()
	_, sock := limitedServer(t, newWorld(t).backend(), Limits{HeaderTimeout: 200 * time.Millisecond})
	c := dialT(t, sock)
	io.WriteString(c, "POST /RPC2 HTTP/1.1\r\nHost: local") // and nothing more
	waitClosed(t, c)
	silent := dialT(t, sock) // never sends a byte
	waitClosed(t, silent)
}

// A client that sends its headers and then trickles its body is answered
// 400 once ReadTimeout has passed, not held for ever.
func TestBodyTimeout(t *testing.T) {
	t.Parallel()
	_, sock := limitedServer(t, newWorld(t).backend(), Limits{ReadTimeout: 300 * time.Millisecond})
	c := dialT(t, sock)
	body := callBody("supervisor.getPID")
	io.WriteString(c, postHead(len(body))+body[:10])
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 50 ms: never done in time
		for i := 10; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	code, err := readResponse(t, c)
	if code != 400 && err == nil {
		t.Errorf("trickled body answered %d, want 400 or a closed connection", code)
	}
}

// A call that takes longer than ReadTimeout after its body was read is
// answered, not cancelled (http.Server's ReadTimeout would cancel it).
func TestSlowCallOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.backend()
	wait := b.WaitStoppedFn
	b.WaitStoppedFn = func(ctx context.Context, g, n string) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		return wait(ctx, g, n)
	}
	_, sock := limitedServer(t, b, Limits{ReadTimeout: 100 * time.Millisecond})
	got := rawPost(t, sock, "POST", "/RPC2", callBody("supervisor.stopProcess", str("sleeper")))
	if !strings.Contains(got, "<boolean>1</boolean>") {
		t.Errorf("stopProcess with a slow stop:\n%s", got)
	}
}

// Bodies beyond smallBody share the in-flight budget: while one holds it,
// another waits, and gets 503 when its time is up; a small one is
// answered at once.
func TestInFlightBudget(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.backend()
	write := b.WriteStdinFn
	hold := make(chan struct{})
	held := make(chan struct{}, 1)
	b.WriteStdinFn = func(ctx context.Context, g, n string, data []byte) error {
		select {
		case held <- struct{}{}: // the first large call holds its claim until released
			<-hold
		default:
		}
		return write(ctx, g, n, data)
	}
	s, sock := limitedServer(t, b, Limits{InFlight: 1 << 20, ReadTimeout: time.Second})
	big := callBody("supervisor.sendProcessStdin", str("sleeper"), str(strings.Repeat("x", 800<<10)))

	// A holds 800 KiB of the budget while its call runs.
	a := dialSend(t, sock, postHead(len(big))+big)
	<-held
	if s.budget.sem.TryAcquire(300 << 10) {
		t.Fatal("the budget has room beside a call holding 800 KiB of 1 MiB")
	}
	// B's 800 KiB do not fit beside A's: 503 when its ReadTimeout is up.
	bc := dialT(t, sock)
	go io.WriteString(bc, postHead(len(big))+big)
	// C is small, and answered while B waits.
	if got := rawPost(t, sock, "POST", "/RPC2", callBody("supervisor.getPID")); !strings.HasPrefix(got, "200 ") {
		t.Errorf("small call beside a full budget: %s", got)
	}
	if code, err := readResponse(t, bc); code != http.StatusServiceUnavailable {
		t.Errorf("second large body answered %d (%v), want 503 while the first holds the budget", code, err)
	}
	close(hold)
	if code, err := readResponse(t, a); code != 200 {
		t.Errorf("first large body answered %d (%v)", code, err)
	}
	// The budget is free again.
	if got := rawPost(t, sock, "POST", "/RPC2", big); !strings.HasPrefix(got, "200 ") {
		t.Errorf("large call once the budget is free: %.200s", got)
	}
	w.mu.Lock()
	got := w.stdin["sleeper"]
	w.mu.Unlock()
	if len(got) != 2*800<<10 {
		t.Errorf("stdin got %d bytes, want %d", len(got), 2*800<<10)
	}
	if !s.budget.sem.TryAcquire(1 << 20) {
		t.Error("the budget was not given back")
	}
}

// At MaxConns, a newcomer closes the connection idle the longest, never
// one with a request in progress; with every one busy it is refused 503.
func TestConnLimitEvictsIdle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s, sock := limitedServer(t, w.backend(), Limits{MaxConns: 4, ReadTimeout: hangBound})
	busy := dialT(t, sock)
	body := callBody("supervisor.getPID")
	io.WriteString(busy, postHead(len(body))+body[:5]) // its request is in progress
	waitFor(t, "the busy connection to be handled", func() bool {
		s.conns.mu.Lock()
		defer s.conns.mu.Unlock()
		for c := range s.conns.all {
			if c.phase == phaseBusy {
				return true
			}
		}
		return false
	})
	var idle []net.Conn
	for range 10 {
		idle = append(idle, dialT(t, sock))
	}
	// The owner's call is answered, over a connection that took the
	// place of an idle one.
	if got := rawPost(t, sock, "POST", "/RPC2", body); !strings.HasPrefix(got, "200 ") {
		t.Errorf("call at the limit: %s", got)
	}
	// The oldest idle ones were closed; the last ones and the busy one
	// are still there.
	for _, c := range idle[:8] {
		waitClosed(t, c)
	}
	s.conns.mu.Lock()
	held := s.conns.held
	s.conns.mu.Unlock()
	if held > 4 {
		t.Errorf("%d descriptors held by connections, limit 4", held)
	}
	io.WriteString(busy, body[5:])
	if code, err := readResponse(t, busy); code != 200 {
		t.Errorf("the busy connection was answered %d (%v), want 200", code, err)
	}

	// Every slot busy: the newcomer is refused.
	// One at a time: a connection still sending its headers may be
	// evicted for the next one, and a loaded machine may be slow to read
	// them.
	var slow []net.Conn
	for i := range 4 {
		c := dialT(t, sock)
		io.WriteString(c, postHead(len(body))+body[:5])
		slow = append(slow, c)
		waitFor(t, fmt.Sprintf("%d busy connections", i+1), func() bool {
			s.conns.mu.Lock()
			defer s.conns.mu.Unlock()
			n := 0
			for c := range s.conns.all {
				if c.phase == phaseBusy {
					n++
				}
			}
			return n == i+1
		})
	}
	if code, err := readResponse(t, dialSend(t, sock, postHead(len(body))+body)); code != http.StatusServiceUnavailable {
		t.Errorf("newcomer with every slot busy: %d (%v), want 503", code, err)
	}
	for _, c := range slow {
		io.WriteString(c, body[5:])
		if code, err := readResponse(t, c); code != 200 {
			t.Errorf("a busy connection was answered %d (%v), want 200", code, err)
		}
	}
}

func dialSend(t *testing.T, sock, data string) net.Conn {
	t.Helper()
	c := dialT(t, sock)
	io.WriteString(c, data)
	return c
}

// waitFor polls cond until it holds, within hangBound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A log stream is not ended by the read deadline of its request, and
// counts three descriptors (socket, log file, inotify).
func TestLogStreamOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s, sock := limitedServer(t, w.backend(), Limits{ReadTimeout: 100 * time.Millisecond})
	c := dialSend(t, sock, "GET /logtail/sleeper/stdout HTTP/1.0\r\nHost: localhost\r\n\r\n")
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(hangBound))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to count three descriptors", func() bool {
		s.conns.mu.Lock()
		defer s.conns.mu.Unlock()
		return s.conns.held == 3
	})
	time.Sleep(300 * time.Millisecond) // past the read deadline
	f, err := os.OpenFile(w.procs[0].StdoutLog, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("later line\n")
	f.Close()
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), "later line") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended before the new line: %v; got %q", err, got.String())
		}
	}
}

func TestConnLimit(t *testing.T) {
	// Whatever the limit, the result stays within its floor and ceiling,
	// and more processes never raise it.
	prev := ConnLimit(0)
	if prev < maxConnsFloor || prev > maxConnsCeiling {
		t.Fatalf("ConnLimit(0) = %d", prev)
	}
	for _, n := range []int{1, 10, 100, 1000, 100000} {
		got := ConnLimit(n)
		if got > prev || got < maxConnsFloor {
			t.Errorf("ConnLimit(%d) = %d after %d", n, got, prev)
		}
		prev = got
	}
}

// fakeListener accepts what is put into conns, after the errors in errs.
type fakeListener struct {
	net.Listener
	errs  []error
	conns []net.Conn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if len(l.conns) == 0 {
		return nil, net.ErrClosed
	}
	c := l.conns[0]
	l.conns = l.conns[1:]
	return c, nil
}

// An accept that finds no descriptor free closes the connection idle
// the longest and accepts again; with none idle, the error is
// http.Server's to retry later.
func TestAcceptOutOfDescriptors(t *testing.T) {
	cs := newConns(10, time.Now)
	pipe := func() net.Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a
	}
	old, _ := cs.admit(pipe())
	busy, _ := cs.admit(pipe())
	busy.set(phaseBusy)
	emfile := &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	next := pipe()
	ln := &limitListener{Listener: &fakeListener{errs: []error{emfile}, conns: []net.Conn{next}}, cs: cs}
	c, err := ln.Accept()
	if err != nil || c.(*trackedConn).Conn != next {
		t.Fatalf("Accept = %v, %v; want the next connection", c, err)
	}
	if _, ok := cs.all[old]; ok {
		t.Error("the idle connection was not closed")
	}
	if _, ok := cs.all[busy]; !ok {
		t.Error("the busy connection was closed")
	}
	c.(*trackedConn).set(phaseBusy)
	ln = &limitListener{Listener: &fakeListener{errs: []error{emfile}}, cs: cs}
	if _, err := ln.Accept(); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("Accept with nothing to close = %v, want EMFILE", err)
	}
}
