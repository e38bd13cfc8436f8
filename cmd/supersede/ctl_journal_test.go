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
