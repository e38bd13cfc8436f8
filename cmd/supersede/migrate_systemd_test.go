package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// These tests run supersede migrate on a live host of two worlds: the
// real supervisord 4.2.5 running the programs, and a real systemd user
// manager (internal/sdtest) that takes them over.

// migHost is one host to migrate: a supervisord running conf, a user
// manager, and migrate's state file and link directory.
type migHost struct {
	t                      testing.TB
	dir, conf, state, bin  string
	exe                    string
	sm                     *sdtest.Manager
	supervisordOut         *fallbacktest.SyncBuffer
	firstSupervisord       int
	supervisordEnvironment []string
}

// newMigHost starts a user manager and the real supervisord on a config
// of sections (with env added to supervisord's environment), by hand,
// and waits until supervisord answers.
func newMigHost(t testing.TB, sections string, env ...string) *migHost {
	t.Helper()
	h := prepareMigHost(t, sections, env)
	cmd := exec.Command("/usr/bin/supervisord", "-n", "-c", h.conf)
	cmd.Dir = h.dir
	cmd.Env = append(os.Environ(), env...)
	h.supervisordOut = &fallbacktest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = h.supervisordOut, h.supervisordOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.firstSupervisord = cmd.Process.Pid
	go cmd.Wait() // reaps it when migrate shuts it down
	// registered after the manager's teardown, so run before it: the
	// supervisord a rollback started runs in the manager's namespace
	t.Cleanup(h.stopSupervisords)
	if !h.waitUntil(60*time.Second, func() bool { return h.supervisorctl("pid").code == 0 }) {
		t.Fatalf("supervisord did not answer:\n%s", h.supervisordOut)
	}
	return h
}

// newMigHostUnit is newMigHost with supervisord started by an enabled
// supervisor.service of the user manager, as Debian's package starts it.
func newMigHostUnit(t testing.TB, sections string) *migHost {
	t.Helper()
	h := prepareMigHost(t, sections, nil)
	h.supervisordOut = &fallbacktest.SyncBuffer{}
	h.sm.WriteUnit("supervisor.service", fmt.Sprintf(`[Unit]
Description=Supervisor process control system for UNIX

[Service]
ExecStart=/usr/bin/supervisord -n -c %s
WorkingDirectory=%s

[Install]
WantedBy=default.target
`, h.conf, h.dir))
	h.sm.DaemonReload()
	h.sm.Systemctl("enable", "--now", "supervisor.service")
	t.Cleanup(h.stopSupervisords)
	var pid int
	if !h.waitUntil(60*time.Second, func() bool {
		r := h.supervisorctl("pid")
		pid, _ = strconv.Atoi(strings.TrimSpace(r.stdout))
		return r.code == 0
	}) {
		t.Fatalf("supervisord did not answer:\n%s", h.sm.Journal("--user-unit", "supervisor.service"))
	}
	h.firstSupervisord = pid
	return h
}

