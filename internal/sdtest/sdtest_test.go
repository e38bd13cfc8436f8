package sdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wait bounds every wait for the manager in these tests; a healthy one
// needs a fraction of a second.
const wait = 30 * time.Second

func TestParseShow(t *testing.T) {
	got := parseShow("MainPID=42\nExecStart={ path=/bin/sh ; argv[]=/bin/sh -c a=b }\nEmpty=\n")
	want := map[string]string{"MainPID": "42", "ExecStart": "{ path=/bin/sh ; argv[]=/bin/sh -c a=b }", "Empty": ""}
	if len(got) != len(want) {
		t.Fatalf("parseShow = %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("parseShow: %s = %q, want %q", k, got[k], v)
		}
	}
}

// A Restart=always service killed with SIGKILL comes back once, and what
// it wrote to stdout and stderr is in the private journal.
func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	m := Start(t, Options{})
	m.WriteUnit("sdtest-restart.service", `[Service]
ExecStart=/bin/sh -c 'echo "out $$$$"; echo "err $$$$" >&2; exec sleep 1000'
Restart=always
RestartSec=100ms
`)
	m.DaemonReload()
	m.Systemctl("start", "sdtest-restart.service")
	m.WaitFor("sdtest-restart.service", "ActiveState", "active", wait)
	first := m.Show("sdtest-restart.service", "MainPID", "NRestarts")
	if first["NRestarts"] != "0" {
		t.Fatalf("NRestarts = %s before any kill, want 0", first["NRestarts"])
	}
	pid, err := strconv.Atoi(first["MainPID"])
	if err != nil || pid <= 0 {
		t.Fatalf("MainPID = %q", first["MainPID"])
	}
	// Type=simple is active once forked: wait until the shell has written
	// its lines before killing it.
	waitJournal(t, m, "sdtest-restart.service", "out "+first["MainPID"], "err "+first["MainPID"])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.WaitFor("sdtest-restart.service", "NRestarts", "1", wait)
	m.WaitFor("sdtest-restart.service", "ActiveState", "active", wait)
	second := m.Show("sdtest-restart.service", "MainPID")
	if second["MainPID"] == first["MainPID"] || second["MainPID"] == "0" {
		t.Errorf("MainPID = %s after the restart, was %s", second["MainPID"], first["MainPID"])
	}
	waitJournal(t, m, "sdtest-restart.service", "out "+second["MainPID"], "err "+second["MainPID"])
}

// waitJournal waits until the private journal holds each of lines among
// unit's stdout and stderr lines.
func waitJournal(t *testing.T, m *Manager, unit string, lines ...string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := m.Journal("--user-unit", unit, "-o", "cat")
		missing := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.Contains(got, l+"\n") })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal of %s lacks %q:\n%s", unit, missing, got)
		}
		time.Sleep(pollInterval)
	}
}

// Teardown leaves no process (not even one that KillMode=process leaves
// behind), no cgroup, no mount namespace and no directory; nothing of the
// manager appears under the host's /run.
func TestTeardownLeavesNothing(t *testing.T) {
	t.Parallel()
	m := Start(t, Options{})
	if _, err := os.Stat(filepath.Join(m.RuntimeDir, "systemd", "private")); err != nil {
		t.Errorf("private socket: %v", err)
	}
	m.WriteUnit("sdtest-stray.service", `[Service]
ExecStart=/bin/sh -c 'sleep 1000 & echo "$$!" >stray.pid; exec sleep 1000'
WorkingDirectory=`+m.Base+`
KillMode=process
`)
	m.DaemonReload()
	m.Systemctl("start", "sdtest-stray.service")
	m.WaitFor("sdtest-stray.service", "ActiveState", "active", wait)
	var stray int
	deadline := time.Now().Add(wait)
	for {
		data, err := os.ReadFile(filepath.Join(m.Base, "stray.pid"))
		if stray, _ = strconv.Atoi(strings.TrimSpace(string(data))); err == nil && stray > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stray.pid: %v", err)
		}
		time.Sleep(pollInterval)
	}
	// The namespace's /run is private: the host has no /run/systemd/system
	// and no journal socket of this manager (unless someone else made them).
	for _, p := range []string{"/run/systemd/system", "/run/systemd/journal/stdout"} {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(m.PID), "root", p)); err != nil {
			t.Errorf("inside the namespace: %v", err)
		}
	}

	pids := inMountNS(m.MountNS) // the manager, journald, dbus-daemon, the service, the stray...
	for _, pid := range []int{m.PID, m.JournaldPID, stray} {
		if !slices.Contains(pids, pid) {
			t.Errorf("process %d is not in the mount namespace %s (%v)", pid, m.MountNS, pids)
		}
	}
	cgroups, base := m.Cgroups, m.Base

	start := time.Now()
	if err := m.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("teardown with a stray process took %v", time.Since(start))

	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d survived the teardown", pid)
		}
	}
	for _, cg := range cgroups {
		if _, err := os.Stat(cg); err == nil {
			t.Errorf("cgroup %s survived the teardown", cg)
		}
	}
	if _, err := os.Stat(base); err == nil {
		t.Errorf("%s survived the teardown", base)
	}
	if err := m.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// Stop reports a command the test left running in the namespace.
