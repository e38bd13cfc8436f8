package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// transcript records the commands of a session on one world.
type transcript struct {
	t  *testing.T
	w  *world
	sm *sdtest.Manager // on systemd, else nil
	b  strings.Builder
}

func (s *transcript) do(args ...string) ctlResult {
	r := s.w.ctl(args...)
	r.stdout = orderFree(args, r.stdout)
	if testing.Verbose() {
		s.t.Logf("%s: %s", s.w.name, r)
	}
	s.b.WriteString(r.String())
	return r
}

// sideBySideConf runs session on the real supervisord and on units on
// systemd, each on its own copy of the configuration sections (and of
// files, more files by their path in the config's directory), and
// compares the transcripts.
func sideBySideConf(t *testing.T, sections string, files map[string]string, session func(s *transcript, conf string), listed ...func(string) string) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	write := func(t *testing.T, dir string) string {
		for name, text := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return writeConf(t, dir, sections)
	}
	sideBySide(t, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := write(t, dir)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		s := &transcript{t: t, w: w}
		session(s, conf)
		return s.b.String()
	}, func(t *testing.T) string {
		conf := write(t, shortTempDir(t))
		w, sm := systemdWorld(t, conf)
		s := &transcript{t: t, w: w, sm: sm}
		session(s, conf)
		out := s.b.String()
		for _, f := range listed { // the README's listed differences
			out = f(out)
		}
		return out
	})
}

// Gap 4 of issue 10: a process stopped while it waits to be retried
// (BACKOFF) is STOPPED, not FATAL.
func TestCtlStopBackoffOnSystemd(t *testing.T) {
	sideBySideConf(t, `[program:crash]
command=/bin/sh -c "exit 1"
startsecs=1
startretries=1000
`, nil, func(s *transcript, conf string) {
		s.w.waitState(s.t, "crash", "BACKOFF", 0)
		s.do("stop", "crash")
		s.do("status", "crash")
		s.do("stop", "crash")
	}, stoppedInBackoff)
}

// stoppedInBackoff is the one listed difference of a stop in BACKOFF
// (README, ctl): the units' status shows "Not started" where supervisord
// shows the time the program last stopped, when the stop came while the
// compatibility step waited (systemd clears the unit's exec status as a
// start begins). The state, STOPPED, must be equal.
func stoppedInBackoff(s string) string {
	return stoppedNotStarted.ReplaceAllString(s, "${1}Jan 01 12:00 AM") // any date: normalise makes it DATE
}

var stoppedNotStarted = regexp.MustCompile(`(?m)^(crash +STOPPED +)Not started$`)

