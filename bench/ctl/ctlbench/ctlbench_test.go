//go:build ctlbench

package ctlbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/unitgen"
)

const (
	supervisord   = "/usr/bin/supervisord"
	supervisorctl = "/usr/bin/supervisorctl"
	restartTarget = "prog_0001" // startsecs=0 whatever STARTSECS says
	unitPattern   = "prog_*"
	startTimeout  = 5 * time.Minute // all N programs up; 1000 take ~15 s under supervisord
	stopTimeout   = 2 * time.Minute
	settle        = time.Second // after N programs are up, before timing
)

// settings are the knobs run.sh passes in the environment.
type settings struct {
	supersede   string
	counts      []int
	runs        int
	restartRuns int
	warmup      int
	startsecs   int
	out         string // markdown tables, or ""
	jsonDir     string // raw hyperfine exports, or ""
	hasCtl      bool   // the binary has a working ctl command
	strace      bool   // log strace -c -f of the status commands once
	rt          bool   // time under SCHED_FIFO (RT=1): see realtime
	before      string // SUPERSEDE_BEFORE: another supersede whose ctl status is timed beside, or ""
	perf        bool   // PERF=1: CPU figures of ctl status and of the manager (cpuFigures)
	stagger     int    // STAGGER=N: start the units N at a time before the target (0: all at once)
}

// stat is one hyperfine result, in seconds.
type stat struct {
	ok               bool
	median, min, max float64
	runs             int
}

// row is everything measured for one program count.
type row struct {
	n    int
	load string // /proc/loadavg's first three fields just before measuring

	svStatus, svCtlStatus, svRestart, svCtlRestart stat // under supervisord
	sdPattern, sdAll, sdCtlStatus, sdRestart       stat // under systemd --user
	sdCtlRestart, sdFloor, sdSystemctlFloor        stat
	sdCtlBefore                                    stat // SUPERSEDE_BEFORE's ctl status
	sdCtlCold                                      stat // ctl status with no cache of runs (internal/sysd/runs.go)
	sdCtlBeforeCold                                stat // SUPERSEDE_BEFORE's, with no cache of runs
	records                                        int  // the records of runs the units' steps wrote (internal/sysd/record.go)
	cpu                                            []cpuRow

	note string // what went wrong in an untimed check, for the table
}

func TestCtlBench(t *testing.T) {
	s := loadSettings(t)
	sdtest.Require(t)
	startLoad := loadavg()
	var rows []*row
	for _, n := range s.counts {
		r := &row{n: n}
		rows = append(rows, r)
		ok := t.Run(fmt.Sprintf("programs=%d", n), func(t *testing.T) {
			dir := t.TempDir()
			conf, sock := writeConfig(t, dir, n, s.startsecs)
			r.load = loadavg()
			if os.Getenv("SUPERVISORD") != "0" {
				measureSupervisord(t, s, r, dir, conf, sock)
			}
			measureSystemd(t, s, r, conf)
		})
		if !ok {
			break
		}
	}
	table := render(s, rows, startLoad, loadavg())
	t.Logf("\n%s", table)
	if s.out != "" {
		if err := writeAtomic(s.out, []byte(table)); err != nil {
			t.Fatal(err)
		}
	}
}

