package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
)

// TestGeneratorOnSystemd installs the generator into a real systemd user
// manager: at start-up it turns the config into units in the late
// directory and the autostart programs run; a daemon-reload after the
// config changed picks up the change; a broken config gives no units and
// the reload still succeeds.
func TestGeneratorOnSystemd(t *testing.T) {
	sdtest.Require(t)
	dir := t.TempDir()
	gen := filepath.Join(dir, "supersede-generator")
	if out, err := exec.Command("go", "build", "-o", gen, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "supervisord.conf")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[supervisord]\n[program:app]\ncommand=/bin/sleep 1000\n[program:manual]\ncommand=/bin/sleep 1000\nautostart=false\n")
	m := sdtest.Start(t, sdtest.Options{Generator: gen, Env: []string{"SUPERSEDE_CONFIG=" + conf, "SYSTEMD_LOG_TARGET=console"}})

	late := m.GeneratorDir + ".late"
	if _, err := os.Stat(filepath.Join(late, "app.service")); err != nil {
		t.Fatalf("no app.service in the late generator directory: %v", err)
	}
	m.WaitFor("app.service", "ActiveState", "active", 10*time.Second)
	if got := m.Show("app.service", "UnitFileState")["UnitFileState"]; got != "generated" {
		t.Errorf("UnitFileState = %q, want generated", got)
	}
	if got := m.Show("app.service", "SourcePath")["SourcePath"]; got != conf {
		t.Errorf("SourcePath = %q, want %s", got, conf)
	}
	if got := m.Show("manual.service", "ActiveState", "LoadState"); got["LoadState"] != "loaded" || got["ActiveState"] != "inactive" {
		t.Errorf("manual.service: %v, want loaded and inactive (autostart=false)", got)
	}

	// The config changes: a reload re-runs the generator.
	write("[supervisord]\n[program:app]\ncommand=/bin/sleep 1000\n[program:other]\ncommand=/bin/sleep 1000\n")
	m.DaemonReload()
	if got := m.Show("other.service", "LoadState")["LoadState"]; got != "loaded" {
		t.Errorf("after reload other.service is %q, want loaded", got)
	}
	if got := m.Show("manual.service", "LoadState")["LoadState"]; got == "loaded" && fileExists(filepath.Join(late, "manual.service")) {
		t.Error("manual.service still generated after it left the config")
	}

	// A broken config: no units at all, the reload still works, and the
	// error names file:line.
	write("[supervisord]\n[program:app]\ncommand=/bin/sleep 1000\nautostart=maybe\n")
	m.DaemonReload()
	if fileExists(filepath.Join(late, "app.service")) {
		t.Error("app.service generated from a broken config")
	}
	log, _ := os.ReadFile(filepath.Join(m.Base, "manager.log"))
	if !strings.Contains(string(log), conf+":4: invalid value") {
		t.Logf("manager log:\n%s", log)
		t.Error("the generator's error naming file:line is not in the manager's log")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