// children is the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parens
		rest := string(data[bytes.LastIndexByte(data, ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// tailTerm starts cmd (a tail -f), waits for want in its output, sends
// it SIGTERM and returns what it printed, how it ended, and the
// children it had before the signal.
func tailTerm(t *testing.T, cmd *exec.Cmd, want string) (stdout, stderr string, ps *os.ProcessState, kids []int) {
	t.Helper()
	var o, e fallbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(o.String(), want) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("%s: no %q after 30s:\n%s%s", cmd, want, o.String(), e.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	kids = children(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Errorf("%s: still running 10s after SIGTERM", cmd)
	}
	return o.String(), e.String(), cmd.ProcessState, kids
}

// Gap 13 of issue 10: SIGTERM ends ctl as it ends supervisorctl, killed
// by the signal, with nothing more printed; a journalctl that followed
// the log for it ends too.
func TestCtlTailTermOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	const sections = `[program:talk]
command=/bin/sh -c "echo ready; exec sleep 1000"
startsecs=0
`
	check := func(t *testing.T, who, stdout, stderr string, ps *os.ProcessState) {
		t.Helper()
		ws, ok := ps.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Errorf("%s tail -f: ended %v after SIGTERM, want killed by SIGTERM", who, ps)
		}
		if stdout != "==> Press Ctrl-C to exit <==\nready\n" || stderr != "" {
			t.Errorf("%s tail -f: printed %q and on stderr %q, want the header and the log, nothing after", who, stdout, stderr)
		}
	}
	t.Run("supervisord", func(t *testing.T) {
		t.Parallel()
		dir := shortTempDir(t)
		conf := writeConf(t, dir, sections)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		w.waitState(t, "talk", "RUNNING", 0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		o, e, ps, _ := tailTerm(t, exec.CommandContext(ctx, "/usr/bin/supervisorctl", "-c", conf, "tail", "-f", "talk"), "ready\n")
		check(t, "supervisorctl", o, e, ps)
		o, e, ps, _ = tailTerm(t, exec.CommandContext(ctx, supervisorctlBinary(t), "-c", conf, "tail", "-f", "talk"), "ready\n")
		check(t, "supersede ctl (XML-RPC)", o, e, ps)
	})
	t.Run("systemd", func(t *testing.T) {
		t.Parallel()
		conf := writeConf(t, shortTempDir(t), sections)
		w, sm := systemdWorld(t, conf)
		w.waitState(t, "talk", "RUNNING", 0)
		sm.Journal("--sync")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		o, e, ps, kids := tailTerm(t, sm.Command(ctx, supervisorctlBinary(t), "--user", "-c", conf, "tail", "-f", "talk"), "ready\n")
		check(t, "supersede ctl (systemd)", o, e, ps)
		if len(kids) == 0 {
			t.Errorf("tail -f on systemd had no journalctl child")
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, pid := range kids {
			for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if syscall.Kill(pid, 0) == nil {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				t.Errorf("child %d (%s) of ctl still runs after ctl died", pid, bytes.TrimSpace(comm))
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

// Gap 9 of issue 10: a program whose file left conf.d stays active until
// it is removed, as under supervisord: status shows it, stop stops it,
// and remove takes it (and its unit) out, in commands that each read the
// configuration anew.
func TestCtlRemoveGoneOnSystemd(t *testing.T) {
	sideBySideConf(t, "[include]\nfiles=conf.d/*.conf\n", map[string]string{
		"conf.d/talk.conf": "[program:talk]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
		"conf.d/keep.conf": "[program:keep]\ncommand=/bin/sleep 1001\nstartsecs=0\n",
	}, func(s *transcript, conf string) {
		s.w.waitState(s.t, "talk", "RUNNING", 0)
		s.w.waitState(s.t, "keep", "RUNNING", 0)
		if err := os.Remove(filepath.Join(filepath.Dir(conf), "conf.d", "talk.conf")); err != nil {
			s.t.Fatal(err)
		}
		s.do("status")
		// no avail here: ctl keeps nothing between commands, so it
		// lists the configuration as supervisord does after reread
		s.do("remove", "talk")
		s.do("reread")
		s.do("status")
		s.do("avail")
		s.do("stop", "talk")
		s.do("status", "talk")
		s.do("remove", "talk")
		s.do("status")
		s.do("avail")
		s.do("remove", "talk")
		s.do("stop", "talk")
		if s.sm != nil {
			if _, err := os.Stat(filepath.Join(s.sm.UnitDir, "talk.service")); !os.IsNotExist(err) {
				s.t.Errorf("talk.service after remove: %v, want it deleted", err)
			}
			if st := s.sm.Show("talk.service", "LoadState")["LoadState"]; st != "not-found" {
				s.t.Errorf("talk.service after remove: LoadState=%s, want not-found", st)
			}
			if data, err := os.ReadFile(filepath.Join(s.sm.UnitDir, "supersede.target")); err != nil || strings.Contains(string(data), "talk.service") {
				s.t.Errorf("supersede.target after remove still names talk.service (%v):\n%s", err, data)
			}
		}
	})
}

// Gap 8 of issue 10: adding a program of lower priority reorders the
// others' units (After=) but changes none of them: update adds the new
// one and restarts nothing, as supervisord does.
func TestCtlUpdateAddsLowerPriorityOnSystemd(t *testing.T) {
	const programs = "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:b]\ncommand=/bin/sleep 1001\nstartsecs=0\n"
	sideBySideConf(t, programs, nil, func(s *transcript, conf string) {
		pidA := s.w.waitState(s.t, "a", "RUNNING", 0)
		pidB := s.w.waitState(s.t, "b", "RUNNING", 0)
		writeConf(s.t, filepath.Dir(conf), programs+"\n[program:first]\ncommand=/bin/sleep 1002\nstartsecs=0\npriority=1\n")
		s.do("reread")
		s.do("update")
		s.w.waitState(s.t, "first", "RUNNING", 0)
		s.do("status")
		s.do("reread")
		s.do("update")
		if _, pid := stateOf(s.w.ctl("status", "a").stdout, "a"); pid != pidA {
			s.t.Errorf("%s: a went from pid %d to %d: update restarted it", s.w.name, pidA, pid)
		}
		if _, pid := stateOf(s.w.ctl("status", "b").stdout, "b"); pid != pidB {
			s.t.Errorf("%s: b went from pid %d to %d: update restarted it", s.w.name, pidB, pid)
		}
		if s.sm != nil {
			// the new order is in place: a and b start after first
			for _, u := range []string{"a.service", "b.service"} {
				if after := s.sm.Show(u, "After")["After"]; !strings.Contains(after, "first.service") {
					s.t.Errorf("%s After=%s, want first.service in it", u, after)
				}
			}
		}
	})
}

// update decides from the programs' Supervisor configuration, not from
// their units: a unit that differs only by its mapping (as one written
// by another supersede version, with the same digest) is rewritten and
// restarts nothing, and a change of priority alone, which changes no
// line but the start order, restarts the program, as supervisord does.
func TestCtlUpdateByConfigOnSystemd(t *testing.T) {
	const programs = "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\nautorestart=false\n\n[program:b]\ncommand=/bin/sleep 1001\nstartsecs=0\n"
	sideBySideConf(t, programs, nil, func(s *transcript, conf string) {
		pidA := s.w.waitState(s.t, "a", "RUNNING", 0)
		pidB := s.w.waitState(s.t, "b", "RUNNING", 0)
		if s.sm != nil {
			path := filepath.Join(s.sm.UnitDir, "a.service")
			data, err := os.ReadFile(path)
			if err != nil {
				s.t.Fatal(err)
			}
			mapped := strings.Replace(string(data), "[Service]\n", "[Service]\nEnvironment=OTHER_MAPPING=1\n", 1)
			if err := os.WriteFile(path, []byte(mapped), 0o644); err != nil {
				s.t.Fatal(err)
			}
			s.sm.DaemonReload()
		}
		s.do("reread")
		s.do("update")
		if _, pid := stateOf(s.w.ctl("status", "a").stdout, "a"); pid != pidA {
			s.t.Errorf("%s: a went from pid %d to %d: update restarted it", s.w.name, pidA, pid)
		}
		if s.sm != nil {
			if env := s.sm.Show("a.service", "Environment")["Environment"]; strings.Contains(env, "OTHER_MAPPING") {
				s.t.Errorf("a.service was not rewritten: Environment=%s", env)
			}
		}
		writeConf(s.t, filepath.Dir(conf), strings.Replace(programs, "sleep 1001\n", "sleep 1001\npriority=5\n", 1))
		s.do("reread")
		s.do("update")
		s.w.waitState(s.t, "b", "RUNNING", pidB)
		if _, pid := stateOf(s.w.ctl("status", "a").stdout, "a"); pid != pidA {
			s.t.Errorf("%s: a went from pid %d to %d: update restarted it", s.w.name, pidA, pid)
		}
	})
}

// Gap 12 of issue 10: on a host that runs systemd, ctl without --user,
// --system or -s drives the supervisord that answers at the config's
// serverurl when the config's units are not loaded (a migration not done
// yet), as the supervisorctl it replaces did.
func TestCtlLiveSupervisordOnSystemdHost(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	const sections = "[program:a]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:b]\ncommand=/bin/sleep 1001\nstartsecs=0\nautostart=false\n"
	dir := shortTempDir(t)
	conf := writeConf(t, dir, sections)
	sv := supervisordWorld(t, dir, conf)
	defer sv.ctl("shutdown")
	// the same commands through supersede as supervisorctl, on a host
	// that runs systemd: inside a user manager's namespace, where
	// /run/systemd/system is a directory
	sm := sdtest.Start(t, sdtest.Options{})
	if _, err := os.Stat("/proc/" + strconv.Itoa(sm.JournaldPID) + "/root/run/systemd/system"); err != nil {
		t.Fatalf("the manager's namespace does not look like a systemd host: %v", err)
	}
	ctlPath := supervisorctlBinary(t)
	ours := &world{name: "supersede ctl", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return runCmd(sm.Command(ctx, ctlPath, append([]string{"-c", conf}, args...)...), args)
	}}
	sv.waitState(t, "a", "RUNNING", 0)
	// each session leaves b as it found it, stopped
	session := func(w *world) string {
		var b strings.Builder
		for _, args := range [][]string{
			{"start", "b"},
			{"status", "b"},
			{"stop", "b"},
			{"status", "a"},
			{"avail"},
			{"pid", "nosuch"},
		} {
			b.WriteString(w.ctl(args...).String())
		}
		return b.String()
	}
	var want, got strings.Builder
	want.WriteString(session(sv))
	got.WriteString(session(ours))
	if normalise(got.String()) != normalise(want.String()) {
		t.Errorf("supersede ctl on a systemd host differs from supervisorctl with the same config\n--- supervisorctl\n%s\n--- supersede ctl\n%s", want.String(), got.String())
	}
}
