package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/hostile"
	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// TestServeHostileInputOnSystemd holds supersede serve to the limits
// fallback/faults holds supersede run to (the same internal/xmlrpc
// server and limits; issue 14): the requests of internal/hostile, the
// corpus fallback/faults sends to run (malformed XML, entity expansion,
// XXE, deep nesting, wrongly typed calls, a body over the 64 MiB cap),
// and a thousand idle connections each get a fault, a 4xx or a closed
// connection, never a crash or a hang of other clients; serve answers
// the real supervisorctl's status after each, and its peak memory stays
// bounded.
func TestServeHostileInputOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	dir := shortTempDir(t)
	conf := writeConf(t, dir, "[program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
	w, sm := serveWorld(t, conf)
	sock := filepath.Join(dir, "s.sock")
	status := func(after string) {
		t.Helper()
		if r := w.ctl("status"); !strings.Contains(r.stdout, "sleeper") || !strings.Contains(r.stdout, "RUNNING") {
			t.Fatalf("after %s, status through serve: %q %q (exit %d)", after, r.stdout, r.stderr, r.code)
		}
	}
	// socket activation starts serve; the program may still be in its
	// first start (STARTING), so wait for RUNNING before the first check
	w.waitState(t, "sleeper", "RUNNING", 0)
	status("the start")
	pid, err := strconv.Atoi(sm.Show("supersede-serve.service", "MainPID")["MainPID"])
	if err != nil || pid == 0 {
		t.Fatalf("serve's MainPID: %v %d", err, pid)
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}}
	for _, h := range hostile.Corpus("sleeper") {
		resp, err := client.Post("http://localhost/RPC2", "text/xml", bytes.NewReader(h.Body()))
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if err := hostile.Leak(body); err != nil {
				t.Errorf("%s: %v", h.Name, err)
			} else if resp.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("<fault>")) && !h.MayAccept {
				t.Errorf("%s: answered 200 without a fault: %.200s", h.Name, body)
			}
		} // a closed connection is a refusal too
		status(h.Name)
	}
	// a thousand idle connections do not keep the owner out
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			break // refused once full: the cap works
		}
		idle = append(idle, c)
	}
	status(fmt.Sprintf("%d idle connections", len(idle)))
	if hwm := peakRSS(t, pid); hwm > 400<<20 {
		t.Errorf("serve's peak RSS %d MiB after the hostile requests: unbounded memory", hwm>>20)
	} else {
		t.Logf("serve's peak RSS after the hostile requests: %d MiB", hwm>>20)
	}
	if now, _ := strconv.Atoi(sm.Show("supersede-serve.service", "MainPID")["MainPID"]); now != pid {
		t.Errorf("serve's pid changed from %d to %d: it died on the way", pid, now)
	}
}

// peakRSS is a process's VmHWM in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("serve's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in serve's status")
	return 0
}
