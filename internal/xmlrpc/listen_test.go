package xmlrpc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

func TestListenUnixMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o700, 0o770, 0o777, 0o600} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(shortDir(t), "s.sock")
			old := syscall.Umask(0o077) // the mode must not depend on the umask
			ln, err := ListenUnix(path, mode, -1, -1)
			syscall.Umask(old)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != mode {
				t.Errorf("socket mode %v, want socket %v", fi.Mode(), mode)
			}
			if got := ln.Addr().String(); got != path {
				t.Errorf("Addr %q, want %q", got, path)
			}
			if _, err := os.Lstat(fmt.Sprintf("%s.%d", path, os.Getpid())); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("temporary name left behind: %v", err)
			}
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			ln.Close()
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Close left the socket: %v", err)
			}
		})
	}
}

func TestListenUnixStaleAndBusy(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "s.sock")

	// A stale socket: bound once, its server gone.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	ln, err := ListenUnix(path, 0o700, -1, -1)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer ln.Close()

	// A socket someone answers on is left alone.
	if _, err := ListenUnix(path, 0o700, -1, -1); !errors.Is(err, ErrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second listener: %v, want ErrInUse", err)
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the first listener lost its socket: %v", err)
	}
	c.Close()

	// A file that is not a socket is never removed.
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, "keep me")
	if _, err := ListenUnix(plain, 0o700, -1, -1); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file: %v", err)
	}
	if b, err := os.ReadFile(plain); err != nil || string(b) != "keep me" {
		t.Errorf("regular file changed: %q, %v", b, err)
	}
}

// TestListenUnixCloseKeepsReplacement: Close removes the socket only if
// it is still ours.
func TestListenUnixCloseKeepsReplacement(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	ln, err := ListenUnix(path, 0o700, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	writeFile(t, path, "someone else's")
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed a file that was not its socket: %v", err)
	}
}

func TestListenUnixChown(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	uid, gid := os.Getuid(), os.Getgid()
	ln, err := ListenUnix(path, 0o700, uid, gid)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if os.Getuid() != 0 {
		if _, err := ListenUnix(path, 0o700, 0, 0); err == nil || !strings.Contains(err.Error(), "chown") {
			t.Errorf("chown to root as a user: %v", err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("failed chown left the socket: %v", err)
		}
		return
	}
	// As root, give the socket to nobody (65534).
	dir := shortDir(t)
	os.Chmod(dir, 0o755)
	path = filepath.Join(dir, "s.sock")
	ln, err = ListenUnix(path, 0o770, 65534, 65534)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("owner %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
}

func TestListenInet(t *testing.T) {
	ln, err := ListenInet("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if !ln.Addr().(*net.TCPAddr).IP.IsUnspecified() {
		t.Errorf("host \"\" listens on %v, want all interfaces", ln.Addr())
	}
	if _, err := ListenInet("127.0.0.1", port); !errors.Is(err, ErrInUse) {
		t.Errorf("port in use: %v, want ErrInUse", err)
	}
}

// TestListenUnixPermissionsHonoured connects as another user (nobody):
// refused with mode 0700, let in with 0777. Needs root to switch users.
func TestListenUnixPermissionsHonoured(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another user")
	}
	py := testreal.RequirePython(t)
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o700, false}, {0o777, true}} {
		dir := shortDir(t)
		os.Chmod(dir, 0o755)
		path := filepath.Join(dir, "s.sock")
		ln, err := ListenUnix(path, c.mode, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
		cmd := exec.Command(py, "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		ln.Close()
		if (err == nil) != c.ok {
			t.Errorf("mode %04o: nobody connecting: %v %s (want allowed: %v)", c.mode, err, out, c.ok)
		}
	}
}

// TestAdoptUnix: a socket passed on by a daemonizing parent is removed
// at close while it is still at its path, and a file put at the path
// since (another daemon's socket, anything) is left alone.
func TestAdoptUnix(t *testing.T) {
	dir := t.TempDir()
	adopt := func(path string) net.Listener {
		t.Helper()
		l, err := ListenUnix(path, 0o700, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		f, err := l.(*unixListener).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// The parent's listener goes (without removing the file), as the
		// parent exits after Daemonize.
		l.(*unixListener).UnixListener.Close()
		fl, err := net.FileListener(f)
		if err != nil {
			t.Fatal(err)
		}
		return AdoptUnix(fl.(*net.UnixListener), path)
	}

	own := filepath.Join(dir, "own.sock")
	adopt(own).Close()
	if _, err := os.Lstat(own); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the adopted socket is still there after Close: %v", err)
	}

	replaced := filepath.Join(dir, "replaced.sock")
	l := adopt(replaced)
	os.Remove(replaced)
	other, err := net.Listen("unix", replaced)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	l.Close()
	if c, err := net.Dial("unix", replaced); err != nil {
		t.Errorf("another listener's socket at the path was removed by the adopted one's Close: %v", err)
	} else {
		c.Close()
	}
}