// prepareMigHost starts the manager and writes the config.
func prepareMigHost(t testing.TB, sections string, env []string) *migHost {
	t.Helper()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	h := &migHost{t: t, exe: exe, supervisordEnvironment: env}
	h.sm = sdtest.Start(t, sdtest.Options{})
	h.dir = shortTempDir(t)
	h.conf = writeConf(t, h.dir, sections)
	h.state = filepath.Join(h.dir, "state", "migrate.json")
	h.bin = filepath.Join(h.dir, "bin")
	if err := os.Mkdir(h.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// stopSupervisords stops every supervisord of the host, the first one
// and one a rollback started (named by the pid file), by pid.
func (h *migHost) stopSupervisords() {
	pids := []int{h.firstSupervisord}
	if data, err := os.ReadFile(filepath.Join(h.dir, "supervisord.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid != h.firstSupervisord {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if !isSupervisord(pid) {
			continue
		}
		syscall.Kill(pid, syscall.SIGTERM)
		if !h.waitUntil(30*time.Second, func() bool { return !isSupervisord(pid) }) {
			syscall.Kill(pid, syscall.SIGKILL)
			h.t.Errorf("supervisord %d did not stop on SIGTERM; killed it", pid)
		}
	}
}

// isSupervisord reports whether pid is a live supervisord.
func isSupervisord(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.Contains(string(cmdline), "supervisord")
}

func (h *migHost) waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// supervisorctl runs the real supervisorctl on the host's config.
func (h *migHost) supervisorctl(args ...string) ctlResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", h.conf}, args...)...)
	c.Dir = h.dir
	return runCmd(c, args)
}

// migrate runs supersede migrate --user in the manager's namespace.
func (h *migHost) migrate(env []string, args ...string) ctlResult {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"migrate", "--user", "-c", h.conf, "--state", h.state, "--link-dir", h.bin}, args...)
	cmd := h.sm.Command(ctx, h.exe, args...)
	cmd.Env = append(cmd.Env, env...)
	r := runCmd(cmd, args)
	if testing.Verbose() {
		h.t.Logf("%s", r)
	}
	return r
}

// waitSupervisord waits until supervisord shows each name in state.
func (h *migHost) waitSupervisord(state string, names ...string) {
	h.t.Helper()
	var last ctlResult
	if !h.waitUntil(30*time.Second, func() bool {
		last = h.supervisorctl("status")
		for _, n := range names {
			if st, _ := stateOf(last.stdout, n); st != state {
				return false
			}
		}
		return true
	}) {
		h.t.Fatalf("supervisord: %v not all %s after 30 s:\n%s", names, state, last)
	}
}

// unitState is a unit's ActiveState in the manager.
func (h *migHost) unitState(unit string) string {
	out, err := h.sm.TrySystemctl("show", unit, "-p", "ActiveState", "--value")
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(out)
}