func loadSettings(t *testing.T) settings {
	s := settings{
		supersede:   os.Getenv("SUPERSEDE"),
		runs:        envInt(t, "RUNS", 20),
		restartRuns: envInt(t, "RESTART_RUNS", 10),
		warmup:      envInt(t, "WARMUP", 2),
		startsecs:   envInt(t, "STARTSECS", 1),
		out:         os.Getenv("CTL_BENCH_OUT"),
		jsonDir:     os.Getenv("CTL_BENCH_JSON"),
		strace:      os.Getenv("STRACE") == "1",
		rt:          os.Getenv("RT") == "1",
		before:      os.Getenv("SUPERSEDE_BEFORE"),
		perf:        os.Getenv("PERF") == "1",
		stagger:     envInt(t, "STAGGER", 0),
	}
	if s.supersede == "" {
		t.Fatal("SUPERSEDE is not set: name the supersede binary (bench/ctl/run.sh builds one)")
	}
	var err error
	if s.supersede, err = filepath.Abs(s.supersede); err != nil {
		t.Fatal(err)
	}
	counts := os.Getenv("COUNTS")
	if counts == "" {
		counts = "1 100 1000"
	}
	for _, f := range strings.Fields(counts) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 9999 {
			t.Fatalf("COUNTS: %q is not a program count from 1 to 9999", f)
		}
		s.counts = append(s.counts, n)
	}
	if s.runs < 1 || s.restartRuns < 1 || s.warmup < 0 || s.startsecs < 0 {
		t.Fatalf("RUNS and RESTART_RUNS must be at least 1, WARMUP and STARTSECS at least 0")
	}
	for _, p := range []string{supervisord, supervisorctl, s.supersede} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v (supervisord: make deps; supersede: bench/ctl/run.sh builds it)", err)
		}
	}
	if _, err := exec.LookPath("hyperfine"); err != nil {
		t.Fatal("hyperfine is not installed (apt-get install hyperfine)")
	}
	// ctl is new: measure the rest without it rather than not at all.
	s.hasCtl = exec.Command(s.supersede, "ctl", "--help").Run() == nil
	if !s.hasCtl {
		t.Logf("%s has no ctl command yet: its columns stay empty", s.supersede)
	}
	return s
}

// rtPriority is the SCHED_FIFO priority of RT=1.
const rtPriority = 10

