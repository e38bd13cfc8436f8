package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/translate"
)

func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(childEnv); ok {
		os.Exit(daemonChild())
	}
	os.Exit(m.Run())
}

// daemonChild is the test binary run again by Daemonize: it answers one
// connection on the inherited socket with what a daemon should be (its
// name, session, environment) and exits.
func daemonChild() int {
	nfds, ok, environ := Child(os.Environ())
	lns, err := Inherit(nfds, []translate.Server{{Section: "unix_http_server", Unix: true}})
	if !ok || err != nil {
		return 1
	}
	ln := lns[0]
	// (a unix listener, which removes its own socket file when closed)
	ln.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(time.Minute)) // the test gave up: do not linger
	c, err := ln.Accept()
	if err != nil {
		return 1
	}
	defer c.Close()
	comm, _ := os.ReadFile("/proc/self/comm")
	_, inEnv := os.LookupEnv(childEnv)
	marked := false
	for _, kv := range environ {
		marked = marked || strings.HasPrefix(kv, childEnv+"=")
	}
	stdin, _ := os.Readlink("/proc/self/fd/0")
	fmt.Fprintf(c, "comm=%s sid=%d pid=%d mark=%v,%v stdin=%s\n", strings.TrimSpace(string(comm)), getsid(), os.Getpid(), inEnv, marked, stdin)
	return 0
}

func getsid() int {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	return int(sid)
}

// daemonize runs Daemonize with argv0 and returns the line the daemon
// answers on the socket passed to it, and its pid.
func daemonize(t *testing.T, argv0 string) (string, int) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := Daemonize([]string{argv0, "-test.run=^$"}, os.Environ(), t.TempDir(), []net.Listener{ln})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// the daemon is our child until it exits: end it if the test
		// failed before it answered, and reap it
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	})
	ps, _ := exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid)).Output()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute)) // a generous bound that catches a hang
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("the daemon did not answer: %v", err)
	}
	if name := strings.TrimSpace(string(ps)); name == "exe" {
		t.Errorf("ps shows the daemon as %q", name)
	}
	return strings.TrimSpace(line), pid
}

// The daemon runs in a session of its own, on /dev/null, without the
// mark in its environment, and shows in ps and pgrep under the name it
// was invoked by, not as "exe".
func TestDaemonize(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	line, pid := daemonize(t, self)
	want := fmt.Sprintf("comm=%s sid=%d pid=%d mark=false,false stdin=/dev/null", comm(filepath.Base(self)), pid, pid)
	if line != want {
		t.Errorf("daemon says\n%s\nwant\n%s", line, want)
	}
	out, _ := exec.Command("pgrep", "-x", comm(filepath.Base(self))).Output()
	if !strings.Contains("\n"+string(out), "\n"+strconv.Itoa(pid)+"\n") {
		t.Errorf("pgrep -x %s does not find the daemon %d: %q", comm(filepath.Base(self)), pid, out)
	}
}

// Invoked by a name that is not this program's file (a path that does
// not exist any more, say), the daemon still shows under that name.
func TestDaemonizeShowsInvokedName(t *testing.T) {
	line, pid := daemonize(t, "/nonexistent/supervisord")
	if want := fmt.Sprintf("comm=supervisord sid=%d ", pid); !strings.HasPrefix(line, want) {
		t.Errorf("daemon says %s, want it to start %s", line, want)
	}
}

func comm(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

func TestExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, argv0 := range []string{self, "no-such-program-on-path", "/nonexistent/supervisord", "/bin/sh"} {
		got := Executable(argv0)
		if argv0 == self && got != self {
			t.Errorf("Executable(%q) = %q, want the path itself", argv0, got)
		}
		a, err1 := os.Stat(got)
		b, err2 := os.Stat(self)
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			t.Errorf("Executable(%q) = %q: not this program", argv0, got)
		}
		if got == "/proc/self/exe" {
			t.Errorf("Executable(%q) = /proc/self/exe although the program's path exists", argv0)
		}
	}
	// a relative invocation through a link in another directory
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "supervisord")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if got := Executable("./supervisord"); got != filepath.Join(dir, "supervisord") {
		t.Errorf("Executable(./supervisord) = %q, want the link's absolute path", got)
	}
}

func TestWritePidfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.pid")
	if err := os.WriteFile(path, []byte("old content that is longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePidfile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(os.Getpid()) + "\n"; string(data) != want {
		t.Errorf("pidfile %q, want %q", data, want)
	}
	if err := WritePidfile(filepath.Join(t.TempDir(), "no", "sd.pid")); err == nil {
		t.Error("WritePidfile into a missing directory succeeded")
	}
	RemovePidfile(path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RemovePidfile left our pidfile: %v", err)
	}
	// another daemon's pidfile is not ours to remove
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	RemovePidfile(path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("RemovePidfile removed another process's pidfile: %v", err)
	}
}

