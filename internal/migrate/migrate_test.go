package migrate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// The parts of migrate that need no supervisord and no systemd; the
// migration itself is tested on both, in cmd/supersede
// (migrate_systemd_test.go).

func TestServiceOf(t *testing.T) {
	for _, c := range []struct{ cgroup, unit, scope string }{
		{"/system.slice/supervisor.service", "supervisor.service", "system"},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/supervisor.service", "supervisor.service", "user"},
		{"/sdtest_1_2.slice/user@0.service/app.slice/supervisor.service", "supervisor.service", "user"},
		{"/user.slice/user-1000.slice/session-3.scope", "", ""},
		{"/user.slice/user-1000.slice/user@1000.service", "", ""}, // the manager itself
		{"/", "", ""},
		{"", "", ""},
	} {
		unit, scope := serviceOf(c.cgroup)
		if unit != c.unit || scope != c.scope {
			t.Errorf("serviceOf(%q) = %q, %q; want %q, %q", c.cgroup, unit, scope, c.unit, c.scope)
		}
	}
}

func TestCgroupPath(t *testing.T) {
	unified := "0::/system.slice/supervisor.service\n"
	hybrid := "12:cpu,cpuacct:/system.slice\n1:name=systemd:/system.slice/supervisor.service\n0::/system.slice/supervisor.service\n"
	legacy := "4:memory:/system.slice/x\n1:name=systemd:/system.slice/supervisor.service\n"
	for _, data := range []string{unified, hybrid, legacy} {
		if got := cgroupPath([]byte(data)); got != "/system.slice/supervisor.service" {
			t.Errorf("cgroupPath(%q) = %q", data, got)
		}
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	if st, err := loadState(path); st != nil || err != nil {
		t.Fatalf("no file: %v, %v", st, err)
	}
	st := &State{Version: stateVersion, Config: "/etc/supervisor/supervisord.conf", Scope: "system",
		Before: map[string]string{"web": "RUNNING"}, path: path,
		Supervisord: Daemon{PID: 42, Argv: []string{"/usr/bin/supervisord", "-n"}, Env: []string{"SECRET=x"}}}
	st.Steps = append(st.Steps, Step{Op: opUnits, Group: "web"}, Step{Op: opStop, Group: "web", Done: true}, Step{Op: opHost})
	st.record(File{Path: "/x/web.service", Group: "web", Created: true})
	st.record(File{Path: "/x/web.service", Group: "web", Old: []byte("old")}) // recorded already: kept as it was
	st.record(File{Path: "/x/other.service", Group: "other", Old: []byte("old\n")})
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600: it holds supervisord's environment", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left beside the state file: %v", entries)
	}
	got, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.begun(opUnits, "web") || got.done(opUnits, "web") || !got.done(opStop, "web") || got.begun(opStart, "web") || !got.begun(opHost, "") {
		t.Errorf("steps did not survive the round trip: %+v", got.Steps)
	}
	if len(got.Files) != 2 || !got.Files[0].Created || string(got.Files[1].Old) != "old\n" {
		t.Errorf("files: %+v", got.Files)
	}
	got.forgetGroup("web")
	if got.begun(opStop, "web") || !got.begun(opHost, "") || len(got.Files) != 1 || got.Files[0].Group != "other" {
		t.Errorf("forgetGroup(web) left %+v, %+v", got.Steps, got.Files)
	}
	if err := got.remove(); err != nil {
		t.Fatal(err)
	}
	if err := got.remove(); err != nil {
		t.Errorf("removing a removed state file: %v", err)
	}

	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(path); err == nil || !strings.Contains(err.Error(), "not a migration state file") {
		t.Errorf("a foreign file: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"version": 99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(path); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("another version: %v", err)
	}
}

func loadConfig(t *testing.T, text string) *translate.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte("[supervisord]\nlogfile="+dir+"/l\npidfile="+dir+"/p\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(path, translate.Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const groupsConf = `[program:db]
command=/bin/sleep 1
priority=1

[group:web]
programs=a,b

[program:a]
command=/bin/sleep 2

[program:b]
command=/bin/sleep 3

[program:pool]
command=/bin/sleep 4
process_name=%(program_name)s_%(process_num)d
numprocs=2

[fcgi-program:f]
command=/bin/sleep 5
socket=tcp://127.0.0.1:9999
`

func TestSameProcesses(t *testing.T) {
	cfg := loadConfig(t, groupsConf)
	live := map[string]status.State{"db": status.Running, "web:a": status.Running, "web:b": status.Stopped,
		"pool:pool_0": status.Running, "pool:pool_1": status.Running, "f": status.Running}
	if err := sameProcesses(cfg, live); err != nil {
		t.Errorf("the same processes: %v", err)
	}
	delete(live, "web:b")
	live["old"] = status.Running
	err := sameProcesses(cfg, live)
	if err == nil || !strings.Contains(err.Error(), "not in supervisord: web:b;") || !strings.Contains(err.Error(), "not in the file: old;") || !strings.Contains(err.Error(), "supervisorctl reread and update") {
		t.Errorf("different processes: %v", err)
	}
}

func TestUnitsOf(t *testing.T) {
	cfg := loadConfig(t, "[unix_http_server]\nfile=/tmp/x.sock\n"+groupsConf)
	res, err := unitgen.Generate(cfg, unitgen.Options{User: true, Environ: []string{"PATH=/usr/bin:/bin"}, Serve: "/usr/bin/supersede"})
	if err != nil {
		t.Fatal(err)
	}
	byGroup, host := unitsOf(cfg, res, "")
	names := func(us []unitgen.Unit) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.Name)
		}
		slices.Sort(out)
		return out
	}
	want := map[string][]string{
		"db":   {"db.service"},
		"web":  {"web.target", "web@a.service", "web@b.service"},
		"pool": {"pool.target", "pool@pool_0.service", "pool@pool_1.service"},
		"f":    {"f.service", "f.socket"},
	}
	for g, w := range want {
		if got := names(byGroup[g]); !slices.Equal(got, w) {
			t.Errorf("group %s: units %v, want %v", g, got, w)
		}
	}
	if got := names(host); !slices.Equal(got, []string{"supersede-serve.service", "supersede-serve.socket", "supersede.target"}) {
		t.Errorf("the host's units: %v", got)
	}
}

func TestProcessesOfAndGroups(t *testing.T) {
	m := &migration{st: &State{Before: map[string]string{"db": "RUNNING", "web:a": "RUNNING", "web:b": "STOPPED", "webx": "RUNNING"}}}
	if got := m.processesOf("web"); !slices.Equal(got, []string{"web:a", "web:b"}) {
		t.Errorf("processesOf(web) = %v", got)
	}
	if got := m.processesOf("db"); !slices.Equal(got, []string{"db"}) {
		t.Errorf("processesOf(db) = %v", got)
	}
	m.st.Steps = []Step{{Op: opUnits, Group: "db"}, {Op: opStop, Group: "db"}, {Op: opUnits, Group: "web"}, {Op: opHost}}
	if got := m.st.groups(); !slices.Equal(got, []string{"db", "web"}) {
		t.Errorf("groups() = %v", got)
	}
	if got := m.movedGroups(); !slices.Equal(got, []string{"db"}) {
		t.Errorf("movedGroups() = %v: web's units were written, it was not stopped yet", got)
	}
}
