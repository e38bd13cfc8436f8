package sysd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// A record gives a unit's run only when it names the run the unit's
// symlink names, its pid is alive, and it is a symlink in a directory no
// one else could have written; anything else (another run's record, a
// dead pid, a malformed record, a regular file in its place even with a
// record's text, a symlink to such a file, a directory others may write)
// falls back to the cache's entry from a Get, else to a Get. A valid
// record wins over such an entry, and a run learnt from a record is
// taken from the cache without reading the record again. A record's run
// whose symlink names another run, or none, once the manager has
// answered (the run ended: its pid may be another process's by now) is
// asked for (confirm).
func TestRecordChecks(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "supersede") // %t/supersede
	links := filepath.Join(base, "units")
	for _, d := range []string{dir, links} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	ticks, ok := shim.StartTicks(self)
	if !ok {
		t.Fatalf("no start time in /proc/self/stat: %q", self)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me := uint32(os.Getpid())
	start := uint64(time.Now().UnixMicro()) // a young run: its record is looked for (recordWindow)
	good := shim.Run{ID: idA, PID: me, Ticks: ticks, Start: start}
	path := func(unit string) string {
		return shim.RunPath(filepath.Join(dir, strings.TrimSuffix(unit, ".service")))
	}
	// record writes unit's record as the exec step does, and its symlink
	record := func(unit string, body []byte) {
		t.Helper()
		if body != nil {
			if err := os.Symlink(string(body), path(unit)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(idA, filepath.Join(links, "invocation:"+unit)); err != nil {
			t.Fatal(err)
		}
	}
	with := func(f func(*shim.Run)) []byte {
		r := good
		f(&r)
		return r.Append(nil)
	}
	cases := []struct {
		unit  string
		body  []byte
		after func(p string) // spoils what record wrote at p
	}{
		{"ok.service", good.Append(nil), nil},
		{"other-id.service", with(func(r *shim.Run) { r.ID = idB }), nil},
		{"dead.service", with(func(r *shim.Run) { r.PID = uint32(dead.Process.Pid) }), nil},
		{"malformed.service", []byte("supersede exec 1 " + idA + " 1 2"), nil},
		{"no-record.service", nil, nil},
		{"a-file.service", nil, func(p string) {
			if err := os.WriteFile(p, good.Append(nil), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"to-a-file.service", nil, func(p string) {
			if err := os.WriteFile(filepath.Join(base, "elsewhere"), good.Append(nil), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(base, "elsewhere"), p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	var units []string
	for _, c := range cases {
		record(c.unit, c.body)
		if c.after != nil {
			c.after(path(c.unit))
		}
		units = append(units, c.unit)
	}
	rc := &runCache{file: filepath.Join(dir, ".runs.x.target"), dir: dir, links: links}
	ids := rc.invocations(units)
	for i, u := range units {
		if ids[i] != idA {
			t.Fatalf("%s: symlink read %q", u, ids[i])
		}
	}
	want := run{id: idA, pid: me, start: start, ticks: ticks, fresh: true}
	check := func(what string, got []run, others run) {
		t.Helper()
		for i, u := range units {
			w := others
			if u == "ok.service" {
				w = want
			}
			if got[i] != w {
				t.Errorf("%s: %s: %+v, want %+v", what, u, got[i], w)
			}
		}
	}
	// no cache: only the good record gives a run
	rc.known = map[string]run{}
	check("no cache", rc.lookup(units, ids, true), run{})
	// a cache with each unit's run from a Get: the good record wins, the
	// others fall back to the cache (with use), or to a Get (without)
	fromGet := run{id: idA, pid: me, start: start - 5000}
	for _, u := range units {
		rc.known[u] = fromGet
	}
	check("a cache from Gets", rc.lookup(units, ids, true), fromGet)
	check("a cache from Gets, not used", rc.lookup(units, ids, false), run{})
	// a run a Get told of over a minute after it began: its record is
	// not looked for (none comes after the exec)
	old := run{id: idA, pid: me, start: start - uint64(2*time.Minute/time.Microsecond)}
	for _, u := range units {
		rc.known[u] = old
	}
	if got := rc.lookup(units, ids, true); got[0] != old {
		t.Errorf("a settled run from a Get: %+v, want the cache's %+v", got[0], old)
	}
	if got := rc.lookup(units, ids, false); got[0].id != "" {
		t.Errorf("a settled run from a Get, cache not used: %+v, want none (asked)", got[0])
	}
	for _, u := range units {
		rc.known[u] = fromGet
	}
	// what a read learnt: the record's run with its tick, the Get's
	// without
	sts := make([]unitState, len(units))
	taken := rc.lookup(units, ids, true)
	for i := range sts {
		sts[i] = unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: taken[i].pid, Start: taken[i].start}
	}
	rc.note(units, ids, sts, taken)
	rc.save()
	b, err := os.ReadFile(rc.file)
	if err != nil {
		t.Fatal(err)
	}
	if line := fmt.Sprintf("\nok.service %s %d %d %d\n", idA, me, start, ticks); !strings.Contains(string(b), line) {
		t.Errorf("the cache after note has no %q:\n%s", line, b)
	}
	if line := fmt.Sprintf("\ndead.service %s %d %d 0\n", idA, me, start-5000); !strings.Contains(string(b), line) {
		t.Errorf("the cache after note has no %q:\n%s", line, b)
	}
	// a run learnt from a record is the record's: not read again
	if err := os.Remove(path("ok.service")); err != nil {
		t.Fatal(err)
	}
	fresh := &runCache{file: rc.file, dir: dir, links: links}
	cached := want
	cached.fresh = false
	if got := fresh.lookup(units, ids, false); got[0] != cached {
		t.Errorf("a run learnt from a record, record gone: %+v, want the cache's %+v", got[0], want)
	}
	// ... but only while its pid is alive
	fresh.known["ok.service"] = run{id: idA, pid: uint32(dead.Process.Pid), start: start, ticks: ticks}
	if got := fresh.lookup(units, ids, true); got[0].id != "" {
		t.Errorf("a cached record's run of a dead pid: %+v", got[0])
	}
	// %t/supersede writable by others: no record is read
	if err := os.Symlink(string(good.Append(nil)), path("ok.service")); err != nil {
		t.Fatal(err)
	}
	fresh.known = map[string]run{}
	if got := fresh.lookup(units, ids, true); got[0] != want {
		t.Fatalf("the good record again: %+v", got[0])
	}
	for _, mode := range []os.FileMode{0o777, 0o775} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		if got := fresh.lookup(units, ids, true); got[0].id != "" {
			t.Errorf("a record in a directory of mode %v: %+v", mode, got[0])
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// another user's directory (a system unit's User= would own its
		// state directory, not %t/supersede; as root, any other owner)
		if err := os.Lchown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if got := fresh.lookup(units, ids, true); got[0].id != "" {
			t.Errorf("a record in another user's directory: %+v", got[0])
		}
		if err := os.Lchown(dir, 0, 0); err != nil {
			t.Fatal(err)
		}
	}

	// confirm, after the manager's answer: a record's run whose symlink
	// still names it stays; one whose unit runs another run by then (its
	// pid, alive, may be another process's: a run ends with its main
	// process), or none, is asked; the cache's runs are not read again
	other := shim.Run{ID: idA, PID: me, Ticks: ticks + 1, Start: start} // a reused pid's record
	for _, u := range []string{"again.service", "restarted.service", "stopped.service"} {
		record(u, other.Append(nil))
	}
	confirmUnits := []string{"again.service", "restarted.service", "stopped.service", "ok.service"}
	fresh.known = map[string]run{"ok.service": cached}
	taken = fresh.lookup(confirmUnits, fresh.invocations(confirmUnits), true)
	for i, r := range taken {
		if r.id != idA || r.fresh != (i < 3) {
			t.Fatalf("lookup %s: %+v", confirmUnits[i], r)
		}
	}
	for u, to := range map[string]string{"restarted.service": idB, "stopped.service": "", "ok.service": idB} {
		os.Remove(filepath.Join(links, "invocation:"+u))
		if to != "" {
			if err := os.Symlink(to, filepath.Join(links, "invocation:"+u)); err != nil {
				t.Fatal(err)
			}
		}
	}
	fresh.confirm(confirmUnits, taken)
	if got, want := fmt.Sprint(staleOf(taken)), "[false true true false]"; got != want {
		t.Errorf("stale after confirm: %s, want %s", got, want)
	}
	if !taken[0].fresh || taken[1].fresh || taken[2].fresh {
		t.Errorf("fresh after confirm: %+v", taken)
	}
}

func staleOf(taken []run) []bool {
	out := make([]bool, len(taken))
	for i, r := range taken {
		out[i] = r.stale
	}
	return out
}

// On a real manager, units that systemd started (systemctl, then
// Restart= after a SIGKILL; not ctl) have their runs recorded by their
// exec steps, and the first status, with no cache of runs, sends no Get
// of ExecStart for them: it shows the records' pids and uptimes, as does
// the read of one group (which still asks), so one process shows one
// start time. The manager's own start time is a little earlier than the
// exec step's (it is taken after fork), never later. A program with
// umask=000 has its record trusted all the same.
func TestRunRecord(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	conf := "[supervisord]\n[program:p0000]\ncommand=/bin/sleep 100000\nstartsecs=0\n" +
		"[program:p0001]\ncommand=/bin/sleep 100000\nstartsecs=1\n" +
		"[program:p0002]\ncommand=/bin/sleep 100000\nstartsecs=0\numask=000\n"
	sm, m := setupShim(t, conf)
	units := []string{"p0000.service", "p0001.service", "p0002.service"}
	sm.Systemctl("start", "supersede.target")
	for _, u := range units {
		sm.WaitFor(u, "ActiveState", "active", 60*time.Second)
	}
	ctx := context.Background()
	rt := runtimeDir(User, m.getenv)
	cache := runsFile(rt, "supersede.target")
	// manager is what the manager says of the units, with no cache and
	// no record
	manager := func() []unitState {
		t.Helper()
		w, err := m.wire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m.wmu.Lock()
		defer m.wmu.Unlock()
		sts, _, err := readStates(w, units, "", nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return sts
	}
	records := func() []shim.Run {
		t.Helper()
		sts := manager()
		out := make([]shim.Run, len(units))
		for i, u := range units {
			p := shim.RunPath(filepath.Join(rt, strings.TrimSuffix(u, ".service")))
			b, err := os.Readlink(p)
			if err != nil {
				t.Fatalf("%s: no record of its run after systemctl start: %v", u, err)
			}
			r, ok := shim.ParseRun([]byte(b))
			id, _ := os.Readlink(filepath.Join(m.getenv("XDG_RUNTIME_DIR"), "systemd", "units", "invocation:"+u))
			if !ok || r.ID != id || r.PID != sts[i].MainPID {
				t.Fatalf("%s: record %q; the manager says pid %d, invocation %s", u, b, sts[i].MainPID, id)
			}
			// the exec step's clock, read before it execs; the manager
			// takes its ExecMainStartTimestamp in the parent after the
			// fork, which a loaded machine can run after the child has
			// got that far (4 ms seen at load 13): near, on either side
			const us = uint64(time.Microsecond)
			if r.Start+uint64(time.Second)/us < sts[i].Start || r.Start > sts[i].Start+uint64(10*time.Second)/us {
				t.Errorf("%s: the record's start %d is not near the manager's %d", u, r.Start, sts[i].Start)
			}
			out[i] = r
		}
		return out
	}
	// cold is the first status of a new ctl command with no cache of
	// runs: the processes, and the Gets of ExecStart it sent
	cold := func() ([]status.Process, int) {
		t.Helper()
		os.Remove(cache)
		cfg, err := translate.Load(m.opts.ConfigPath, m.opts.Load)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := New(ctx, cfg, m.opts)
		if err != nil {
			t.Fatal(err)
		}
		defer fm.Close()
		ps, err := fm.Processes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ps, fm.w.execStarts
	}
	check := func(what string, ps []status.Process, recs []shim.Run) {
		t.Helper()
		now := time.Now()
		for i, r := range recs {
			p := ps[i]
			start := time.UnixMicro(int64(r.Start))
			want := "pid " + strconv.Itoa(int(r.PID)) + ", uptime " + status.Uptime(now.Sub(start))
			if p.State != status.Running || p.PID != int(r.PID) || !p.Start.Equal(start) || status.Description(p, now, time.UTC) != want {
				t.Errorf("%s: %s %v pid %d start %v %q; the record says pid %d start %v (%q)", what, p.Name, p.State, p.PID, p.Start, status.Description(p, now, time.UTC), r.PID, start, want)
			}
		}
	}
	recs := records()
	ps, gets := cold()
	if gets != 0 {
		t.Errorf("the first status after systemctl start asked for ExecStart %d times, want none", gets)
	}
	check("the first status", ps, recs)
	// the read of a group asks the manager, and shows the record's start
	for i, u := range units {
		one, err := m.GroupProcesses(ctx, strings.TrimSuffix(u, ".service"))
		if err != nil || len(one) != 1 {
			t.Fatalf("GroupProcesses %s: %v %v", u, one, err)
		}
		check("a group's read", one, recs[i:i+1])
	}
	// a restart by the manager itself (Restart=, after a SIGKILL): a new
	// run, recorded; again no Get
	old := recs[0]
	if err := syscall.Kill(int(old.PID), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sm.WaitUntil("p0000.service", 60*time.Second, func(p map[string]string) bool {
		return p["ActiveState"] == "active" && p["MainPID"] != "0" && p["MainPID"] != strconv.Itoa(int(old.PID))
	}, "ActiveState", "MainPID")
	recs = records()
	if recs[0].ID == old.ID || recs[0].PID == old.PID {
		t.Fatalf("after Restart=, the record %+v is the old run's %+v", recs[0], old)
	}
	ps, gets = cold()
	if gets != 0 {
		t.Errorf("the first status after Restart= asked for ExecStart %d times, want none", gets)
	}
	check("the status after Restart=", ps, recs)
}

// BenchmarkRunLookup is what a status of 1000 running units spends on
// their runs before the manager's answer, per status, in process (the
// records and the cache file in a temporary directory; SYSD_BENCH_DIR
// puts it on a tmpfs such as /dev/shm, as %t is), each the process
// /bin/sleep: records, every record read and checked (the first status
// after the units started, and what reading the records every time
// would cost); cache, the cache file read and each pid checked alive
// (a status after another one: the records were read once, by the
// first); no-records, units whose steps wrote none (another build's, no
// step), from a cache of Gets of runs over a minute old (taken as the
// cache's, the records not looked for); no-records-young, the same in
// the first minute of the runs (each record looked for, in vain).
func BenchmarkRunLookup(b *testing.B) {
	const n = 1000
	base, err := os.MkdirTemp(os.Getenv("SYSD_BENCH_DIR"), "runlookup")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "supersede")
	links := filepath.Join(base, "units")
	for _, d := range []string{dir, links} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	sleeper := exec.Command("sleep", "1000")
	if err := sleeper.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sleeper.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	ticks, _ := shim.StartTicks(stat)
	units := make([]string, n)
	for i := range units {
		units[i] = fmt.Sprintf("prog_%04d.service", i)
		d := filepath.Join(dir, strings.TrimSuffix(units[i], ".service"))
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
		r := shim.Run{ID: idA, PID: uint32(sleeper.Process.Pid), Ticks: ticks, Start: 1700000000000000 + uint64(i)}
		if err := os.Symlink(string(r.Append(nil)), shim.RunPath(d)); err != nil {
			b.Fatal(err)
		}
		if err := os.Symlink(idA, filepath.Join(links, "invocation:"+units[i])); err != nil {
			b.Fatal(err)
		}
	}
	file := filepath.Join(dir, ".runs.x.target")
	rc := &runCache{file: file, dir: dir, links: links}
	ids := rc.invocations(units)
	// the cache as a status leaves it: every run from its record
	taken := rc.lookup(units, ids, true)
	sts := make([]unitState, n)
	for i, r := range taken {
		if r.id == "" {
			b.Fatalf("%s: no run from its record", units[i])
		}
		sts[i] = unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: r.pid, Start: r.start}
	}
	rc.note(units, ids, sts, taken)
	rc.save()
	fromRecords, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	fromGets := strings.ReplaceAll(string(fromRecords), fmt.Sprintf(" %d\n", ticks), " 0\n")
	lookup := func(b *testing.B, want bool) {
		for b.Loop() {
			rc := &runCache{file: file, dir: dir, links: links}
			got := rc.lookup(units, ids, true)
			if (got[n-1].id != "") != want {
				b.Fatalf("lookup: %+v", got[n-1])
			}
		}
	}
	b.Run("records", func(b *testing.B) {
		os.Remove(file)
		lookup(b, true)
	})
	b.Run("cache", func(b *testing.B) {
		if err := os.WriteFile(file, fromRecords, 0o644); err != nil {
			b.Fatal(err)
		}
		lookup(b, true)
	})
	for _, u := range units {
		os.Remove(shim.RunPath(filepath.Join(dir, strings.TrimSuffix(u, ".service"))))
	}
	b.Run("no-records", func(b *testing.B) {
		if err := os.WriteFile(file, []byte(fromGets), 0o644); err != nil {
			b.Fatal(err)
		}
		lookup(b, true)
	})
	b.Run("no-records-young", func(b *testing.B) {
		young := strings.ReplaceAll(fromGets, " 17000000000", " "+strconv.FormatInt(time.Now().UnixMicro()/1e5, 10))
		if err := os.WriteFile(file, []byte(young), 0o644); err != nil {
			b.Fatal(err)
		}
		lookup(b, true)
	})
}
