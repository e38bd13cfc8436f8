package sysd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// setup starts a user manager, converts conf into its unit directory,
// starts the anchor target and returns a Manager driving it.
func setup(t testing.TB, conf string) (*sdtest.Manager, *Manager, string) {
	t.Helper()
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
	res, err := unitgen.Generate(cfg, unitgen.Options{User: true, Dir: dir})
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
	m, err := New(context.Background(), cfg, Options{Scope: User, ConfigPath: path, Load: lopts,
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return sm, m, path
}

// programs is a config of n programs that stay up.
func programs(n int, extra string) string {
	var b strings.Builder
	b.WriteString("[supervisord]\n")
	for i := range n {
		fmt.Fprintf(&b, "[program:p%04d]\ncommand=/bin/sleep 100000\nstartsecs=0\n%s\n", i, extra)
	}
	return b.String()
}

func waitAll(t testing.TB, m *Manager, want status.State, n int) []status.Process {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ps, err := m.Processes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ok := len(ps) == n
		for _, p := range ps {
			if p.State != want {
				ok = false
			}
		}
		if ok {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all %d processes %v after 60s: %+v", n, want, ps[:min(len(ps), 5)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkProcesses(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint("units=", n), func(b *testing.B) {
			sm, m, _ := setup(b, programs(n, ""))
			sm.Systemctl("start", "supersede.target")
			waitAll(b, m, status.Running, n)
			b.ResetTimer()
			before := cpuTicks(b, sm.PID)
			for b.Loop() {
				if _, err := m.Processes(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTicks(b, sm.PID)-before)*10/float64(b.N), "manager-cpu-ms/op")
		})
	}
}

// cpuTicks is the user+system CPU time of a process, in clock ticks.
func cpuTicks(t testing.TB, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	var u, s int
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return u + s
}

func TestEndpointPrivate(t *testing.T) {
	sm, m, _ := setup(t, programs(1, ""))
	if !m.ep.private {
		t.Errorf("connected to %s, not the private socket %s", m.ep.addr, sm.PrivateSocket)
		env := map[string]string{}
		for _, kv := range sm.Env() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		for _, ep := range endpoints(User, func(k string) string { return env[k] }) {
			_, err := dialWire(context.Background(), ep)
			t.Logf("%+v: %v", ep, err)
		}
	}
}

