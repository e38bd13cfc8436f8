package sysd

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
)

// With no journal to read, reading one is an error that says so and
// what to do, not an empty output (journalctl itself exits 0 with
// nothing); a readable journal is no error.
func TestUnreadableJournal(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		testreal.Missing(t, "journalctl is not installed (apt-get install systemd)")
	}
	ctx := context.Background()
	why := unreadableJournal(ctx, User, "--directory", t.TempDir())
	if !strings.Contains(why, "no journal here") || !strings.Contains(why, "--log-files") {
		t.Errorf("an empty journal directory: %q, want that there is no journal and what to do", why)
	}
}

// A follower closed twice at once (by /logtail's client going and its
// stream ending) stops its journalctl once, and neither Close hangs.
func TestFollowerCloseTwice(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sleep", "100")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &follower{Reader: stdout, cancel: cancel, cmd: cmd}
	done := make(chan struct{}, 2)
	for range 2 {
		go func() {
			f.Close()
			done <- struct{}{}
		}()
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("a Close of the follower hangs")
		}
	}
}
