package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
)

// ctl tail under systemd where journalctl can read no journal (here: the
// real journalctl pointed at an empty journal directory) fails with
// supervisorctl's text and says why on stderr, instead of printing an
// empty line with status 0.
func TestCtlTailNoJournal(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	journalctl, err := exec.LookPath("journalctl")
	if err != nil {
		t.Fatal(err)
	}
	_, conf := tutorialCopy(t)
	w, sm := systemdWorld(t, conf)
	w.waitState(t, "gunicorn", "RUNNING", 0)

	bin := t.TempDir()
	wrapper := "#!/bin/sh\nexec " + journalctl + " --directory=" + t.TempDir() + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "journalctl"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := sm.Command(ctx, exe, "ctl", "--user", "-c", conf, "tail", "gunicorn")
	cmd.Env = append(cmd.Env, "PATH="+bin+":/usr/sbin:/usr/bin:/sbin:/bin")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("ctl tail with no journal: %v, want exit status 1", err)
	}
	if stdout.String() != "gunicorn: ERROR (unknown error reading log)\n" {
		t.Errorf("stdout %q, want supervisorctl's error line", stdout.String())
	}
	if !strings.Contains(stderr.String(), "no journal here") {
		t.Errorf("stderr %q does not say why", stderr.String())
	}
}

// On a host that runs systemd, ctl without --user drives the system
// manager; when none answers, ctl says to pass --user rather than to
// use supersede run.
func TestCtlSystemHintsUser(t *testing.T) {
	t.Parallel()
	sm := sdtest.Start(t, sdtest.Options{})
	_, conf := tutorialCopy(t)
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// in the manager's namespace /run/systemd/system exists and no
	// system manager listens on /run/systemd/private
	cmd := sm.Command(ctx, exe, "ctl", "-c", conf, "status")
	cmd.Env = append(cmd.Env, "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+filepath.Join(sm.Base, "no-system-bus"))
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "pass --user") || strings.Contains(string(out), "supersede run") {
		t.Errorf("ctl status with no system manager:\n%s\nwant the advice to pass --user, not supersede run", out)
	}
}

// Without systemd and without a supervisord, ctl says how to get one;
// as supervisorctl it prints only what supervisorctl prints.
func TestCtlNoServerHint(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("this host runs systemd: the hint for a host without it cannot show")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	text := "[supervisord]\n[supervisorctl]\nserverurl=unix://" + dir + "/none.sock\n[program:x]\ncommand=/bin/sleep 1000\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runArgs(t, "supersede", "ctl", "-c", conf, "status")
	if code != 4 || !strings.HasSuffix(out, "none.sock no such file\n") {
		t.Errorf("ctl status: exit %d, stdout %q; want supervisorctl's", code, out)
	}
	if !strings.Contains(errOut, "this host does not run systemd") || !strings.Contains(errOut, "supersede run -c "+conf) {
		t.Errorf("ctl status: stderr %q, want a hint naming supersede run", errOut)
	}
	if _, errOut, _ := runArgs(t, "/usr/bin/supervisorctl", "-c", conf, "status"); errOut != "" {
		t.Errorf("as supervisorctl: stderr %q, want none (supervisorctl prints none)", errOut)
	}
}
