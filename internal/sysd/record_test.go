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
// symlink names, its pid is alive with the recorded start tick, and no
// one else could have written the file or its directories; anything
// else falls back to the cache's entry from a Get, else to a Get. A
// valid record wins over such an entry, and a run learnt from a record
// is taken from the cache without reading the record again.
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
	const start = 1700000000000000
	good := shim.Run{ID: idA, PID: me, Ticks: ticks, Start: start}
	record := func(unit string, body []byte) string {
		t.Helper()
		d := filepath.Join(dir, strings.TrimSuffix(unit, ".service"))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, shim.RunFile), body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(idA, filepath.Join(links, "invocation:"+unit)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	chmod := func(p string, mode os.FileMode) {
		t.Helper()
		if err := os.Chmod(p, mode); err != nil {
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
		after func(d string) // spoils what record wrote
	}{
		{"ok.service", good.Append(nil), nil},
		{"other-id.service", with(func(r *shim.Run) { r.ID = idB }), nil},
		{"dead.service", with(func(r *shim.Run) { r.PID = uint32(dead.Process.Pid) }), nil},
		{"reused.service", with(func(r *shim.Run) { r.Ticks++ }), nil},
		{"file-others.service", good.Append(nil), func(d string) { chmod(filepath.Join(d, shim.RunFile), 0o666) }},
		{"file-group.service", good.Append(nil), func(d string) { chmod(filepath.Join(d, shim.RunFile), 0o664) }},
		{"dir-others.service", good.Append(nil), func(d string) { chmod(d, 0o777) }},
		{"symlinked-file.service", good.Append(nil), func(d string) {
			p := filepath.Join(d, shim.RunFile)
			if err := os.Rename(p, filepath.Join(base, "elsewhere")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(base, "elsewhere"), p); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlinked-dir.service", good.Append(nil), func(d string) {
			if err := os.Rename(d, filepath.Join(base, "realdir")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(base, "realdir"), d); err != nil {
				t.Fatal(err)
			}
		}},
		{"malformed.service", []byte("supersede exec 1\n" + idA + " 1 2\n"), nil},
		{"empty.service", nil, nil},
		{"no-record.service", nil, func(d string) { os.Remove(filepath.Join(d, shim.RunFile)) }},
	}
	if os.Geteuid() == 0 {
		// another user's record (a system unit's User=): not read by root
		cases = append(cases, struct {
			unit  string
			body  []byte
			after func(d string)
		}{"foreign.service", good.Append(nil), func(d string) {
			if err := os.Lchown(filepath.Join(d, shim.RunFile), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}})
	}
	var units []string
	for _, c := range cases {
		d := record(c.unit, c.body)
		if c.after != nil {
			c.after(d)
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
	want := run{id: idA, pid: me, start: start, ticks: ticks}
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
	if err := os.Remove(filepath.Join(dir, "ok", shim.RunFile)); err != nil {
		t.Fatal(err)
	}
	fresh := &runCache{file: rc.file, dir: dir, links: links}
	if got := fresh.lookup(units, ids, false); got[0] != want {
		t.Errorf("a run learnt from a record, record gone: %+v, want the cache's %+v", got[0], want)
	}
	// ... but only while its pid is alive
	fresh.known["ok.service"] = run{id: idA, pid: uint32(dead.Process.Pid), start: start, ticks: ticks}
	if got := fresh.lookup(units, ids, true); got[0].id != "" {
		t.Errorf("a cached record's run of a dead pid: %+v", got[0])
	}
	// %t/supersede writable by others: no record is read
	if err := os.WriteFile(filepath.Join(dir, "ok", shim.RunFile), good.Append(nil), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh.known = map[string]run{}
	if got := fresh.lookup(units, ids, true); got[0] != want {
		t.Fatalf("the good record again: %+v", got[0])
	}
	chmod(dir, 0o777)
	if got := fresh.lookup(units, ids, true); got[0].id != "" {
		t.Errorf("a record beneath a directory others may write: %+v", got[0])
	}
	chmod(dir, 0o755)
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
			p := filepath.Join(rt, strings.TrimSuffix(u, ".service"), shim.RunFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%s: no record of its run after systemctl start: %v", u, err)
			}
			r, ok := shim.ParseRun(b)
			id, _ := os.Readlink(filepath.Join(m.getenv("XDG_RUNTIME_DIR"), "systemd", "units", "invocation:"+u))
			if !ok || r.ID != id || r.PID != sts[i].MainPID {
				t.Fatalf("%s: record %q; the manager says pid %d, invocation %s", u, b, sts[i].MainPID, id)
			}
			if r.Start < sts[i].Start || r.Start-sts[i].Start > uint64(10*time.Second/time.Microsecond) {
				t.Errorf("%s: the record's start %d is not just after the manager's %d", u, r.Start, sts[i].Start)
			}
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s: record's mode %v (%v)", u, fi.Mode(), err)
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