func TestListenInUse(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "sock")
	servers := []translate.Server{{Section: "unix_http_server", Unix: true, File: sock, Chmod: 0o700}}
	lns, err := Listen(servers, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer lns[0].Close()
	go func() {
		for {
			c, err := lns[0].Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = Listen(servers, slog.New(slog.DiscardHandler))
	var ue *UsageError
	if !errors.As(err, &ue) || ue.Msg != "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord." {
		t.Errorf("Listen on a live socket = %v", err)
	}
	// the same for a TCP port
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	port := tcp.Addr().(*net.TCPAddr).Port
	_, err = Listen([]translate.Server{{Section: "inet_http_server", Host: "127.0.0.1", Port: port}}, slog.New(slog.DiscardHandler))
	if !errors.As(err, &ue) || !strings.HasPrefix(ue.Msg, "Another program is already listening") {
		t.Errorf("Listen on a port in use = %v", err)
	}
}

func TestListenLogs(t *testing.T) {
	var b strings.Builder
	log := JournalLogger(&b, []string{"JOURNAL_STREAM=8:1"})
	user := "admin"
	servers := []translate.Server{
		{Section: "unix_http_server", Unix: true, File: filepath.Join(t.TempDir(), "s"), Chmod: 0o700},
		{Section: "inet_http_server", Host: "127.0.0.1", Port: 0, Username: &user},
	}
	lns, err := Listen(servers, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range lns {
		ln.Close()
	}
	want := `level=INFO msg="RPC interface 'supervisor' initialized"
level=CRIT msg="Server 'unix_http_server' running without any HTTP authentication checking"
level=INFO msg="RPC interface 'supervisor' initialized"
`
	if b.String() != want {
		t.Errorf("Listen logged\n%s\nwant\n%s", b.String(), want)
	}
}

func TestInheritCountMismatch(t *testing.T) {
	_, err := Inherit(2, []translate.Server{{Section: "unix_http_server"}})
	if err == nil || !strings.Contains(err.Error(), "inherited 2 sockets for 1 servers") {
		t.Errorf("Inherit = %v", err)
	}
}

func TestAuthOf(t *testing.T) {
	u, p := "admin", "{SHA}abc"
	if a := AuthOf(translate.Server{Username: &u, Password: &p}); a.Username != u || a.Password != p {
		t.Errorf("AuthOf = %+v", a)
	}
	if a := AuthOf(translate.Server{}); a.Username != "" || a.Password != "" {
		t.Errorf("AuthOf without credentials = %+v", a)
	}
}

func TestRepr(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`} {
		if got := Repr(in); got != want {
			t.Errorf("Repr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDropPrivilegesMessages(t *testing.T) {
	if msg := DropPrivileges(os.Getuid()); msg != "" {
		t.Errorf("DropPrivileges to ourselves = %q", msg)
	}
	if msg := DropPrivileges(987654); msg != "Can't find uid 987654" {
		t.Errorf("DropPrivileges to a missing uid = %q", msg)
	}
}

func TestSetRlimitsImpossible(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if infos, err := SetRlimits(int(min(rl.Cur, 1<<20)), -1); err != nil || len(infos) != 0 {
		t.Errorf("SetRlimits within the limit = %v, %v", infos, err)
	}
	if os.Getuid() == 0 {
		return // root may raise the hard limit: nothing fails
	}
	_, err := SetRlimits(int(rl.Max)+1, -1)
	var ue *UsageError
	if rl.Max != ^uint64(0) && (!errors.As(err, &ue) || !strings.HasPrefix(ue.Msg, "The minimum number of file descriptors required to run this process is")) {
		t.Errorf("SetRlimits above the hard limit = %v", err)
	}
}

// A daemon without a configuration to restart or logs to reopen keeps
// running at SIGHUP and SIGUSR2 (which would otherwise end it) and
// stops at SIGTERM.
func TestStopOnSignal(t *testing.T) {
	var b syncBuilder
	log := slog.New(slog.NewTextHandler(&b, nil))
	ctx, stop := StopOnSignal(context.Background(), log, "nothing to reload")
	defer stop()
	for _, s := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR2} {
		syscall.Kill(os.Getpid(), s)
	}
	waitFor(t, func() bool { return strings.Count(b.String(), "ignored (nothing to reload)") == 2 })
	if ctx.Err() != nil {
		t.Fatal("SIGHUP or SIGUSR2 stopped the daemon")
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("SIGTERM did not stop the daemon")
	}
	waitFor(t, func() bool { return strings.Contains(b.String(), "received SIGTERM indicating exit request") })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