// unitFiles lists the files in the manager's unit directory, without the
// .wants directories.
func (h *migHost) unitFiles() []string {
	entries, err := os.ReadDir(h.sm.UnitDir)
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// supervisordUp reports whether a supervisord answers on the host: not
// supersede serve, which answers at the same socket after a migration
// (its pid is the manager's).
func (h *migHost) supervisordUp() bool {
	r := h.supervisorctl("pid")
	pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	return r.code == 0 && err == nil && isSupervisord(pid)
}

// exactlyOne checks that every program of running runs under exactly
// one supervisor, and that each of stopped runs under none; it returns
// "systemd" or "supervisord" when all of them run under the same one.
func (h *migHost) exactlyOne(units map[string]string, running []string, stopped []string) string {
	h.t.Helper()
	up := h.supervisordUp()
	var status string
	if up {
		status = h.supervisorctl("status").stdout
	}
	where := map[string]int{}
	for _, name := range running {
		sv := false
		if up {
			st, _ := stateOf(status, name)
			sv = st == "RUNNING" || st == "STARTING"
		}
		sd := h.unitState(units[name]) == "active" || h.unitState(units[name]) == "activating"
		switch {
		case sv && sd:
			h.t.Errorf("%s runs under both supervisord and systemd", name)
		case !sv && !sd:
			h.t.Errorf("%s runs under neither supervisord nor systemd (supervisord up: %v)\n%s", name, up, status)
		case sv:
			where["supervisord"]++
		default:
			where["systemd"]++
		}
	}
	for _, name := range stopped {
		if up {
			if st, _ := stateOf(status, name); st == "RUNNING" || st == "STARTING" {
				h.t.Errorf("%s was stopped, and runs under supervisord:\n%s", name, status)
			}
		}
		if s := h.unitState(units[name]); s == "active" || s == "activating" {
			h.t.Errorf("%s was stopped, and its unit is %s", name, s)
		}
	}
	if len(where) == 1 {
		for k := range where {
			return k
		}
	}
	return fmt.Sprint(where)
}

const migratePrograms = `[program:db]
command=/bin/sleep 1000
priority=100
startsecs=1
stopwaitsecs=2

[group:web]
programs=web1,web2
priority=200

[program:web1]
command=/bin/sleep 1001
startsecs=1
stopwaitsecs=2

[program:web2]
command=/bin/sleep 1002
startsecs=0
priority=300
stopwaitsecs=2

[program:worker]
command=/bin/sleep 1003
process_name=%(program_name)s_%(process_num)02d
numprocs=2
priority=300
startsecs=1
stopwaitsecs=2

[program:manual]
command=/bin/sleep 1004
autostart=false
startsecs=0

[program:halted]
command=/bin/sleep 1005
startsecs=0
`

var (
	migRunning = []string{"db", "web:web1", "web:web2", "worker:worker_00", "worker:worker_01"}
	migStopped = []string{"manual", "halted"}
	migUnits   = map[string]string{
		"db": "db.service", "web:web1": "web@web1.service", "web:web2": "web@web2.service",
		"worker:worker_00": "worker@worker_00.service", "worker:worker_01": "worker@worker_01.service",
		"manual": "manual.service", "halted": "halted.service",
	}
	downRE = regexp.MustCompile(`(?m)^(\S+): RUNNING under systemd \(pid \d+\): down (\d+\.\d+) s \(stop (\d+\.\d+) s, then spawned\), RUNNING (\d+\.\d+) s after the stop began \(startsecs (\d+\.\d+) s\)$`)
)

// TestMigrate migrates a host with several groups, priorities, a
// numprocs program and stopped programs to systemd and back: --plan
// changes nothing; migrate leaves every program that ran RUNNING under
// systemd, each downtime printed, the stopped ones stopped, supervisord
// gone and supervisorctl linked; --rollback restores supervisord running
// every program it ran, and removes every file migrate wrote.
func TestMigrate(t *testing.T) {
	t.Parallel()
	h := newMigHost(t, migratePrograms)
	h.waitSupervisord("RUNNING", append(migRunning, "halted")...)
	if r := h.supervisorctl("stop", "halted"); r.code != 0 {
		t.Fatalf("%s", r)
	}

	plan := h.migrate(nil, "--plan")
	if plan.code != 0 {
		t.Fatalf("--plan failed:\n%s", plan)
	}
	for _, want := range []string{
		"group db (priority 100)", "group web (priority 200)", "group worker (priority 300)",
		"web:web1: RUNNING -> web@web1.service: stopped by supervisord (stop signal TERM",
		"worker:worker_01: RUNNING -> worker@worker_01.service",
		"halted: STOPPED -> halted.service: stays stopped",
		"manual: STOPPED -> manual.service: stays stopped",
		"nothing was changed (--plan)",
	} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("--plan does not say %q:\n%s", want, plan)
		}
	}
	if files := h.unitFiles(); len(files) > 0 {
		t.Errorf("--plan wrote %v", files)
	}
	if _, err := os.Stat(h.state); !os.IsNotExist(err) {
		t.Errorf("--plan wrote the state file (%v)", err)
	}

	r := h.migrate(nil)
	if r.code != 0 {
		t.Fatalf("migrate failed:\n%s\nsupervisord:\n%s", r, h.supervisordOut)
	}
	if where := h.exactlyOne(migUnits, migRunning, migStopped); where != "systemd" {
		t.Errorf("after migrate the programs run under %s, want systemd", where)
	}
	if isSupervisord(h.firstSupervisord) {
		t.Errorf("supervisord (pid %d) still runs after migrate", h.firstSupervisord)
	}
	measured := map[string]bool{}
	for _, m := range downRE.FindAllStringSubmatch(r.stdout, -1) {
		measured[m[1]] = true
		down, _ := strconv.ParseFloat(m[2], 64)
		stop, _ := strconv.ParseFloat(m[3], 64)
		running, _ := strconv.ParseFloat(m[4], 64)
		startsecs, _ := strconv.ParseFloat(m[5], 64)
		// the downtime is the stop plus the spawn: within the stop and
		// startsecs, with room for a loaded machine (a bound that
		// catches a program started only after a hang)
		if down < stop || down > stop+startsecs+20 || running < startsecs {
			t.Errorf("%s: implausible times (down %v, stop %v, RUNNING after %v, startsecs %v)", m[1], down, stop, running, startsecs)
		}
	}
	for _, name := range migRunning {
		if !measured[name] {
			t.Errorf("migrate printed no downtime for %s:\n%s", name, r.stdout)
		}
	}
	for _, name := range migStopped {
		if !strings.Contains(r.stdout, name+": STOPPED under supervisord: stays stopped under systemd") {
			t.Errorf("migrate does not say %s stays stopped:\n%s", name, r.stdout)
		}
	}
	if target, err := os.Readlink(filepath.Join(h.bin, "supervisorctl")); err != nil || target != h.exe {
		t.Errorf("supervisorctl is not linked to %s: %q, %v", h.exe, target, err)
	}
	if s := h.unitState("supersede.target"); s == "active" {
		t.Errorf("supersede.target was started (it would start the stopped autostart program)")
	}
	if _, err := os.Stat(filepath.Join(h.sm.UnitDir, "default.target.wants", "supersede.target")); err != nil {
		t.Errorf("supersede.target is not enabled for the next boot: %v", err)
	}
	// the real supervisorctl reaches the units at supervisord's socket
	// (supersede-serve.socket)
	st := h.supervisorctl("status", "db", "manual")
	if s, _ := stateOf(st.stdout, "db"); s != "RUNNING" {
		t.Errorf("supervisorctl status through the serve socket:\n%s", st)
	}
	if s, _ := stateOf(st.stdout, "manual"); s != "STOPPED" {
		t.Errorf("supervisorctl status through the serve socket:\n%s", st)
	}

	if again := h.migrate(nil); again.code != 0 || !strings.Contains(again.stdout, "was migrated already") {
		t.Errorf("migrate after a migration:\n%s", again)
	}

	back := h.migrate(nil, "--rollback")
	if back.code != 0 {
		t.Fatalf("--rollback failed:\n%s", back)
	}
	if where := h.exactlyOne(migUnits, migRunning, migStopped); where != "supervisord" {
		t.Errorf("after --rollback the programs run under %s, want supervisord", where)
	}
	h.waitSupervisord("RUNNING", migRunning...)
	h.waitSupervisord("STOPPED", migStopped...)
	if files := h.unitFiles(); len(files) > 0 {
		t.Errorf("--rollback left unit files %v", files)
	}
	if _, err := os.Lstat(filepath.Join(h.bin, "supervisorctl")); !os.IsNotExist(err) {
		t.Errorf("--rollback left the supervisorctl link (%v)", err)
	}
	if _, err := os.Stat(h.state); !os.IsNotExist(err) {
		t.Errorf("--rollback left the state file (%v)", err)
	}
}

