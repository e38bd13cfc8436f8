package sysd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

const (
	idA = "0123456789abcdef0123456789abcdef"
	idB = "fedcba9876543210fedcba9876543210"
)

// The cache gives a run only for the invocation its unit's symlink names
// and a pid that is alive; a file others could write, or one that does
// not parse, is not read.
func TestRunCacheHits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	links := filepath.Join(dir, "units")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	for unit, id := range map[string]string{"a.service": idA, "b.service": idB, "c.service": idA, `w@x\x2dy.service`: idA} {
		if err := os.Symlink(id, filepath.Join(links, "invocation:"+unit)); err != nil {
			t.Fatal(err)
		}
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	units := []string{"a.service", "b.service", "c.service", "d.service", `w@x\x2dy.service`}
	write := func(mode os.FileMode, body string) *runCache {
		t.Helper()
		file := filepath.Join(dir, ".runs.x.target")
		os.Remove(file)
		if err := os.WriteFile(file, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(file, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return &runCache{file: file, dir: dir, links: links}
	}
	good := fmt.Sprintf("%sa.service %s %d 1700000000000000 0\nb.service %s %d 1700000000000001 0\nc.service %s %d 1700000000000002 0\nd.service %s %d 1700000000000003 0\nw@x\\x2dy.service %s %d 5 0\n",
		runsHeader, idA, me, idB, dead.Process.Pid, idB, me, idA, me, idA, me)
	rc := write(0o644, good)
	ids := rc.invocations(units)
	if want := []string{idA, idB, idA, "", idA}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("invocations = %q, want %q", ids, want)
	}
	// a: known and alive; b: its pid is dead; c: another invocation;
	// d: no symlink (not running); the last: escaped name
	if got, want := fmt.Sprint(hits(rc.lookup(units, ids, true))), "[true false false false true]"; got != want {
		t.Errorf("hits = %s, want %s", got, want)
	}
	for _, bad := range []struct {
		name string
		mode os.FileMode
		body string
	}{
		{"writable by others", 0o666, good},
		{"writable by the group", 0o664, good},
		{"no header", 0o644, strings.TrimPrefix(good, runsHeader)},
		{"short line", 0o644, runsHeader + "a.service " + idA + " 1 0\n"},
		{"the first version's line", 0o644, runsHeader + "a.service " + idA + fmt.Sprintf(" %d 1\n", me)},
		{"the first version's header", 0o644, strings.Replace(good, runsHeader, "supersede runs 1\n", 1)},
		{"bad id", 0o644, runsHeader + "a.service " + strings.ToUpper(idA) + fmt.Sprintf(" %d 1 0\n", me)},
		{"zero start", 0o644, runsHeader + "a.service " + idA + fmt.Sprintf(" %d 0 0\n", me)},
		{"no final newline", 0o644, runsHeader + "a.service " + idA + fmt.Sprintf(" %d 1 0", me)},
	} {
		rc := write(bad.mode, bad.body)
		if got := rc.lookup(units, ids, true); got[0].id != "" {
			t.Errorf("%s: the file was read", bad.name)
		}
	}
	// note keeps what the manager said of running units and drops the rest
	rc = write(0o644, good)
	sts := []unitState{
		{Load: "loaded", Active: "active", Sub: "running", MainPID: uint32(me), Start: 1700000000000000},
		{Load: "loaded", Active: "active", Sub: "running", MainPID: 42, Start: 1800000000000000},
		{Load: "loaded", Active: "active", Sub: "running", Job: "stop", MainPID: uint32(me), Start: 1700000000000002},
		{Load: "loaded", Active: "inactive", Sub: "dead"},
		{Load: "loaded", Active: "active", Sub: "running", MainPID: uint32(me), Start: 5},
	}
	rc.note(units, ids, sts, make([]run, len(units)))
	rc.save()
	data, err := os.ReadFile(rc.file)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%sa.service %s %d 1700000000000000 0\nb.service %s 42 1800000000000000 0\nw@x\\x2dy.service %s %d 5 0\n", runsHeader, idA, me, idB, idA, me)
	if string(data) != want {
		t.Errorf("the file after note:\n%s\nwant:\n%s", data, want)
	}
	// links in a directory others may write are not read
	if err := os.Chmod(links, 0o777); err != nil {
		t.Fatal(err)
	}
	if ids := rc.invocations(units); ids[0] != "" {
		t.Errorf("a symlink in a world-writable directory was read")
	}
}

// hits is which units lookup gave a run.
func hits(taken []run) []bool {
	hit := make([]bool, len(taken))
	for i, r := range taken {
		hit[i] = r.id != ""
	}
	return hit
}

// On a real manager, a status that takes runs from the cache says what
// the manager says: the cache is read (a start changed in the file
// shows), a restarted unit or one that stopped is asked again, and a
// file others could have written is ignored and written anew.
func TestRunCache(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	n := 4
	// p0003 ignores SIGTERM: a stop leaves it deactivating, still in
	// its run, for stopwaitsecs
	conf := programs(n-1, "") + "[program:p0003]\ncommand=/bin/sh -c \"trap '' TERM; exec /bin/sleep 100000\"\nstartsecs=0\nstopwaitsecs=60\n"
	sm, m, path := setup(t, conf)
	sm.Systemctl("start", "supersede.target")
	waitAll(t, m, status.Running, n)
	env := map[string]string{}
	for _, kv := range sm.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	file := runsFile(runtimeDir(User, getenv), "supersede.target")
	// fresh is a status as a new ctl command reads it
	fresh := func() []status.Process {
		t.Helper()
		lopts := translate.Options{Dir: filepath.Dir(path)}
		cfg, err := translate.Load(path, lopts)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := New(ctx, cfg, Options{Scope: User, ConfigPath: path, Load: lopts, Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		defer fm.Close()
		ps, err := fm.Processes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	truth := func(name string) (pid int, start time.Time) {
		t.Helper()
		sts, err := m.read(ctx, []string{name + ".service"}) // no cache
		if err != nil {
			t.Fatal(err)
		}
		return int(sts[0].MainPID), micro(sts[0].Start)
	}
	check := func(what string, ps []status.Process) {
		t.Helper()
		for _, p := range ps {
			pid, start := truth(p.Name)
			if p.PID != pid || !p.Start.Equal(start) {
				t.Errorf("%s: %s pid %d start %v, the manager says pid %d start %v", what, p.Name, p.PID, p.Start, pid, start)
			}
		}
	}
	check("first status", fresh())
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no cache of runs after a status: %v", err)
	}
	if got := strings.Count(string(data), "\n"); got != n+1 {
		t.Fatalf("cache of %d lines, want %d:\n%s", got, n+1, data)
	}
	check("status from the cache", fresh())

	// the cache is what a status reads: move p0000's start an hour back
	shifted := func(units ...string) {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		known, err := parseRuns(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			r, ok := known[u]
			if !ok {
				t.Fatalf("%s is not in the cache:\n%s", u, data)
			}
			r.start -= uint64(time.Hour / time.Microsecond)
			known[u] = r
		}
		rc := &runCache{file: file, known: known, dirty: true}
		rc.save()
	}
	shifted("p0000.service")
	_, start := truth("p0000")
	if got := fresh()[0].Start; !got.Equal(start.Add(-time.Hour)) {
		t.Fatalf("p0000 started %v after the cache said %v: the cache was not read", got, start.Add(-time.Hour))
	}
	// a file others may write is not read, and is replaced
	if err := os.Chmod(file, 0o666); err != nil {
		t.Fatal(err)
	}
	check("status with a world-writable cache", fresh())
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the cache was not written anew: %v %v", fi.Mode(), err)
	}
	// a restart is a new invocation: asked again
	shifted("p0000.service")
	sm.Systemctl("restart", "p0000.service")
	check("status after a restart", fresh())
	// a unit being stopped still runs its invocation, but is not
	// active: asked again, and STOPPING at its real start
	shifted("p0003.service")
	sm.Systemctl("stop", "--no-block", "p0003.service")
	sm.WaitFor("p0003.service", "ActiveState", "deactivating", 30*time.Second)
	ps := fresh()
	if ps[3].State != status.Stopping {
		t.Errorf("p0003 while stopping: %v", ps[3].State)
	}
	check("status of a unit being stopped", ps[3:])
	// not left to the manager's teardown, which would wait stopwaitsecs
	sm.Systemctl("kill", "--signal=KILL", "p0003.service")
	sm.WaitUntil("p0003.service", 30*time.Second, func(p map[string]string) bool {
		return p["ActiveState"] == "inactive" || p["ActiveState"] == "failed"
	}, "ActiveState")
	// a stopped unit is asked, and leaves the cache
	sm.Systemctl("stop", "p0001.service")
	ps = fresh()
	if ps[1].State != status.Stopped {
		t.Errorf("p0001 after stop: %v", ps[1].State)
	}
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "p0001.service") {
		t.Errorf("a stopped unit stays in the cache:\n%s", data)
	}
	// a read of one unit (as start and restart make) records its new
	// run, written when the Manager closes
	sm.Systemctl("restart", "p0002.service")
	lopts := translate.Options{Dir: filepath.Dir(path)}
	cfg, err := translate.Load(path, lopts)
	if err != nil {
		t.Fatal(err)
	}
	one, err := New(ctx, cfg, Options{Scope: User, ConfigPath: path, Load: lopts, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.read(ctx, []string{"p0002.service"}); err != nil {
		t.Fatal(err)
	}
	one.Close()
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	known, err := parseRuns(data)
	if err != nil {
		t.Fatal(err)
	}
	if pid, _ := truth("p0002"); known["p0002.service"].pid != uint32(pid) {
		t.Errorf("after a read of p0002 (pid %d), the cache has %+v", pid, known["p0002.service"])
	}
}
