package sysd

import (
	"context"
	"encoding/binary"
	"io"
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

// userOutput gives what -o cat gives of journalctl's export output (a
// message that is not text included), without the entries of a system
// unit of the same name: written from a cgroup outside the user
// manager's, not attributed to a user unit. A line attributed to the
// stream's unit alone (no cgroup) is kept.
func TestUserOutput(t *testing.T) {
	bin := func(name string, v []byte) string {
		var size [8]byte
		binary.LittleEndian.PutUint64(size[:], uint64(len(v)))
		return name + "\n" + string(size[:]) + string(v) + "\n"
	}
	export := "__CURSOR=c1\nMESSAGE=user line\n_SYSTEMD_CGROUP=/user.slice/user-0.slice/user@0.service/app.slice/web.service\n_SYSTEMD_USER_UNIT=web.service\n\n" +
		"__CURSOR=c2\nMESSAGE=system line\n_SYSTEMD_CGROUP=/system.slice/web.service\n\n" +
		"__CURSOR=c3\nMESSAGE=stream's unit only\n\n" +
		"__CURSOR=c4\n" + bin("MESSAGE", []byte("not\x00text\nline")) + "_SYSTEMD_CGROUP=/user.slice/user-0.slice/user@0.service/app.slice/web.service\n\n" +
		"__CURSOR=c5\n_SYSTEMD_CGROUP=/system.slice/web.service\nMESSAGE=another system line\n\n"
	u := newUserOutput(strings.NewReader(export), "/user.slice/user-0.slice/user@0.service")
	out, err := io.ReadAll(u)
	if err != nil {
		t.Fatal(err)
	}
	if want := "user line\nstream's unit only\nnot\x00text\nline\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if u.cursor != "c5" || u.dropped != 2 {
		t.Errorf("cursor %q, dropped %d; want c5, 2", u.cursor, u.dropped)
	}
	// a manager in the root cgroup: nothing can be told apart, all kept
	out, _ = io.ReadAll(newUserOutput(strings.NewReader(export), "/"))
	if n := strings.Count(string(out), "system line"); n != 2 {
		t.Errorf("with the manager in the root cgroup: %q", out)
	}
	// a cut entry is an error, not a silent end
	if _, err := io.ReadAll(newUserOutput(strings.NewReader("MESSAGE\n\x05\x00"), "")); err != io.ErrUnexpectedEOF {
		t.Errorf("a cut entry: %v", err)
	}
}