func TestStopReportsStrayCommand(t *testing.T) {
	t.Parallel()
	m := Start(t, Options{})
	cmd := m.Command(t.Context(), "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	// nsenter enters the namespace after it was started.
	deadline := time.Now().Add(wait)
	for {
		if ns, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "ns/mnt")); ns == m.MountNS {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command did not enter the namespace")
		}
		time.Sleep(pollInterval)
	}
	err := m.Stop()
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("Stop = %v, want an error naming the stray command %d", err, cmd.Process.Pid)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// Two managers run side by side, each with its own units, cgroup and
// journal, and a generator installed in one of them runs there.
func TestParallelManagersAndGenerator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gen := filepath.Join(dir, "sdtest-gen")
	if err := os.WriteFile(gen, []byte(`#!/bin/sh
printf '[Service]\nExecStart=/bin/sh -c "echo generated-by-$SDTEST_MARK; exec sleep 1000"\n' >"$1/sdtest-gen.service"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	a := Start(t, Options{Generator: gen, Env: []string{"SDTEST_MARK=a"}})
	b := Start(t, Options{})
	if a.Cgroups[0] == b.Cgroups[0] || a.MountNS == b.MountNS || a.Base == b.Base {
		t.Fatalf("managers share a cgroup, namespace or directory: %v %s %s / %v %s %s", a.Cgroups, a.MountNS, a.Base, b.Cgroups, b.MountNS, b.Base)
	}
	if got := a.Show("sdtest-gen.service", "UnitFileState")["UnitFileState"]; got != "generated" {
		t.Errorf("generated unit: UnitFileState = %q, want generated", got)
	}
	if got := b.Show("sdtest-gen.service", "LoadState")["LoadState"]; got != "not-found" {
		t.Errorf("the generator ran in the other manager too: LoadState = %q", got)
	}
	a.Systemctl("start", "sdtest-gen.service")
	a.WaitFor("sdtest-gen.service", "ActiveState", "active", wait)
	deadline := time.Now().Add(wait)
	for !strings.Contains(a.Journal("--user-unit", "sdtest-gen.service", "-o", "cat"), "generated-by-a\n") {
		if time.Now().After(deadline) {
			t.Fatalf("journal lacks the generated service's line:\n%s", a.Journal("-o", "cat"))
		}
		time.Sleep(pollInterval)
	}
	if got := b.Journal("--user-unit", "sdtest-gen.service", "-o", "cat"); got != "" {
		t.Errorf("the other manager's journal has the line: %q", got)
	}
}

// A client with Env() reaches the manager over the session bus when the
// host has one, and the namespace's /run is what Command sees.
func TestEnvAndCommand(t *testing.T) {
	t.Parallel()
	m := Start(t, Options{})
	out, err := m.Command(t.Context(), "sh", "-c", "test -d /run/systemd/system && echo $XDG_RUNTIME_DIR && pwd").Output()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := m.RuntimeDir + "\n" + wd + "\n"; string(out) != want {
		t.Errorf("Command output %q, want %q", out, want)
	}
	if m.BusAddress == "" {
		t.Skip("no session bus daemon (dbus-daemon) on this host; clients use PrivateSocket")
	}
	out, err = m.Command(t.Context(), "busctl", "--user", "get-property", "org.freedesktop.systemd1",
		"/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "Version").Output()
	if err != nil {
		t.Fatalf("busctl over %s: %v", m.BusAddress, err)
	}
	if !strings.HasPrefix(string(out), `s "`) {
		t.Errorf("Version over the bus = %q", out)
	}
}

// BenchmarkStartStop measures starting a manager with its journald and
// tearing both down.
func BenchmarkStartStop(b *testing.B) {
	for b.Loop() {
		m := Start(b, Options{})
		if err := m.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// A cgroup left under the name this process gives its next manager (by
// a killed test process that had the same PID) does not keep that
// manager from starting: it is empty, so it is removed first. Not
// parallel: the name comes from a counter the other tests move on.
func TestStartOverLeftoverCgroup(t *testing.T) {
	h := probe()
	var made []string
	if h.missing == "" {
		name := fmt.Sprintf("sdtest_%d_%d.slice", os.Getpid(), managerCount.Load()+1)
		for _, hr := range h.hierarchies {
			d := filepath.Join(hr, name, "journald.scope")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			made = append(made, filepath.Dir(d))
		}
	}
	m := Start(t, Options{}) // skips or fails as every test here where systemd is missing
	if !slices.Equal(m.Cgroups, made) {
		t.Errorf("the manager's cgroups are %v, want the leftover's names %v", m.Cgroups, made)
	}
}