const migrateFailing = `[program:early]
command=/bin/sleep 1010
priority=1
startsecs=0

[program:needsenv]
command=/bin/sh -c 'if [ -z "$MIGRATE_TEST_TOKEN" ]; then echo "MIGRATE_TEST_TOKEN is not set" >&2; exit 3; fi; exec /bin/sleep 1011'
priority=2
startsecs=1
startretries=0

[group:late]
programs=late1
priority=3

[program:late1]
command=/bin/sleep 1012
startsecs=0
`

// TestMigrateFailingGroupGoesBack migrates a host where one program
// works under supervisord (whose environment it needs) and not under its
// unit: its group goes back to supervisord, RUNNING, the migration stops
// there with exit 1 and the reason, the group before it stays moved, the
// one after it is not touched; --rollback then moves everything back.
func TestMigrateFailingGroupGoesBack(t *testing.T) {
	t.Parallel()
	h := newMigHost(t, migrateFailing, "MIGRATE_TEST_TOKEN=1")
	h.waitSupervisord("RUNNING", "early", "needsenv", "late:late1")
	units := map[string]string{"early": "early.service", "needsenv": "needsenv.service", "late:late1": "late@late1.service"}

	// Another user's process with the program's syslog identifier
	// writes to the journal meanwhile: not the program's output, which
	// migrate must not show as such (under a user manager it takes only
	// this user's lines).
	decoyCtx, stopDecoy := context.WithCancel(context.Background())
	decoyDone := make(chan struct{})
	go func() {
		defer close(decoyDone)
		for decoyCtx.Err() == nil {
			cmd := h.sm.Command(decoyCtx, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				"systemd-cat", "-t", "needsenv", "echo", "DECOY of another user")
			cmd.Run()
			select {
			case <-decoyCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	r := h.migrate(nil)
	stopDecoy()
	<-decoyDone
	if r.code != 1 {
		t.Fatalf("migrate exited %d, want 1:\n%s", r.code, r)
	}
	if strings.Contains(r.stdout, "DECOY") {
		t.Errorf("migrate shows another user's journal lines as the program's output:\n%s", r)
	}
	if out := h.sm.Journal("-t", "needsenv", "_UID=65534"); !strings.Contains(out, "DECOY") {
		t.Errorf("the decoy lines did not reach the journal, so the test shows nothing: %q", out)
	}
	for _, want := range []string{
		"needsenv: did not reach RUNNING under systemd",
		// the unit as it was when migrate gave up: failed by its exit
		// status, or already in the restart that follows (activating,
		// whose start resets the result to success), as the manager's
		// timing has it
		"(unit needsenv.service: ", ", result ",
		"| MIGRATE_TEST_TOKEN is not set",
		"group needsenv is RUNNING under supervisord again",
		"run supersede migrate --user -c " + h.conf + " again to go on from group needsenv",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("migrate does not say %q:\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "group needsenv did not start under systemd (needsenv): moved back to supervisord") {
		t.Errorf("migrate's error does not name the group:\n%s", r)
	}
	h.waitSupervisord("RUNNING", "needsenv", "late:late1")
	if s := h.unitState("needsenv.service"); s == "active" || s == "activating" {
		t.Errorf("needsenv.service is %s after the group went back", s)
	}
	if _, err := os.Stat(filepath.Join(h.sm.UnitDir, "needsenv.service")); !os.IsNotExist(err) {
		t.Errorf("needsenv.service was not removed (%v)", err)
	}
	if s := h.unitState("early.service"); s != "active" {
		t.Errorf("early.service is %s: the group moved before the failure should stay moved", s)
	}
	h.exactlyOne(units, []string{"early", "needsenv", "late:late1"}, nil)

	back := h.migrate(nil, "--rollback")
	if back.code != 0 {
		t.Fatalf("--rollback failed:\n%s", back)
	}
	if where := h.exactlyOne(units, []string{"early", "needsenv", "late:late1"}, nil); where != "supervisord" {
		t.Errorf("after --rollback the programs run under %s, want supervisord", where)
	}
	if files := h.unitFiles(); len(files) > 0 {
		t.Errorf("--rollback left unit files %v", files)
	}
}

const migrateSmall = `[program:one]
command=/bin/sleep 1020
startsecs=0
stopwaitsecs=2

[program:pool]
command=/bin/sleep 1021
process_name=%(program_name)s_%(process_num)d
numprocs=2
priority=500
startsecs=0
stopwaitsecs=2
`

// TestMigrateInterrupted kills migrate after each of its steps (the
// state file records each step before it is taken) and then runs it
// again, or --rollback: either way every program ends running under
// exactly one supervisor, all of them under the one asked for.
func TestMigrateInterrupted(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	running := []string{"one", "pool:pool_0", "pool:pool_1"}
	units := map[string]string{"one": "one.service", "pool:pool_0": "pool@pool_0.service", "pool:pool_1": "pool@pool_1.service"}
	// two groups: units, stop, start each; then host, shutdown,
	// disable, enable, link, done
	const steps = 11
	// four hosts at a time, whatever -parallel says: each mostly waits
	// (for supervisord's loop, for the manager)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	defer wg.Wait()
	for n := 1; n <= steps; n++ {
		how := "resume"
		if n%2 == 0 {
			how = "rollback"
		}
		wg.Add(1)
		sem <- struct{}{}
		go t.Run(fmt.Sprintf("kill-after-%d-%s", n, how), func(t *testing.T) {
			defer func() { <-sem; wg.Done() }()
			h := newMigHost(t, migrateSmall)
			h.waitSupervisord("RUNNING", running...)
			r := h.migrate([]string{"SUPERSEDE_MIGRATE_CRASH_AFTER=" + strconv.Itoa(n)})
			if r.code != -1 && r.code != 137 && !strings.Contains(r.stderr, "killed") {
				t.Fatalf("migrate was not killed after step %d:\n%s", n, r)
			}
			var st struct {
				Steps []struct {
					Op   string
					Done bool
				}
			}
			data, err := os.ReadFile(h.state)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if last := st.Steps[len(st.Steps)-1]; last.Done {
				t.Errorf("the last step recorded (%s) is marked done: killed after it was taken, it should not be", last.Op)
			}
			want := "systemd"
			args := []string{}
			if how == "rollback" {
				want, args = "supervisord", []string{"--rollback"}
			}
			r = h.migrate(nil, args...)
			if r.code != 0 {
				t.Fatalf("%s after a kill after step %d failed:\n%s", how, n, r)
			}
			if where := h.exactlyOne(units, running, nil); where != want {
				t.Errorf("after a kill after step %d and %s, the programs run under %s, want %s", n, how, where, want)
			}
		})
	}
}

// TestMigrateSupervisorService migrates a host whose supervisord was
// started by an enabled supervisor.service: migrate stops it through the
// unit and disables it, so that it does not come back at boot; --rollback
// enables it again and starts it, running the programs as before.
func TestMigrateSupervisorService(t *testing.T) {
	t.Parallel()
	h := newMigHostUnit(t, migrateSmall)
	running := []string{"one", "pool:pool_0", "pool:pool_1"}
	units := map[string]string{"one": "one.service", "pool:pool_0": "pool@pool_0.service", "pool:pool_1": "pool@pool_1.service"}
	h.waitSupervisord("RUNNING", running...)
	r := h.migrate(nil)
	if r.code != 0 {
		t.Fatalf("migrate failed:\n%s", r)
	}
	for _, want := range []string{"started by supervisor.service (user manager)", "disabled supervisor.service (user manager)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("migrate does not say %q:\n%s", want, r)
		}
	}
	props := h.sm.Show("supervisor.service", "ActiveState", "UnitFileState")
	if props["ActiveState"] != "inactive" || props["UnitFileState"] != "disabled" {
		t.Errorf("supervisor.service after migrate: %v, want inactive and disabled", props)
	}
	if where := h.exactlyOne(units, running, nil); where != "systemd" {
		t.Errorf("after migrate the programs run under %s, want systemd", where)
	}
	back := h.migrate(nil, "--rollback")
	if back.code != 0 {
		t.Fatalf("--rollback failed:\n%s", back)
	}
	props = h.sm.Show("supervisor.service", "ActiveState", "UnitFileState")
	if props["ActiveState"] != "active" || props["UnitFileState"] != "enabled" {
		t.Errorf("supervisor.service after --rollback: %v, want active and enabled", props)
	}
	if where := h.exactlyOne(units, running, nil); where != "supervisord" {
		t.Errorf("after --rollback the programs run under %s, want supervisord", where)
	}
}
