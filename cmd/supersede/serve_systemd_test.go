package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// These tests put `supersede serve` between the real supervisorctl 4.2.5
// and a real systemd user manager (internal/sdtest), reached through the
// socket unit that convert writes (socket activation), and compare what
// the real supervisorctl prints with what it prints for the real
// supervisord on the same configuration (the sessions of
// ctl_systemd_test.go), after normalising pids, uptimes and dates.

// serveWorld converts conf into a fresh user manager's unit directory,
// starts supersede.target and the serve socket (nothing else: the first
// connection starts supersede serve), and drives it with the real
// supervisorctl, from outside the manager's namespace, as any client.
func serveWorld(t *testing.T, conf string, convertArgs ...string) (*world, *sdtest.Manager) {
	t.Helper()
	testreal.RequireSupervisor(t)
	sm := sdtest.Start(t, sdtest.Options{})
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"convert", "--user", "-c", conf, "-o", sm.UnitDir}, convertArgs...)
	if out, err := exec.Command(exe, args...).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sm.DaemonReload()
	sm.Systemctl("start", "supersede.target", "supersede-serve.socket")
	if st := sm.Show("supersede-serve.service", "ActiveState")["ActiveState"]; st != "inactive" {
		t.Errorf("supersede-serve.service is %s before the first connection; socket activation should start it", st)
	}
	w := &world{name: "serve", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
		c.Dir = filepath.Dir(conf)
		return runCmd(c, args)
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve's journal:\n%s", sm.Journal("--user-unit", "supersede-serve.service", "--no-pager"))
		}
	})
	return w, sm
}

func TestServeTutorialOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir, conf := tutorialCopy(t)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return tutorialSession(t, w)
	}, func(t *testing.T) string {
		_, conf := tutorialCopy(t)
		w, _ := serveWorld(t, conf)
		return tutorialSession(t, w)
	})
}

func TestServeDifferentialOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	sideBySide(t, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := writeConf(t, dir, diffPrograms)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return diffSession(t, w, conf)
	}, func(t *testing.T) string {
		conf := writeConf(t, shortTempDir(t), diffPrograms)
		w, sm := serveWorld(t, conf)
		out := diffSession(t, w, conf)
		if st := sm.Show("supersede-serve.service", "ActiveState")["ActiveState"]; st != "active" {
			t.Errorf("supersede-serve.service is %s after the session", st)
		}
		return strings.TrimSpace(out) + "\n"
	})
}
