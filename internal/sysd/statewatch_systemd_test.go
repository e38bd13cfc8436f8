package sysd

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// TestMain lets the test binary be the units' compatibility step, as
// `supersede shim` (setupShim); SHIM_TEST_SECOND, in a program's
// environment, shortens Supervisor's backoff second for its steps.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		signal.Reset(syscall.SIGTERM, syscall.SIGINT)
		if d, err := time.ParseDuration(os.Getenv("SHIM_TEST_SECOND")); err == nil {
			shim.Second = d
		}
		os.Exit(shim.Main(os.Args[2:], os.Environ(), os.Stderr))
	}
	os.Exit(m.Run())
}

// setupShim is setup with the compatibility step (this test binary).
func setupShim(t *testing.T, conf string) (*sdtest.Manager, *Manager) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sm := sdtest.Start(t, sdtest.Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	lopts := translate.Options{Dir: dir}
	cfg, err := translate.Load(path, lopts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := unitgen.Generate(cfg, unitgen.Options{User: true, Dir: dir, Shim: exe, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unitgen.WriteDir(sm.UnitDir, res, unitgen.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sm.DaemonReload()
	env := map[string]string{}
	for _, kv := range sm.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	m, err := New(context.Background(), cfg, Options{Scope: User, ConfigPath: path, Load: lopts, Shim: exe,
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return sm, m
}

// The events the watch derives from real units with the compatibility
// step are Supervisor's, tries included: a crash loop to FATAL (each
// automatic restart is a start of its own, with a new InvocationID on
// systemd 252, and the start in which the step gives up runs nothing),
// a fresh start straight to RUNNING (the step's count of 1 is no wait),
// and a program that ran past startsecs and died, restarted at once
// without BACKOFF.
func TestWatchStatesOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	sm, m := setupShim(t, `[supervisord]
[program:crashy]
command=/bin/sh -c "exit 1"
autostart=false
startsecs=10
startretries=2
environment=SHIM_TEST_SECOND=200ms

[program:runner]
command=/bin/sleep 1000
autostart=false
startsecs=1

[program:flaky]
command=/bin/sh -c "sleep 1.3; exit 1"
autostart=false
startsecs=1
`)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	got := map[string][]string{}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- m.WatchStates(ctx, NewTracks(), func() { close(ready) }, func(c StateChange) {
			mu.Lock()
			defer mu.Unlock()
			e := c.From.String() + ">" + c.To.String() + ":" + itoa(c.Tries)
			if c.To.String() == "EXITED" && c.Expected {
				e += ":expected"
			}
			got[c.Name] = append(got[c.Name], e)
		})
	}()
	defer func() {
		cancel()
		<-done // ctx's end, or the connection closed by it
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the watch ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the watch was not ready in 30 s")
	}
	first := map[string]string{}
	for _, name := range []string{"crashy", "runner", "flaky"} {
		sm.Systemctl("start", "--no-block", name+".service")
		ids, err := m.invocations(ctx, []string{name + ".service"})
		if err != nil {
			t.Fatal(err)
		}
		first[name] = ids[0]
	}
	want := map[string][]string{
		"crashy": {"STOPPED>STARTING:0", "STARTING>BACKOFF:1", "BACKOFF>STARTING:1", "STARTING>BACKOFF:2",
			"BACKOFF>STARTING:2", "STARTING>BACKOFF:3", "BACKOFF>FATAL:0"},
		"runner": {"STOPPED>STARTING:0", "STARTING>RUNNING:0"},
		"flaky": {"STOPPED>STARTING:0", "STARTING>RUNNING:0", "RUNNING>EXITED:0", "EXITED>STARTING:0",
			"STARTING>RUNNING:0", "RUNNING>EXITED:0", "EXITED>STARTING:0"},
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		ok := true
		for name, w := range want {
			ok = ok && len(got[name]) >= len(w)
		}
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	sm.Systemctl("stop", "runner.service", "flaky.service")
	mu.Lock()
	defer mu.Unlock()
	for name, w := range want {
		g := got[name]
		if name != "crashy" {
			g = g[:min(len(g), len(w))] // stopped since
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: events\n%v\nwant Supervisor's\n%v", name, g, w)
		}
	}
	// systemd 252 draws a new InvocationID for each automatic restart,
	// which is what tells the runs apart
	ids, err := m.invocations(context.Background(), []string{"crashy.service"})
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] == "" || ids[0] == first["crashy"] {
		t.Errorf("crashy's InvocationID at FATAL %q, at its first start %q: want a new one per start", ids[0], first["crashy"])
	}
}

// No restart attempt is lost when the watch reads the units only long
// after they changed (a loaded machine; here the watch is held while
// the programs run, then let go): a crash loop to FATAL (four starts,
// each an automatic restart but the first) and a program killed three
// times after startsecs, each restarted by systemd, give every one of
// Supervisor's transitions, in its order, with its tries, expected flag
// and pids. (cmd/supersede's TestServeEventsOnSystemd holds the same
// sequences to the real supervisord.)
func TestWatchStatesMissesNoRestart(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	sm, m := setupShim(t, `[supervisord]
[program:crashy]
command=/bin/sh -c "exit 1"
autostart=false
startsecs=3
startretries=3
environment=SHIM_TEST_SECOND=100ms

[program:killed]
command=/bin/sleep 1000
autostart=false
autorestart=true
startsecs=1
`)
	hold := make(chan struct{})
	m.watchHold = func() { <-hold }
	held := true
	release := func() {
		if held {
			held = false
			close(hold)
		}
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	got := map[string][]string{}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- m.WatchStates(ctx, NewTracks(), func() { close(ready) }, func(c StateChange) {
			mu.Lock()
			defer mu.Unlock()
			e := c.From.String() + ">" + c.To.String() + ":" + itoa(c.Tries)
			switch c.To {
			case status.Exited:
				e += ":expected=" + strconv.FormatBool(c.Expected) + ":pid=" + strconv.Itoa(c.PID)
			case status.Running:
				e += ":pid=" + strconv.Itoa(c.PID)
			}
			got[c.Name] = append(got[c.Name], e)
		})
	}()
	defer func() {
		release()
		cancel()
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the watch ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the watch was not ready in 30 s")
	}
	sm.Systemctl("start", "--no-block", "crashy.service", "killed.service")
	// killed: three times RUNNING (active past startsecs), then SIGKILL
	var pids []string
	for range 3 {
		p := sm.WaitUntil("killed.service", 30*time.Second, func(p map[string]string) bool {
			return p["ActiveState"] == "active" && p["MainPID"] != "0" && !slices.Contains(pids, p["MainPID"])
		}, "ActiveState", "MainPID")
		pids = append(pids, p["MainPID"])
		sm.Systemctl("kill", "--signal=KILL", "killed.service")
	}
	p := sm.WaitUntil("killed.service", 30*time.Second, func(p map[string]string) bool {
		return p["ActiveState"] == "active" && p["MainPID"] != "0" && !slices.Contains(pids, p["MainPID"])
	}, "ActiveState", "MainPID")
	pids = append(pids, p["MainPID"])
	sm.WaitFor("crashy.service", "ActiveState", "failed", 30*time.Second)
	release()
	want := map[string][]string{
		"crashy": {"STOPPED>STARTING:0", "STARTING>BACKOFF:1", "BACKOFF>STARTING:1", "STARTING>BACKOFF:2",
			"BACKOFF>STARTING:2", "STARTING>BACKOFF:3", "BACKOFF>STARTING:3", "STARTING>BACKOFF:4", "BACKOFF>FATAL:0"},
		"killed": {"STOPPED>STARTING:0", "STARTING>RUNNING:0:pid=" + pids[0]},
	}
	for _, pid := range pids[:3] {
		want["killed"] = append(want["killed"], "RUNNING>EXITED:0:expected=false:pid="+pid, "EXITED>STARTING:0")
		next := pids[slices.Index(pids, pid)+1]
		want["killed"] = append(want["killed"], "STARTING>RUNNING:0:pid="+next)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := true
		for name, w := range want {
			ok = ok && len(got[name]) >= len(w)
		}
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sm.Systemctl("stop", "killed.service")
	mu.Lock()
	defer mu.Unlock()
	for name, w := range want {
		g := got[name]
		if name == "killed" {
			g = g[:min(len(g), len(w))] // stopped since
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: events\n%v\nwant Supervisor's\n%v", name, g, w)
		}
	}
}

// BenchmarkWatchWakeUp is the watch's cost per wake-up for one unit: the
// reading it always made (readRuns), and what the replay of missed runs
// adds to it: the note taken of each signal (replay.go), and on a
// wake-up where a unit started anew, the Ping that takes the signals
// still on their way (sync).
func BenchmarkWatchWakeUp(b *testing.B) {
	sm, m, _ := setup(b, programs(1, ""))
	sm.Systemctl("start", "supersede.target")
	waitAll(b, m, status.Running, 1)
	b.Run("reading", func(b *testing.B) {
		units := []string{m.procs[0].unit}
		for b.Loop() {
			if _, _, err := m.readRuns(context.Background(), units); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sync", func(b *testing.B) {
		c, err := dialEndpoint(context.Background(), m.ep)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		obj := c.Object(destSystemd, "/org/freedesktop/systemd1")
		for b.Loop() {
			if err := obj.Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("note", func(b *testing.B) {
		body := serviceSignal(1_700_000_000_000_000, 0, 4242, 0, 0, 3)
		l := runLog{}
		for b.Loop() {
			l.note("x.service", body)
			if len(l["x.service"]) > 8 {
				clear(l)
			}
		}
	})
}
