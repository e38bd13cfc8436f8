package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
)

// fakeSystemUnitCgroup makes a cgroup that journald takes for the system
// unit name (NAME.service under a slice of its own, in every hierarchy
// systemd uses) and returns the cgroup.procs files to move a writer into;
// the test removes it.
func fakeSystemUnitCgroup(t *testing.T, name string) []string {
	t.Helper()
	var hs []string
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		hs = []string{"/sys/fs/cgroup"}
	} else {
		for _, h := range []string{"systemd", "unified"} {
			if err := unix.Statfs(filepath.Join("/sys/fs/cgroup", h), &st); err == nil {
				hs = append(hs, filepath.Join("/sys/fs/cgroup", h))
			}
		}
	}
	slice := fmt.Sprintf("ctltest_%d_%d.slice", os.Getpid(), time.Now().UnixNano())
	var procs []string
	for _, h := range hs {
		leaf := filepath.Join(h, slice, name)
		if err := os.MkdirAll(leaf, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			os.Remove(leaf)
			os.Remove(filepath.Dir(leaf))
		})
		procs = append(procs, filepath.Join(leaf, "cgroup.procs"))
	}
	return procs
}

// Root running --user: a system unit of the same name as a program's
// user unit, run by the same uid, writes to the same journal with
// _SYSTEMD_UNIT=NAME and _UID=0, which ctl's match for the lines journald
// could only attribute to a user unit's stream also selects. Its lines
// come from a cgroup outside the user manager's: tail leaves them out.
func TestCtlJournalSystemUnitOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	conf := writeConf(t, shortTempDir(t), `[program:talker]
command=/bin/sh -c "echo line of the user unit; while :; do echo tick; sleep 0.2; done"
startsecs=0
`)
	w, sm := systemdWorld(t, conf)
	w.waitState(t, "talker", "RUNNING", 0)
	procs := fakeSystemUnitCgroup(t, "talker.service")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// the writer moves itself into the cgroup, then writes through a
	// journal stream and stays a moment, so that journald reads its cgroup
	script := `for f in "$@"; do echo $$ > "$f"; done; exec systemd-cat -t talker sh -c 'echo line of the system unit; sleep 1'`
	systemLine := func() {
		t.Helper()
		if out, err := sm.Command(ctx, "sh", append([]string{"-c", script, "sh"}, procs...)...).CombinedOutput(); err != nil {
			t.Fatalf("the system unit's writer: %v\n%s", err, out)
		}
	}
	systemLine()
	sm.Journal("--sync")
	if out := sm.Journal("-o", "cat", "_SYSTEMD_UNIT=talker.service", "_TRANSPORT=stdout", "_UID=0"); !strings.Contains(out, "line of the system unit") {
		t.Fatalf("journald did not take the test's writer for the system unit talker.service:\n%s", sm.Journal("-o", "verbose", "-t", "talker"))
	}
	deadline := time.Now().Add(10 * time.Second)
	var r ctlResult
	for {
		r = w.ctl("tail", "talker")
		if strings.Contains(r.stdout, "line of the user unit") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(r.stdout, "line of the user unit\n") || strings.Contains(r.stdout, "system unit") {
		t.Errorf("tail talker: want the user unit's lines alone:\n%s", r)
	}
	// tail -f: the backlog and what follows, without the system unit's
	cmd := sm.Command(ctx, supervisorctlBinary(t), "--user", "-c", conf, "tail", "-f", "talker")
	var out fallbacktest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "tick") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	systemLine()
	sm.Journal("--sync")
	ticks := strings.Count(out.String(), "tick")
	for strings.Count(out.String(), "tick") < ticks+3 && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt) // nsenter passes it on
	cmd.Wait()
	if got := out.String(); strings.Count(got, "tick") < ticks+3 || strings.Contains(got, "system unit") {
		t.Errorf("tail -f talker: want the user unit's lines alone, a system unit's line written while it follows too:\n%s", got)
	}
}