// GroupProcesses must answer as Processes filtered by group does.
func TestGroupProcesses(t *testing.T) {
	sm, m, _ := setup(t, `[supervisord]
[program:a]
command=/bin/sleep 1000
startsecs=0
[program:b]
command=/bin/sleep 1000
numprocs=3
process_name=%(program_name)s_%(process_num)d
autostart=false
[group:g]
programs=c,d
[program:c]
command=/bin/sleep 1000
startsecs=0
[program:d]
command=/bin/sh -c "exit 3"
startsecs=0
autorestart=false
`)
	sm.Systemctl("start", "supersede.target")
	waitAll := func() []status.Process {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ps, err := m.Processes(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// every process settled (RUNNING, EXITED, STOPPED), so that a read
			// a moment later sees the same states: d, which exits at once,
			// EXITED (RUNNING only until its exec step has run it)
			settled := len(ps) == 6
			for _, p := range ps {
				settled = settled && (p.State == status.Running || p.State == status.Exited || p.State == status.Stopped)
				settled = settled && (p.Name != "d" || p.State == status.Exited)
			}
			if settled || time.Now().After(deadline) {
				return ps
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	all := waitAll()
	for _, g := range []string{"a", "b", "g", "nosuch"} {
		var want []status.Process
		for _, p := range all {
			if p.Group == g {
				want = append(want, p)
			}
		}
		got, err := m.GroupProcesses(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("GroupProcesses(%q) = %v\nProcesses filtered: %v", g, got, want)
		}
	}
}

// The endpoints come in systemctl's order: the private socket when the
// runtime directory is ours, then DBUS_SESSION_BUS_ADDRESS, else the bus
// socket in $XDG_RUNTIME_DIR (which go-systemd would not look at).
func TestEndpoints(t *testing.T) {
	rt := t.TempDir()
	env := map[string]string{"XDG_RUNTIME_DIR": rt}
	getenv := func(k string) string { return env[k] }
	eps := endpoints(User, getenv)
	if len(eps) != 2 || !eps[0].private || eps[0].addr != "unix:path="+rt+"/systemd/private" || eps[1].addr != "unix:path="+rt+"/bus" {
		t.Errorf("endpoints = %+v", eps)
	}
	env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/elsewhere/bus,guid=x"
	eps = endpoints(User, getenv)
	if len(eps) != 2 || eps[1].addr != "unix:path=/elsewhere/bus,guid=x" || eps[1].private {
		t.Errorf("endpoints = %+v", eps)
	}
	if n, a, err := unixAddress("tcp:host=x;unix:abstract=/tmp/dbus-x%2cy,guid=1"); err != nil || n != "unix" || a != "@/tmp/dbus-x,y" {
		t.Errorf("unixAddress: %q %q %v", n, a, err)
	}
	if _, _, err := unixAddress("tcp:host=localhost,port=1"); err == nil {
		t.Error("unixAddress accepted a tcp address")
	}
}

// Through the session bus daemon (when the host has one), as for a user
// who may not use the manager's private socket.
func TestReadOverBus(t *testing.T) {
	sm, m, _ := setup(t, programs(3, ""))
	if sm.BusAddress == "" {
		testreal.Missing(t, "no session bus daemon (dbus-daemon) for the user manager: apt-get install dbus")
	}
	sm.Systemctl("start", "supersede.target")
	w, err := dialWire(context.Background(), endpoint{addr: sm.BusAddress})
	if err != nil {
		t.Fatal(err)
	}
	m.wmu.Lock()
	m.w.Close()
	m.w = w
	m.wmu.Unlock()
	ps := waitAll(t, m, status.Running, 3)
	if ps[0].PID == 0 {
		t.Errorf("no pid over the bus: %+v", ps[0])
	}
}

// Converted tells a manager that has this config's units loaded from one
// that has none, or another config's.
func TestConverted(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	sm, m, _ := setup(t, programs(1, ""))
	ctx := context.Background()
	if ok, err := m.Converted(ctx); err != nil || !ok {
		t.Errorf("Converted with the units loaded = %v, %v; want true", ok, err)
	}
	// the same manager seen with another config of the same anchor name
	dir := t.TempDir()
	other := filepath.Join(dir, "other.conf")
	if err := os.WriteFile(other, []byte(programs(1, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(other, translate.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range sm.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	m2, err := New(ctx, cfg, Options{Scope: User, ConfigPath: other, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if ok, err := m2.Converted(ctx); err != nil || ok {
		t.Errorf("Converted for another config = %v, %v; want false", ok, err)
	}
	// no units at all
	if err := os.Remove(filepath.Join(sm.UnitDir, unitgen.AnchorTarget(""))); err != nil {
		t.Fatal(err)
	}
	sm.DaemonReload()
	if ok, err := m.Converted(ctx); err != nil || ok {
		t.Errorf("Converted without the anchor = %v, %v; want false", ok, err)
	}
}

// A Manager made with a Prefetch reports what one without it reports,
// also when the config has a program the manager has not loaded (the
// prefetch read only the anchor's units) and after a unit stopped.
func TestPrefetch(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	n := 3
	sm, m, path := setup(t, programs(n, ""))
	sm.Systemctl("start", "supersede.target")
	waitAll(t, m, status.Running, n)
	sm.Systemctl("stop", "p0001.service")
	env := map[string]string{}
	for _, kv := range sm.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	for _, conf := range []string{programs(n, ""), programs(n+1, "")} {
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		lopts := translate.Options{Dir: filepath.Dir(path)}
		opts := Options{Scope: User, ConfigPath: path, Load: lopts, Getenv: getenv}
		pf := StartPrefetch(ctx, opts)
		cfg, err := translate.Load(path, lopts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Prefetch = pf
		mp, err := New(ctx, cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if mp.pre == nil {
			t.Errorf("New did not take the prefetch")
		}
		got, err := mp.Processes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pf.Close()
		mp.Close()
		opts.Prefetch = nil
		plain, err := New(ctx, cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Processes(ctx)
		plain.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d processes with a prefetch, %d without", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Name != w.Name || g.State != w.State || g.PID != w.PID || !g.Start.Equal(w.Start) {
				t.Errorf("with a prefetch %+v, without %+v", g, w)
			}
		}
		if got[1].State != status.Stopped {
			t.Errorf("p0001 after stop: %v", got[1].State)
		}
	}
}