// realtime puts the daemons of a measurement (supervisord; systemd
// --user and its journald) under SCHED_FIFO when RT=1, as hyperfine and
// the timed commands are: on a machine shared with other work, the
// commands and the daemons that answer them then run as on an idle one,
// both worlds alike, and the side-by-side ratios hold still. It is done
// once the programs are up, so that starting them is not favoured over
// the machine's other work; programs a restart starts inherit it, and
// only sleep.
func realtime(t *testing.T, pids ...int) (undo func()) {
	if os.Getenv("RT") != "1" {
		return func() {}
	}
	chrt := func(args ...string) {
		if out, err := exec.Command("chrt", args...).CombinedOutput(); err != nil {
			t.Errorf("chrt %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, pid := range pids {
		chrt("-f", "-p", strconv.Itoa(rtPriority), strconv.Itoa(pid))
	}
	// supervisord's shutdown loop would starve its own children, which
	// must run to exit
	return func() {
		for _, pid := range pids {
			chrt("-o", "-p", "0", strconv.Itoa(pid))
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q is not a whole number", name, v)
	}
	return n
}

// writeConfig writes DIR/supervisord.conf with n programs that stay up.
func writeConfig(t *testing.T, dir string, n, startsecs int) (conf, sock string) {
	conf, sock = filepath.Join(dir, "supervisord.conf"), filepath.Join(dir, "s.sock")
	if err := os.Mkdir(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `; bench/ctl: %d programs that stay up
[supervisord]
logfile=%[2]s/supervisord.log
pidfile=%[2]s/supervisord.pid
childlogdir=%[2]s/log
minfds=8192
`, n, dir)
	if os.Getuid() == 0 {
		b.WriteString("user=root\n") // no "running as root" complaint
	}
	fmt.Fprintf(&b, `
[unix_http_server]
file=%s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s
`, sock)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("prog_%04d", i)
		secs := startsecs
		if name == restartTarget {
			secs = 0
		}
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=/bin/sleep infinity\nstartsecs=%d\n", name, secs)
	}
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, sock
}

// measureSupervisord runs the real supervisord on conf and times the real
// supervisorctl (and supersede ctl over XML-RPC) against it.
func measureSupervisord(t *testing.T, s settings, r *row, dir, conf, sock string) {
	d := startSupervisord(t, dir, conf, sock, r.n)
	defer d.stop(t)
	time.Sleep(settle)
	defer realtime(t, d.cmd.Process.Pid)() // back to normal before it stops (deferred after d.stop: runs first)

	out := runOut(t, exec.Command(supervisorctl, "-c", conf, "status"))
	if got := countLines(out, " RUNNING "); got != r.n {
		t.Fatalf("supervisorctl status: %d RUNNING lines, want %d:\n%.2000s", got, r.n, out)
	}
	host := func(ctx context.Context, name string, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, name, args...)
	}
	cmds := []bench{{"supervisorctl status", join(t, supervisorctl, "-c", conf, "status"), &r.svStatus, ""}}
	if s.hasCtl {
		ctl := []string{s.supersede, "ctl", "-c", conf, "-s", "unix://" + sock}
		out := runOut(t, exec.Command(ctl[0], append(ctl[1:], "status")...))
		if got := countLines(out, " RUNNING "); got != r.n {
			t.Fatalf("supersede ctl status (supervisord): %d RUNNING lines, want %d:\n%.2000s", got, r.n, out)
		}
		sameNames(t, "supersede ctl status (supervisord)", out, r.n)
		cmds = append(cmds, bench{"supersede ctl status (supervisord)", join(t, append(ctl, "status")...), &r.svCtlStatus, ""})
	}
	if s.strace {
		straceSummary(t, host, fmt.Sprintf("supervisorctl-status-%d", r.n), supervisorctl, "-c", conf, "status")
	}
	hyperfine(t, s, host, fmt.Sprintf("supervisord-%d-status", r.n), s.runs, s.warmup, cmds)

	// With startsecs=0 supervisord reports RUNNING as soon as it has
	// forked, before the child has exec'd sleep; a SIGTERM in that window
	// meets supervisord's own handler, still installed in the child, and
	// is lost, so the next stop waits stopwaitsecs (10 s) and SIGKILLs.
	// Only a client quicker than supervisorctl's ~100 ms start-up gets
	// there in time: an untimed pause before each run keeps that race
	// out of the figures.
	pause := join(t, "/bin/sleep", "0.1")
	cmds = []bench{{"supervisorctl restart", join(t, supervisorctl, "-c", conf, "restart", restartTarget), &r.svRestart, pause}}
	if s.hasCtl {
		cmds = append(cmds, bench{"supersede ctl restart (supervisord)",
			join(t, s.supersede, "ctl", "-c", conf, "-s", "unix://"+sock, "restart", restartTarget), &r.svCtlRestart, pause})
	}
	hyperfine(t, s, host, fmt.Sprintf("supervisord-%d-restart", r.n), s.restartRuns, min(s.warmup, 1), cmds)
}

// measureSystemd runs a systemd user manager with conf's units and times
// systemctl --user and supersede ctl --user against it.
func measureSystemd(t *testing.T, s settings, r *row, conf string) {
	m := sdtest.Start(t, sdtest.Options{})
	defer func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop the systemd user manager: %v", err)
		}
	}()
	runOut(t, exec.Command(s.supersede, "convert", "-c", conf, "--user", "-o", m.UnitDir))
	m.DaemonReload()
	if s.stagger > 0 {
		// as units that systemd started over time (Restart=, systemctl,
		// a boot that is no storm); without, all at once, as at boot
		for from := 1; from <= r.n; from += s.stagger {
			args := []string{"start"}
			for i := from; i < min(from+s.stagger, r.n+1); i++ {
				args = append(args, fmt.Sprintf("prog_%04d.service", i))
			}
			m.Systemctl(args...)
		}
	}
	m.Systemctl("start", "supersede.target")
	waitActive(t, m, r.n)
	// Let the manager and journald finish what starting N units left
	// them (hyperfine's warmup runs come on top).
	time.Sleep(settle)
	defer realtime(t, m.PID, m.JournaldPID)()

	ns := func(ctx context.Context, name string, args ...string) *exec.Cmd { return m.Command(ctx, name, args...) }
	ctx := context.Background()
	pattern := []string{"systemctl", "--user", "list-units", "--all", "--no-pager", "--no-legend", unitPattern}
	if got := countLines(runOut(t, ns(ctx, pattern[0], pattern[1:]...)), ".service"); got != r.n {
		t.Fatalf("%s lists %d services, want %d", strings.Join(pattern, " "), got, r.n)
	}
	cmds := []bench{
		{"systemctl --user list-units 'prog_*'", join(t, pattern[:len(pattern)-1]...) + " '" + unitPattern + "'", &r.sdPattern, ""},
		{"systemctl --user list-units", "systemctl --user list-units --no-pager", &r.sdAll, ""},
	}
	ctl := []string{s.supersede, "ctl", "--user", "-c", conf}
	if s.hasCtl {
		out := runOut(t, ns(ctx, ctl[0], append(ctl[1:], "status")...))
		if got := countLines(out, " RUNNING "); got != r.n {
			t.Fatalf("supersede ctl --user status: %d RUNNING lines, want %d:\n%.2000s", got, r.n, out)
		}
		sameNames(t, "supersede ctl --user status", out, r.n)
		cmds = append(cmds, bench{"supersede ctl --user status", join(t, append(ctl, "status")...), &r.sdCtlStatus, ""})
		// The same with the cache of runs removed before each run, as
		// for the first status after every unit started: every running
		// unit is asked for with a Get (internal/sysd/runs.go names the
		// file).
		// The units were started by systemctl (above), not by ctl: their
		// exec steps (this SUPERSEDE, which convert named as the step)
		// recorded their runs, which is what such a status reads
		// (internal/sysd/record.go); counted for the table.
		runs := filepath.Join(m.RuntimeDir, "supersede", ".runs.supersede.target")
		records, _ := filepath.Glob(filepath.Join(m.RuntimeDir, "supersede", ".run.*"))
		r.records = len(records)
		cmds = append(cmds, bench{"supersede ctl --user status, no cache of runs", join(t, append(ctl, "status")...), &r.sdCtlCold, join(t, "rm", "-f", runs)})
		if s.before != "" {
			before := append([]string{s.before}, append(ctl[1:], "status")...)
			if out := runOut(t, ns(ctx, before[0], before[1:]...)); countLines(out, " RUNNING ") != r.n {
				t.Fatalf("SUPERSEDE_BEFORE ctl --user status: not %d RUNNING lines:\n%.2000s", r.n, out)
			}
			cmds = append(cmds, bench{"SUPERSEDE_BEFORE ctl --user status", join(t, before...), &r.sdCtlBefore, ""},
				bench{"SUPERSEDE_BEFORE ctl --user status, no cache of runs", join(t, before...), &r.sdCtlBeforeCold, join(t, "rm", "-f", runs)})
		}
	}
	if s.strace {
		straceSummary(t, ns, fmt.Sprintf("systemctl-pattern-%d", r.n), pattern...)
		if s.hasCtl {
			straceSummary(t, ns, fmt.Sprintf("ctl-status-%d", r.n), append(ctl, "status")...)
		}
	}
	// What any command costs before it does anything: exec, runtime start.
	cmds = append(cmds,
		bench{"supersede version", join(t, s.supersede, "version"), &r.sdFloor, ""},
		bench{"systemctl --version", "systemctl --version", &r.sdSystemctlFloor, ""})
	hyperfine(t, s, ns, fmt.Sprintf("systemd-%d-status", r.n), s.runs, s.warmup, cmds)
	if s.perf {
		r.cpu = append(r.cpu, cpuFigures(t, s, ns, m.PID, "systemctl --user list-units 'prog_*'", pattern...))
		if s.hasCtl {
			r.cpu = append(r.cpu, cpuFigures(t, s, ns, m.PID, "supersede ctl --user status", append(ctl, "status")...))
			// the cold case: the cache removed by the shell before each
			// run (the shell's own CPU is counted as ctl's)
			runs := filepath.Join(m.RuntimeDir, "supersede", ".runs.supersede.target")
			cold := func(bin string) []string {
				return []string{"/bin/sh", "-c", "rm -f " + join(t, runs) + " && exec " + join(t, append([]string{bin}, append(ctl[1:], "status")...)...)}
			}
			r.cpu = append(r.cpu, cpuFigures(t, s, ns, m.PID, "supersede ctl --user status, no cache of runs (sh -c 'rm; exec ctl')", cold(s.supersede)...))
			if s.before != "" {
				r.cpu = append(r.cpu, cpuFigures(t, s, ns, m.PID, "SUPERSEDE_BEFORE ctl --user status", append([]string{s.before}, append(ctl[1:], "status")...)...))
				r.cpu = append(r.cpu, cpuFigures(t, s, ns, m.PID, "SUPERSEDE_BEFORE ctl --user status, no cache of runs (sh -c 'rm; exec ctl')", cold(s.before)...))
			}
		}
	}

	unit, err := unitgen.UnitName("", restartTarget, unitgen.Service)
	if err != nil {
		t.Fatal(err)
	}
	// The units keep Supervisor's startretries as a start limit
	// (StartLimitBurst), which counts every start, so each timed restart
	// is prepared by resetting the counter (not timed).
	reset := join(t, "systemctl", "--user", "reset-failed", unit)
	cmds = []bench{{"systemctl --user restart", join(t, "systemctl", "--user", "restart", unit), &r.sdRestart, reset}}
	if s.hasCtl {
		cmds = append(cmds, bench{"supersede ctl --user restart", join(t, append(ctl, "restart", restartTarget)...), &r.sdCtlRestart, reset})
	}
	hyperfine(t, s, ns, fmt.Sprintf("systemd-%d-restart", r.n), s.restartRuns, min(s.warmup, 1), cmds)
	if s.hasCtl {
		// Untimed: supervisorctl restarts however often it is asked;
		// does ctl, through the start limit the units carry?
		runOut(t, ns(ctx, "systemctl", "--user", "reset-failed", unit))
		for i := range 6 {
			cmd := ns(ctx, ctl[0], append(ctl[1:], "restart", restartTarget)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				r.note = fmt.Sprintf("restart %d of 6 back to back (no reset-failed) failed: %v: %s", i+1, err,
					strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " / "))
				t.Logf("supersede ctl --user restart: %s", r.note)
				runOut(t, ns(ctx, "systemctl", "--user", "reset-failed", unit))
				runOut(t, ns(ctx, "systemctl", "--user", "start", unit))
				break
			}
		}
	}
	// Every restart must have left the unit running.
	waitActive(t, m, r.n)
}

