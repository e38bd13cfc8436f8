package sysd

import (
	"context"
	"os/exec"
	"strings"
	"testing"

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
