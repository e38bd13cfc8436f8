package unitgen_test

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/unitgen"
)

// TestMain lets the test binary stand for supersede as the units'
// compatibility step (Options.Shim): run as "BINARY shim STEP ARGS", it
// is `supersede shim STEP ARGS`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		signal.Reset(syscall.SIGTERM, syscall.SIGINT)
		os.Exit(shim.Main(os.Args[2:], os.Environ(), os.Stderr))
	}
	os.Exit(m.Run())
}

// starts reads a file the program appends one line to at each start, and
// returns when each line was written (the file's lines are Unix times).
func startTimes(t *testing.T, path string) []time.Time {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []time.Time
	for _, f := range strings.Fields(string(data)) {
		ts, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ts)
	}
	return out
}

// stamp is a shell line appending the time to FILE ({DIR} expanded).
const stamp = `date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%NZ >> `

// Supervisor's backoff, under the units: a program that fails until a
// file it needs appears 2.5 s after its first start waits 1 s, then 2 s,
// and is RUNNING at its third start; a crash loop runs startretries+1
// times with waits of 1 s, 2 s, ... and ends failed (FATAL); a program
// that exits 0 within startsecs is retried as a failed start (startsecs=5:
// under a load of 25 on two cores, a program starved for over a second
// before its exit is RUNNING by Supervisor's rule, under supervisord as
// here; it costs nothing, as the program dies at once); a missing
// directory= says what Supervisor's child says, in the unit's journal.
func TestSystemdSupervisorBackoff(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	d := deploy(t, m, `[program:waiter]
command=/bin/sh -c '`+stamp+`{DIR}/waiter.starts; test -e {DIR}/dep || exit 1; exec sleep 3600'
startsecs=1
startretries=3
autostart=false

[program:quitter]
command=/bin/sh -c '`+stamp+`{DIR}/quitter.starts; exit 0'
startsecs=5
startretries=2
autostart=false

[program:nodir]
command=/bin/sh -c '`+stamp+`{DIR}/nodir.starts; exec sleep 3600'
directory={DIR}/missing
startretries=1
autostart=false

[program:flaky]
command=/bin/sh -c '`+stamp+`{DIR}/flaky.starts; sleep 1.3; exit 1'
startsecs=1
startretries=1
autostart=false
`, nil)
	unit := func(name string) string { return unitName(t, name, unitgen.Service) }

	t.Run("dependency after 2.5 s", func(t *testing.T) {
		t.Parallel()
		m := m.For(t)
		m.TrySystemctl("start", "--no-block", unit("waiter"))
		// the dependency appears 2.5 s after the first start
		starts := filepath.Join(d.dir, "waiter.starts")
		deadline := time.Now().Add(settle)
		for len(startTimes(t, starts)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no first start")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.AfterFunc(time.Until(startTimes(t, starts)[0].Add(2500*time.Millisecond)), func() {
			os.WriteFile(filepath.Join(d.dir, "dep"), nil, 0o644)
		})
		props := m.WaitUntil(unit("waiter"), settle, func(p map[string]string) bool {
			return p["ActiveState"] == "active" || p["ActiveState"] == "failed"
		}, "ActiveState", "SubState", "Result")
		if props["ActiveState"] != "active" {
			t.Fatalf("the unit gave up before its dependency came: %v", props)
		}
		// Supervisor: fail, wait 1 s, fail, wait 2 s, run (three starts;
		// two if the machine is so slow that the second start comes
		// after the dependency). Each wait is at least Supervisor's; the
		// upper bound only catches a hang.
		ts := startTimes(t, starts)
		if len(ts) < 2 || len(ts) > 3 {
			t.Fatalf("%d starts, want 3 (fail, wait 1 s, fail, wait 2 s, run): %v", len(ts), ts)
		}
		for i := 1; i < len(ts); i++ {
			want := time.Duration(i) * time.Second
			if gap := ts[i].Sub(ts[i-1]); gap < want || gap > want+10*time.Second {
				t.Errorf("wait before start %d: %v, Supervisor waits %v", i+1, gap, want)
			}
		}
	})

	t.Run("exit 0 within startsecs is a failed start", func(t *testing.T) {
		t.Parallel()
		m := m.For(t)
		m.TrySystemctl("start", "--no-block", unit("quitter"))
		props := m.WaitUntil(unit("quitter"), settle, func(p map[string]string) bool {
			return p["ActiveState"] == "failed"
		}, "ActiveState", "Result", "NRestarts")
		if n := len(startTimes(t, filepath.Join(d.dir, "quitter.starts"))); n != 3 {
			t.Errorf("%d starts, Supervisor makes startretries+1 = 3 before FATAL (%v)", n, props)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		m := m.For(t)
		m.TrySystemctl("start", "--no-block", unit("nodir"))
		m.WaitFor(unit("nodir"), "ActiveState", "failed", settle)
		if _, err := os.Stat(filepath.Join(d.dir, "nodir.starts")); err == nil {
			t.Errorf("the program ran without its directory")
		}
		// by the program's identifier alone: journald attributes a line to
		// its unit from the writer's cgroup, and a step that wrote and died
		// at once on a loaded machine can leave a line without the unit
		// (seen once at load 15); "nodir" is this manager's only writer
		// of that name
		out := m.Journal("-o", "cat", "-t", "nodir")
		want := "supervisor: couldn't chdir to " + filepath.Join(d.dir, "missing") + ": ENOENT\nsupervisor: child process was not spawned\n"
		if strings.Count(out, want) != 2 {
			t.Errorf("journal of the unit:\n%s\nwant twice (startretries=1):\n%s", out, want)
		}
	})

	t.Run("death after startsecs restarts at once", func(t *testing.T) {
		t.Parallel()
		m := m.For(t)
		m.TrySystemctl("start", "--no-block", unit("flaky"))
		// Each run reaches RUNNING (1.3 s > startsecs), so Supervisor
		// restarts it at once every time, and never gives up: with
		// startretries=1, a third start proves the count of failed
		// starts (and with it the backoff wait) was cleared each time.
		deadline := time.Now().Add(settle)
		for len(startTimes(t, filepath.Join(d.dir, "flaky.starts"))) < 4 {
			if time.Now().After(deadline) {
				t.Fatalf("no 4th start: %v", m.Show(unit("flaky"), "ActiveState", "Result"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		m.Systemctl("stop", unit("flaky"))
	})
}

// stopper records when it is asked to stop and when it has stopped,
// taking 0.3 s in between.
const stopper = `#!/bin/sh
log=$1 name=$2
trap 'echo "stop $name" >> "$log"; sleep 0.3; echo "end $name" >> "$log"; exit 0' TERM
while :; do sleep 0.05; done
`

// Stopping supersede.target is supervisord's shutdown: the programs stop
// the highest priority first, each only after the ones before it ended.
func TestSystemdShutdownOrder(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	d := deploy(t, m, `[program:first]
command=/bin/sh {DIR}/stopper.sh {DIR}/order first
priority=1
startsecs=0

[program:second]
command=/bin/sh {DIR}/stopper.sh {DIR}/order second
priority=2
startsecs=0

[program:third]
command=/bin/sh {DIR}/stopper.sh {DIR}/order third
priority=3
startsecs=0
`, map[string]string{"stopper.sh": stopper})
	m.Systemctl("start", unitgen.AnchorTarget(""))
	for _, n := range []string{"first", "second", "third"} {
		mainPID(t, m, unitName(t, n, unitgen.Service))
	}
	m.Systemctl("stop", unitgen.AnchorTarget(""))
	got, _ := os.ReadFile(filepath.Join(d.dir, "order"))
	want := "stop third\nend third\nstop second\nend second\nstop first\nend first\n"
	if string(got) != want {
		t.Errorf("stop order:\n%s\nwant, as supervisord stops them:\n%s", got, want)
	}
	for _, n := range []string{"first", "second", "third"} {
		if st := m.Show(unitName(t, n, unitgen.Service), "ActiveState")["ActiveState"]; st != "inactive" {
			t.Errorf("%s is %s after the shutdown", n, st)
		}
	}
}

// An event listener reads its standard input, which systemd cannot feed
// Supervisor's events: held open by the step, it waits instead of reading
// end-of-file and crashing into FATAL.
func TestSystemdEventListenerWaits(t *testing.T) {
	t.Parallel()
	m := sdtest.Start(t, sdtest.Options{})
	deploy(t, m, `[eventlistener:listener]
command=/bin/sh -c 'echo READY; read line; echo "got $line"; exit 1'
events=PROCESS_STATE
startsecs=1
`, nil)
	unit := unitName(t, "listener", unitgen.Service)
	// The start job ends once the program has lived startsecs (the
	// step): a listener on /dev/null would have crashed long before.
	m.Systemctl("start", unit)
	pid := mainPID(t, m, unit)
	props := m.Show(unit, "ActiveState", "MainPID", "NRestarts")
	if props["ActiveState"] != "active" || props["MainPID"] != strconv.Itoa(pid) || props["NRestarts"] != "0" {
		t.Errorf("the listener did not keep waiting: %v (first pid %d)", props, pid)
	}
	if out := m.Journal("--user-unit", unit, "-o", "cat", "-t", "listener"); strings.Contains(out, "got") {
		t.Errorf("it read something: %q", out)
	}
}
