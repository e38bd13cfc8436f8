package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
)

// TestDemo runs `make demo`'s journey with a freshly built supersede, on
// a free port, and checks that it exits 0 having shown each step.
func TestDemo(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	bin := filepath.Join(t.TempDir(), "supersede")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/supersede/supersede/cmd/supersede").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-supersede", bin, "-example", "../../testdata/examples/tutorial", "-port", "0"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo exited %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	for _, re := range []string{
		`(?m)^\$ supersede convert --user -c supervisord.conf -o ~/.config/systemd/user\ncreated .*/gunicorn.service\n`,
		`(?m)^\$ systemctl --user enable --now supersede.target\n`,
		`(?m)^\$ supersede ctl --user -c supervisord.conf status\ngunicorn +RUNNING +pid \d+, uptime 0:00:0\d\n`,
		`(?m)^\$ supersede ctl --user -c supervisord.conf restart gunicorn\ngunicorn: stopped\ngunicorn: started\n`,
		`(?m)^\$ kill -9 \d+\n\n# systemd started gunicorn again \d+ ms after the kill`,
		`(?m)^\$ supersede ctl --user -c supervisord.conf tail gunicorn\n(.*\n)*.*"GET /admin/ HTTP/1.1" 200`,
		`(?m)^\$ supersede ctl --user -c supervisord.conf shutdown\nShut down\n`,
		`(?m)^gunicorn +STOPPED +Not started\n`,
		`(?m)^# Tear-down: `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the demo's output lacks %q:\n%s", re, out)
		}
	}
}

// A missing binary is a usage error that says what to do.
func TestDemoNoBinary(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-supersede", filepath.Join(t.TempDir(), "nope")}, &stdout, &stderr)
	if code != 2 || !bytes.Contains(stderr.Bytes(), []byte("run make build first")) {
		t.Errorf("exit %d, stderr %q; want 2 and the advice to run make build", code, stderr.String())
	}
}
