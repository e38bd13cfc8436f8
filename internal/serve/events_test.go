package serve

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/internal/sysd"
)

// A listener is told by the unit of its cgroup, on either hierarchy.
func TestUnitOfCgroupFile(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/mon.service\n", "mon.service"},
		{"0::/system.slice/web@1.service\n", "web@1.service"},
		{"12:pids:/\n1:name=systemd:/system.slice/mon.service\n0::/\n", "mon.service"},
		{"0::/user.slice/user-1000.slice/session-2.scope\n", ""},
		{"0::/init.scope\n", ""},
	} {
		if got := unitOfCgroupFile(c.data); got != c.want {
			t.Errorf("unitOfCgroupFile(%q) = %q, want %q", c.data, got, c.want)
		}
	}
}

// The events socket opened by hand is open to all, replaces a stale
// socket file, and refuses one that another process serves.
func TestListenEvents(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "e.sock")
	if got := EventsPath(sysd.User, "p-", func(string) string { return dir }); got != filepath.Join(dir, "p-supersede-events.sock") {
		t.Errorf("EventsPath = %s", got)
	}
	ln, err := ListenEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("mode %v, %v; want 0666", fi.Mode(), err)
	}
	if _, err := ListenEvents(path); err == nil {
		t.Error("a second ListenEvents on a served socket succeeded")
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the file, as a serve killed would
	ln, err = ListenEvents(path)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln.Close()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenEvents(path); err == nil {
		t.Error("ListenEvents replaced a regular file")
	}
}
