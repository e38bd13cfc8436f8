package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// owner calls getAllProcessInfo every 50 ms until ctx ends, as the
// daemon's owner running supervisorctl status would, and returns the
// slowest answer; an error or a FATAL process fails t.
func owner(ctx context.Context, t *testing.T, d *daemon) time.Duration {
	var worst time.Duration
	for ctx.Err() == nil {
		info, took, err := d.processInfo(answerBound + 3*time.Second)
		if err != nil {
			t.Errorf("%s: getAllProcessInfo: %v (after %v)", d.impl, err, took.Round(time.Millisecond))
			return took
		}
		for name, state := range info {
			if state == "FATAL" {
				t.Errorf("%s: %s went FATAL", d.impl, name)
				return took
			}
		}
		worst = max(worst, took)
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return worst
}

// fdsBack waits until the daemon holds at most base+slack descriptors
// again, and fails t, listing them, if it does not within the bound.
func fdsBack(t *testing.T, d *daemon, base, slack int, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	n := d.fds()
	for n > base+slack && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = d.fds()
	}
	if n > base+slack {
		t.Errorf("%s: %d descriptors open 5 s after %s, %d before: connections leak?\n%s", d.impl, n, after, base, d.fdList())
	}
}

// TestSlowClients: clients that trickle a request's header or body, one
// byte every 100 ms, and clients that go away in the middle of a request
// or before its answer, do not hold up the owner's calls, and leave no
// descriptor or memory behind.
func TestSlowClients(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		const (
			slow     = 20 // of each kind
			trickle  = 1500 * time.Millisecond
			abandons = 20 // of each kind
		)
		d := startDaemon(t, impl, config{sections: "[program:p]\ncommand=sleep 1000\nstartsecs=0\n"})
		// counted once p runs: its pipes and log files, opened as it is
		// spawned, are no leak (a loaded CI counted before the spawn)
		waitFor(t, string(impl)+": p RUNNING", readyBound, func() bool {
			info, _, err := d.processInfo(answerBound)
			return err == nil && info["p"] == "RUNNING"
		})
		baseFDs := d.fds()
		mem := d.memory()
		ctx, cancel := context.WithTimeout(context.Background(), trickle)
		defer cancel()
		call := encodeCall("supervisor.getAllProcessInfo")
		var wg sync.WaitGroup
		for i := range 2 * slow {
			wg.Go(func() {
				conn, err := net.Dial("unix", d.sock)
				if err != nil {
					t.Errorf("%s: slow client: %v", impl, err)
					return
				}
				defer conn.Close()
				var msg string
				if i%2 == 0 { // the header, trickled
					msg = "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n" + strings.Repeat("X-Slow: x\r\n", 100)
				} else { // the header at once, then the body trickled
					io.WriteString(conn, fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", len(call)))
					msg = string(call)
				}
				for j := 0; ctx.Err() == nil && j < len(msg); j++ {
					if _, err := io.WriteString(conn, msg[j:j+1]); err != nil {
						return // the daemon gave up on us: fine
					}
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			})
		}
		time.Sleep(100 * time.Millisecond) // let them connect
		worst := owner(ctx, t, d)
		wg.Wait()
		t.Logf("%s: the owner's slowest getAllProcessInfo among %d slow clients: %v", impl, 2*slow, worst.Round(time.Microsecond))
		latency(t, impl, "getAllProcessInfo among slow clients", worst, answerBound)

		// Abandoned: half a body then gone; a whole request then gone
		// before the answer (a large one: the main log, 1 MB).
		readLog := encodeCall("supervisor.readLog", 0, 1<<20)
		for i := range 2 * abandons {
			conn, err := net.Dial("unix", d.sock)
			if err != nil {
				t.Fatalf("%s: %v", impl, err)
			}
			body := readLog
			if i%2 == 0 {
				body = body[:len(body)/2]
			}
			fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(readLog), body)
			conn.Close()
		}
		alive(t, d, "abandoned clients")
		fdsBack(t, d, baseFDs, 4, "slow and abandoned clients")
		mem.check(t, "slow and abandoned clients", 20*mib)
	})
}