// waitActive waits until the n prog_* services are active, and fails early
// when one has failed.
func waitActive(t *testing.T, m *sdtest.Manager, n int) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		out := m.Systemctl("list-units", "--all", "--no-legend", "--plain", "--type=service", unitPattern)
		active, failed := 0, 0
		for line := range strings.Lines(out) {
			f := strings.Fields(line)
			if len(f) >= 4 && f[2] == "active" && f[3] == "running" {
				active++
			}
			if len(f) >= 3 && f[2] == "failed" {
				failed++
			}
		}
		if active == n {
			return
		}
		if failed > 0 || time.Now().After(deadline) {
			t.Fatalf("%d of %d services active, %d failed:\n%.3000s", active, n, failed, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// bench is one command for hyperfine; dst receives its result.
type bench struct {
	name, command string
	dst           *stat
	prepare       string // run before each timed run, untimed; "" for none
}

// hyperfine times cmds, one after the other, in one hyperfine run started
// by mk (on the host, or in the manager's namespace). Commands run without
// a shell (-N), their output discarded, and must exit 0.
func hyperfine(t *testing.T, s settings, mk func(context.Context, string, ...string) *exec.Cmd, tag string, runs, warmup int, cmds []bench) {
	t.Helper()
	export := filepath.Join(t.TempDir(), tag+".json")
	args := []string{"-N", "--style", "basic", "--runs", strconv.Itoa(runs), "--warmup", strconv.Itoa(warmup), "--export-json", export}
	// hyperfine takes one --prepare for every command, or none: a
	// command without one gets "true" where others have one.
	some := slices.ContainsFunc(cmds, func(c bench) bool { return c.prepare != "" })
	for _, c := range cmds {
		switch {
		case c.prepare != "":
			args = append(args, "--prepare", c.prepare)
		case some:
			args = append(args, "--prepare", "true")
		}
	}
	for _, c := range cmds {
		args = append(args, "-n", c.name, c.command)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := mk(ctx, "hyperfine", args...)
	if s.rt {
		cmd = mk(ctx, "chrt", append([]string{"-f", strconv.Itoa(rtPriority), "hyperfine"}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "== %s (load %s)\n", tag, loadavg())
	if err := cmd.Run(); err != nil {
		t.Fatalf("hyperfine %s: %v", tag, err)
	}
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if s.jsonDir != "" {
		if err := writeAtomic(filepath.Join(s.jsonDir, tag+".json"), data); err != nil {
			t.Fatal(err)
		}
	}
	var res struct {
		Results []struct {
			Command string    `json:"command"`
			Median  float64   `json:"median"`
			Min     float64   `json:"min"`
			Max     float64   `json:"max"`
			Times   []float64 `json:"times"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("hyperfine %s: %v", tag, err)
	}
	if len(res.Results) != len(cmds) {
		t.Fatalf("hyperfine %s: %d results for %d commands", tag, len(res.Results), len(cmds))
	}
	for i, c := range cmds {
		x := res.Results[i]
		*c.dst = stat{ok: true, median: x.Median, min: x.Min, max: x.Max, runs: len(x.Times)}
	}
}

// straceSummary runs argv once under strace -c -f (untimed) and logs the
// system call summary: how many round trips to the manager a status
// costs shows in sendmsg/recvmsg (D-Bus) or write/read counts.
func straceSummary(t *testing.T, mk func(context.Context, string, ...string) *exec.Cmd, tag string, argv ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), tag+".strace")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := mk(ctx, "strace", append([]string{"-f", "-c", "-o", out, "--"}, argv...)...)
	if err := cmd.Run(); err != nil {
		t.Logf("strace %s: %v", tag, err)
		return
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("strace -c -f %s:\n%s", strings.Join(argv, " "), data)
}

// join makes a hyperfine -N command line, which hyperfine splits at
// spaces; the arguments are paths and names that need no quoting.
func join(t *testing.T, argv ...string) string {
	t.Helper()
	for _, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$*?") {
			t.Fatalf("%q would need quoting in a hyperfine command line: use a TMPDIR and SUPERSEDE path without spaces or quotes", a)
		}
	}
	return strings.Join(argv, " ")
}

// runOut runs cmd and returns its standard output; a non-zero exit fails t.
func runOut(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(cmd.Args, " "), err, o.String(), e.String())
	}
	return o.String()
}

func countLines(out, substr string) int {
	n := 0
	for line := range strings.Lines(out) {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// sameNames checks that a status listing names prog_0001 … prog_N in
// order, as supervisorctl does.
func sameNames(t *testing.T, what, out string, n int) {
	t.Helper()
	i := 0
	for line := range strings.Lines(out) {
		i++
		if f := strings.Fields(line); len(f) == 0 || f[0] != fmt.Sprintf("prog_%04d", i) {
			t.Fatalf("%s: line %d is %q, want prog_%04d first", what, i, line, i)
		}
	}
	if i != n {
		t.Fatalf("%s: %d lines, want %d", what, i, n)
	}
}

// daemon is a running supervisord.
type daemon struct {
	cmd    *exec.Cmd
	done   chan struct{}
	client *xmlrpc.Client
	dir    string
	t      *testing.T
}

// startSupervisord starts supervisord -n on conf and waits until its n
// programs are RUNNING. Its cleanup is registered with t.
func startSupervisord(t *testing.T, dir, conf, sock string, n int) *daemon {
	t.Helper()
	client, err := xmlrpc.NewClient("unix://"+sock, "", "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	d := &daemon{client: client, dir: dir, done: make(chan struct{}), t: t}
	d.cmd = exec.Command(supervisord, "-n", "-c", conf)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = out, out
	// Its own session, so that whatever it leaves behind can be found;
	// SIGTERM if this process dies first: supervisord stops its programs.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	// The Pdeathsig is tied to the thread that forks.
	runtime.LockOSThread()
	err = d.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() { d.stop(t) })

	t0 := time.Now()
	ctx := context.Background()
	for {
		select {
		case <-d.done:
			t.Fatalf("supervisord exited at start: %s\n%s", d.cmd.ProcessState, d.log())
		default:
		}
		infos, err := client.AllProcessInfo(ctx)
		running := 0
		for _, pi := range infos {
			if pi.State == status.Running {
				running++
			}
			if pi.State == status.Fatal || pi.State == status.Backoff {
				t.Fatalf("supervisord: %s is %v: %s", pi.Name, pi.State, pi.Description)
			}
		}
		if err == nil && running == n {
			t.Logf("supervisord: %d programs RUNNING after %v", n, time.Since(t0).Round(time.Millisecond))
			return d
		}
		if time.Since(t0) > startTimeout {
			t.Fatalf("supervisord: %d of %d programs RUNNING after %v (last error %v)\n%s", running, n, startTimeout, err, d.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *daemon) log() string {
	data, _ := os.ReadFile(filepath.Join(d.dir, "supervisord.out"))
	return string(data)
}

// stop shuts supervisord down over XML-RPC (it stops its programs first),
// kills it by PID if it does not exit, then kills by PID whatever is left
// in its session and waits until that is gone. Later calls do nothing.
func (d *daemon) stop(t *testing.T) {
	select {
	case <-d.done:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := d.client.Call(ctx, "supervisor.shutdown")
		cancel()
		if err != nil {
			d.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-d.done:
		case <-time.After(stopTimeout):
			t.Errorf("supervisord (pid %d) did not exit %v after shutdown; killed", d.cmd.Process.Pid, stopTimeout)
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	d.client.Close()
	sid := d.cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := inSession(sid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v of supervisord's session survive SIGKILL", left)
			return
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inSession lists the processes of session sid (zombies included: their
// parent, which is gone, was ours or init reaps them).
func inSession(sid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		// After "comm)": state ppid pgrp session.
		f := strings.Fields(string(data[i+1:]))
		if len(f) > 3 && f[0] != "Z" && f[3] == strconv.Itoa(sid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// writeAtomic writes name through a temporary file and a rename.
func writeAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name))
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ms formats a duration in seconds for the table.
func ms(sec float64) string {
	switch v := sec * 1000; {
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}

// cell is "median (min–max)" without units repeated, or "–".
func (s stat) cell() string {
	if !s.ok {
		return "–"
	}
	lo, hi := ms(s.min), ms(s.max)
	// "3.1–3.5 ms", but "6.6 ms–10.02 s".
	if l, unit, _ := strings.Cut(lo, " "); strings.HasSuffix(hi, " "+unit) {
		lo = l
	}
	return fmt.Sprintf("%s (%s–%s)", ms(s.median), lo, hi)
}

func ratio(a, b stat) string {
	if !a.ok || !b.ok || b.median == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", a.median/b.median)
}

func render(s settings, rows []*row, startLoad, endLoad string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "machine: %s, %d cores; load average %s at the start, %s at the end\n",
		host, runtime.NumCPU(), startLoad, endLoad)
	fmt.Fprintf(&b, "programs: /bin/sleep infinity, all RUNNING / active (running); startsecs=%d, the restart target %s startsecs=0\n", s.startsecs, restartTarget)
	fmt.Fprintf(&b, "hyperfine -N (no shell), %d runs (restart: %d), warmup %d; median (min–max); supervisord 4.2.5 (Debian), systemd --user %s\n", s.runs, s.restartRuns, s.warmup, systemdVersion())
	if s.rt {
		fmt.Fprintf(&b, "RT=1: hyperfine, the timed commands, supervisord, systemd --user and its journald under SCHED_FIFO %d\n", rtPriority)
	}
	b.WriteString("ratios are of the medians: X / ctl is above 1 when supersede ctl --user is quicker; ctl / systemctl is how many times systemctl's time ctl takes (target: at most 2.5 at 1000)\n\n")

	b.WriteString("status\n\n")
	b.WriteString("| programs | load | supervisorctl status (supervisord) | systemctl --user list-units 'prog_*' | systemctl --user list-units | supersede ctl --user status | supervisorctl / ctl | ctl / systemctl 'prog_*' | supersede ctl status (supervisord) |\n")
	b.WriteString("|---:|---|---|---|---|---|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.n, r.load,
			r.svStatus.cell(), r.sdPattern.cell(), r.sdAll.cell(), r.sdCtlStatus.cell(),
			ratio(r.svStatus, r.sdCtlStatus), ratio(r.sdCtlStatus, r.sdPattern), r.svCtlStatus.cell())
	}
	b.WriteString("\nsupersede ctl --user status with the cache of runs removed before each run (the first status after systemctl started the units: the records of runs their exec steps wrote), in the same hyperfine run:\n\n")
	b.WriteString("| programs | records of runs | supersede ctl --user status | no cache of runs | no cache / systemctl 'prog_*' | before, no cache of runs | before no cache / systemctl 'prog_*' |\n|---:|---:|---|---|---:|---|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s | %s |\n", r.n, r.records, r.sdCtlStatus.cell(), r.sdCtlCold.cell(), ratio(r.sdCtlCold, r.sdPattern), r.sdCtlBeforeCold.cell(), ratio(r.sdCtlBeforeCold, r.sdPattern))
	}
	if s.before != "" {
		fmt.Fprintf(&b, "\nSUPERSEDE_BEFORE (%s) ctl --user status, in the same hyperfine run:\n\n", s.before)
		b.WriteString("| programs | supersede ctl --user status | before | before / ctl | before / systemctl 'prog_*' |\n|---:|---|---|---:|---:|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", r.n, r.sdCtlStatus.cell(), r.sdCtlBefore.cell(), ratio(r.sdCtlBefore, r.sdCtlStatus), ratio(r.sdCtlBefore, r.sdPattern))
		}
	}
	if s.perf {
		fmt.Fprintf(&b, "\nCPU per run (PERF=1: perf stat -r %d, and the manager's user+sys time from /proc over the same runs, in 10 ms ticks):\n\n", s.runs)
		b.WriteString("| programs | command | CPU (all threads) | page faults | context switches | the manager's CPU |\n|---:|---|---|---:|---:|---|\n")
		for _, r := range rows {
			for _, c := range r.cpu {
				fmt.Fprintf(&b, "| %d | %s | %.1f ms | %.0f | %.0f | %.1f ms |\n", r.n, c.name, c.taskClock, c.faults, c.switches, c.managerMS)
			}
		}
	}
	b.WriteString("\nrestart " + restartTarget + " (startsecs=0; sleep stops on SIGTERM at once)\n\n")
	b.WriteString("| programs | supervisorctl restart (supervisord) | systemctl --user restart | supersede ctl --user restart | supervisorctl / ctl | supersede ctl restart (supervisord) |\n")
	b.WriteString("|---:|---|---|---|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", r.n,
			r.svRestart.cell(), r.sdRestart.cell(), r.sdCtlRestart.cell(), ratio(r.svRestart, r.sdCtlRestart), r.svCtlRestart.cell())
	}
	b.WriteString("\n")
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(&b, "at %d: supersede ctl --user restart %s: %s\n", r.n, restartTarget, r.note)
		}
	}
	b.WriteString("floor (exec and start-up, no work): ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "at %d: supersede version %s, systemctl --version %s", r.n, r.sdFloor.cell(), r.sdSystemctlFloor.cell())
	}
	b.WriteString("\n")
	return b.String()
}

func systemdVersion() string {
	out, err := exec.Command("systemctl", "--version").Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(line); len(f) >= 2 {
		return f[1]
	}
	return "?"
}

// cpuRow is what one command costs in CPU, per run: its own (perf stat)
// and the manager's (/proc/PID/stat while perf stat ran it).
type cpuRow struct {
	name             string
	taskClock        float64 // ms of CPU, all threads
	faults, switches float64
	managerMS        float64 // the manager's user+sys per run, ms (10 ms ticks over all runs)
}

// cpuFigures runs argv RUNS times under perf stat (-x, for CSV), in the
// manager's namespace and under SCHED_FIFO like the timed runs when RT=1.
// CPU time is steadier than elapsed time on a machine busy with other
// work: it shows what a change saves even when the clock cannot.
func cpuFigures(t *testing.T, s settings, mk func(context.Context, string, ...string) *exec.Cmd, managerPID int, name string, argv ...string) cpuRow {
	t.Helper()
	out := filepath.Join(t.TempDir(), "perf.csv")
	args := append([]string{"stat", "-x", ",", "-o", out, "-r", strconv.Itoa(s.runs), "-e", "task-clock,page-faults,context-switches", "--"}, argv...)
	name0 := "perf"
	if s.rt {
		args = append([]string{"-f", strconv.Itoa(rtPriority), "perf"}, args...)
		name0 = "chrt"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before := procCPUTicks(t, managerPID)
	cmd := mk(ctx, name0, args...)
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		t.Fatalf("perf stat %s: %v", name, err)
	}
	ticks := procCPUTicks(t, managerPID) - before
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r := cpuRow{name: name, managerMS: float64(ticks) * 10 / float64(s.runs)}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(f[2], "task-clock"):
			r.taskClock = v
		case strings.HasPrefix(f[2], "page-faults"):
			r.faults = v
		case strings.HasPrefix(f[2], "context-switches"):
			r.switches = v
		}
	}
	if r.taskClock == 0 {
		t.Fatalf("perf stat %s: no task-clock in\n%s", name, data)
	}
	return r
}

// procCPUTicks is a process's user+system time in clock ticks (10 ms).
func procCPUTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	u, err1 := strconv.Atoi(f[11])
	st, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return u + st
}
