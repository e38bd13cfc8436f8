package fallbacktest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestParseStat(t *testing.T) {
	line := "4242 (a) b) (c) S 17 4242 4000 0 -1 4194560 93 0 0 0 0 0 0 0 20 0 1 0 123456 2560000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	p, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Proc{PID: 4242, PPID: 17, PGID: 4242, SID: 4000, State: 'S', StartTime: 123456, Comm: "a) b) (c"}
	if p != want {
		t.Errorf("parseStat = %+v, want %+v", p, want)
	}
	for _, bad := range []string{"", "12 sleep S 1", "x (a) S 1 2 3", "1 (a) S 1 2 3"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestProcsSeesItself(t *testing.T) {
	procs, err := Procs()
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	tree := Tree(procs, os.Getppid())
	found := false
	for _, p := range tree {
		found = found || p.PID == self
	}
	if !found {
		t.Errorf("Tree(parent) does not hold this process %d: %v", self, tree)
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a                                RUNNING   pid 16248, uptime 0:00:10\n",
			"a                                RUNNING   pid N, uptime H:MM:SS\n"},
		{"b   RUNNING   pid 7, uptime 3 days, 0:00:01\n", "b   RUNNING   pid N, uptime H:MM:SS\n"},
		{"exits    EXITED    Nov 27 10:44 AM\n", "exits    EXITED    Mon DD HH:MM AM\n"},
		{"2026-11-27 12:51:33,268 INFO spawned: 'a' with pid 5633\n", "YYYY-MM-DD HH:MM:SS,mmm INFO spawned: 'a' with pid N\n"},
		{"2026-11-27 12:51:33,268 INFO killing 'a' (5633) with SIGKILL\n", "YYYY-MM-DD HH:MM:SS,mmm INFO killing 'a' (N) with SIGKILL\n"},
		{"5631\n0\n42\n", "N\n0\nN\n"},
		{"error: unix:///tmp/fbt-123/supervisor.sock no such file\n", "error: unix://{DIR}/supervisor.sock no such file\n"},
		{"Exited too quickly (process log may have details)\n", "Exited too quickly (process log may have details)\n"},
	} {
		if got := Normalize(c.in, "/tmp/fbt-123"); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStateOf(t *testing.T) {
	out := "a                                STARTING  \nab                               RUNNING   pid 3, uptime 0:00:01\n"
	for name, want := range map[string]string{"a": "STARTING", "ab": "RUNNING", "b": ""} {
		if got := StateOf(out, name); got != want {
			t.Errorf("StateOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// pidOf returns the pid that `status NAME` shows, or fails.
func pidOf(t *testing.T, d *Daemon, name string) int {
	t.Helper()
	r := d.Ctl("status", name)
	_, rest, ok := strings.Cut(r.Stdout, "pid ")
	if !ok {
		t.Fatalf("no pid in %s", r)
	}
	pid, err := strconv.Atoi(strings.TrimSuffix(strings.Fields(rest)[0], ","))
	if err != nil {
		t.Fatalf("no pid in %s", r)
	}
	return pid
}

func TestDaemonRoundTrip(t *testing.T) {
	RequireSupervisor(t)
	t.Parallel()
	d, err := Start(t, Supervisord, Config{
		Sections: "[program:a]\ncommand={DIR}/hello.sh\nstartsecs=0\n",
		Files:    map[string]string{"hello.sh": "#!/bin/sh\necho hello from {DIR}\nexec sleep 1000\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WaitState("a", "RUNNING"); err != nil {
		t.Fatal(err)
	}
	pid := pidOf(t, d, "a")
	p, err := ReadProc(pid)
	if err != nil || p.PPID != d.PID() || p.SID != d.PID() {
		t.Fatalf("program pid %d: %+v, %v; want a child of the daemon %d in its session", pid, p, err, d.PID())
	}
	r := d.NormalizeResult(d.Ctl("status"))
	if want := "a                                RUNNING   pid N, uptime H:MM:SS\n"; r.Stdout != want || r.Code != 0 {
		t.Errorf("status: %s\nwant stdout %q, exit 0", r, want)
	}
	if err := d.WaitFor("the program's output in its log", func() bool {
		return strings.Contains(d.Ctl("tail", "a").Stdout, "hello")
	}); err != nil {
		t.Fatal(err)
	}
	if r := d.NormalizeResult(d.Ctl("tail", "a")); r.Stdout != "hello from {DIR}\n\n" {
		t.Errorf("tail a: %s", r)
	}
	if left := d.Close(); len(left) != 0 {
		t.Errorf("Close left %v", left)
	}
	if !d.Exited() {
		t.Error("the daemon still runs after Close")
	}
	if Alive(pid, p.StartTime) {
		t.Errorf("program %d still runs after Close", pid)
	}
	if r := d.Ctl("status"); r.Code != 4 {
		t.Errorf("status after Close: %s\nwant exit 4", r)
	}
}

// An orphaned grandchild (no stopasgroup: only the shell gets SIGTERM) is
// found and killed by Close, and reported.
func TestCloseKillsOrphans(t *testing.T) {
	RequireSupervisor(t)
	t.Parallel()
	d, err := Start(t, Supervisord, Config{
		Sections: "[program:a]\ncommand=/bin/sh -c 'sleep 1000 & echo $! > {DIR}/gc.pid; wait'\nstartsecs=0\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitFor("gc.pid", func() bool { return strings.HasSuffix(d.ReadFile("gc.pid"), "\n") }); err != nil {
		t.Fatal(err)
	}
	gc, err := strconv.Atoi(strings.TrimSpace(d.ReadFile("gc.pid")))
	if err != nil {
		t.Fatal(err)
	}
	left := d.Close()
	if len(left) != 1 || left[0].PID != gc {
		t.Fatalf("Close returned %v, want the orphaned sleep %d", left, gc)
	}
	if err := d.WaitFor("the orphan to die", func() bool { return !Alive(left[0].PID, left[0].StartTime) }); err != nil {
		t.Error(err)
	}
}

func TestStartFailsClearly(t *testing.T) {
	RequireSupervisor(t)
	t.Parallel()
	_, err := Start(t, Supervisord, Config{Sections: "[program:a]\ncommand=sleep 1\nautostart=maybe\n"})
	if err == nil || !strings.Contains(err.Error(), "exited before its socket answered") {
		t.Errorf("Start with a bad config: %v", err)
	}
	if _, err := Start(t, "upstart", Config{}); err == nil {
		t.Error("Start of an unknown daemon: no error")
	}
}