// TestAbandonedStdin: a client sends 200 KiB to a program that does not
// read its stdin yet, more than its pipe holds, and goes away after
// 500 ms. The next sendProcessStdin still works, and once the program
// reads, it gets all of it, in order. supervisord buffers the data and
// answers at once; before issue 15 supersede's abandoned write left a
// deadline on the pipe and every later call failed ("i/o timeout").
func TestAbandonedStdin(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := startDaemon(t, impl, config{sections: `[program:reader]
command={HELPER} {DIR}/go {DIR}/got
environment=FAULTS_HELPER="gated-cat"
startsecs=0
`})
		waitFor(t, "reader RUNNING", readyBound, func() bool {
			info, _, err := d.processInfo(answerBound)
			return err == nil && info["reader"] == "RUNNING"
		})
		mem := d.memory()
		var data strings.Builder
		for i := 0; data.Len() < 200<<10; i++ {
			fmt.Fprintf(&data, "line %06d of the data sent to stdin\n", i)
		}
		_, took, err := d.callTimed(500*time.Millisecond, "supervisor.sendProcessStdin", "reader", data.String())
		t.Logf("%s: sendProcessStdin of %d bytes to a program that does not read: %v after %v", impl, data.Len(), outcome(nil, err), took.Round(time.Millisecond))
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the first sendProcessStdin: %v", impl, err)
		}
		v, took, err := d.callTimed(answerBound+3*time.Second, "supervisor.sendProcessStdin", "reader", "END\n")
		var he *httpError
		switch {
		case impl == fallbacktest.Supervisord && errors.As(err, &he) && he.status == 500:
			// Its write to the full pipe raises EAGAIN, which it answers
			// with a traceback; the data was queued all the same.
			t.Logf("%s: sendProcessStdin to the full pipe: HTTP 500, as expected of supervisord", impl)
		case err != nil || v != true:
			t.Fatalf("%s: sendProcessStdin after an abandoned one = %v, %v", impl, v, err)
		}
		latency(t, impl, "sendProcessStdin after an abandoned one", took, answerBound)
		if err := os.WriteFile(filepath.Join(d.dir, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want := data.String() + "END\n"
		var got []byte
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			got, _ = os.ReadFile(filepath.Join(d.dir, "got"))
			if len(got) >= len(want) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if string(got) != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: the program read %d bytes, want %d; they differ from byte %d: got %.80q", impl, len(got), len(want), i, got[i:])
		}
		mem.check(t, "abandoned sendProcessStdin", 20*mib)
	})
}

// TestIdleConnections: 2000 idle connections under minfds=1024 (the
// default, and the daemon's limit here) would take every descriptor. The
// owner's getAllProcessInfo still answers, a program that restarts all
// the time keeps restarting (no FATAL for want of descriptors), and the
// descriptors come back when the clients go. supervisord is just as bad
// as supersede was (status times out, the program goes FATAL): not
// compared.
func TestIdleConnections(t *testing.T) {
	onlySupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		const (
			conns  = 2000
			window = 2 * time.Second
		)
		d := startDaemon(t, impl, config{
			supervisord: "minfds=1024",
			sections:    "[program:flap]\ncommand=sh -c 'sleep 0.2; exit 1'\nautorestart=true\nstartsecs=0\n",
			wrap:        []string{"sh", "-c", `ulimit -n 1024 && exec "$0" "$@"`},
		})
		baseFDs := d.fds()
		mem := d.memory()
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		refused := 0
		for range conns {
			c, err := net.Dial("unix", d.sock)
			if err != nil {
				refused++
				continue
			}
			held = append(held, c)
		}
		t.Logf("%s: %d idle connections held, %d refused", impl, len(held), refused)
		spawnsBefore := count(d.mainLog(), `spawned: 'flap'`)
		ctx, cancel := context.WithTimeout(context.Background(), window)
		defer cancel()
		worst := owner(ctx, t, d)
		t.Logf("%s: the owner's slowest getAllProcessInfo among %d idle connections: %v", impl, len(held), worst.Round(time.Microsecond))
		latency(t, impl, "getAllProcessInfo among idle connections", worst, answerBound)
		log := d.mainLog()
		if n := count(log, `spawned: 'flap'`) - spawnsBefore; n < 3 {
			t.Errorf("%s: flap was spawned %d times in %v among idle connections, want at least 3", impl, n, window)
		}
		if strings.Contains(log, "too many open files") {
			t.Errorf("%s: the daemon ran out of descriptors", impl)
		}
		if t.Failed() {
			t.Logf("main log:\n%s", log)
		}
		mem.check(t, "idle connections", 64*mib)
		for _, c := range held {
			c.Close()
		}
		held = nil
		// flap's pipes and logs come and go with it: some slack.
		fdsBack(t, d, baseFDs, 16, "closing the idle connections")
	})
}

// gatedCat is the helper gated-cat GATE OUT: once the file GATE exists,
// it copies its stdin to OUT.
func gatedCat(gate, out string) int {
	for {
		if _, err := os.Stat(gate); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	if _, err := io.Copy(f, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestStalledClient: a client that connects and sends part of a
// request's header, then nothing, is disconnected once the header
// deadline (10 s) has passed; supervisord holds it for ever: not
// compared.
func TestStalledClient(t *testing.T) {
	onlySupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		const headerTimeout = 10 * time.Second
		d := startDaemon(t, impl, config{})
		baseFDs := d.fds()
		conn, err := net.Dial("unix", d.sock)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		t0 := time.Now()
		io.WriteString(conn, "POST /RPC2 HTTP/1.1\r\nHost: loc")
		conn.SetReadDeadline(t0.Add(headerTimeout + 10*time.Second))
		_, err = io.Copy(io.Discard, conn) // until the daemon closes it (perhaps after a 408)
		took := time.Since(t0)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: a stalled client is still connected after %v", impl, took.Round(time.Millisecond))
		}
		t.Logf("%s: a stalled client disconnected after %v", impl, took.Round(time.Millisecond))
		latency(t, impl, "disconnecting a stalled client", took, headerTimeout+5*time.Second)
		fdsBack(t, d, baseFDs, 4, "the stalled client")
	})
}
