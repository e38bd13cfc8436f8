package logfile

import (
	"errors"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// fakeSyslogd is a datagram socket standing in for /dev/log.
type fakeSyslogd struct {
	path string
	fd   int
}

func newFakeSyslogd(t *testing.T) *fakeSyslogd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	return &fakeSyslogd{path, fd}
}

// messages returns the datagrams received so far.
func (d *fakeSyslogd) messages() []string {
	var msgs []string
	buf := make([]byte, 4096)
	for {
		n, _, err := syscall.Recvfrom(d.fd, buf, syscall.MSG_DONTWAIT)
		if err != nil {
			return msgs
		}
		msgs = append(msgs, string(buf[:n]))
	}
}

func testSyslog(path string, now func() time.Time) *Syslog {
	w := NewSyslog("supervisord")
	w.path = path
	w.now = now
	return w
}

var syslogHeader = regexp.MustCompile(`^<14>[A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d supervisord: `)

func TestSyslogLines(t *testing.T) {
	d := newFakeSyslogd(t)
	w := testSyslog(d.path, time.Now)
	defer w.Close()
	if err := w.Lines("web", []byte("first\n\nthird\n\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Lines("web", []byte("bad \xff\n")); !errors.Is(err, ErrUndecodable) {
		t.Errorf("undecodable chunk: %v", err)
	}
	msgs := d.messages()
	want := []string{"web first", "web ", "web third"}
	if len(msgs) != len(want) {
		t.Fatalf("messages %q, want bodies %q", msgs, want)
	}
	for i, m := range msgs {
		loc := syslogHeader.FindStringIndex(m)
		if loc == nil || m[loc[1]:] != want[i] {
			t.Errorf("message %q, want header and %q", m, want[i])
		}
	}
}

func TestSyslogFormat(t *testing.T) {
	d := newFakeSyslogd(t)
	at := time.Date(2024, 3, 7, 9, 5, 1, 0, time.Local)
	w := testSyslog(d.path, func() time.Time { return at })
	defer w.Close()
	w.Send("web hello")
	if got := d.messages(); len(got) != 1 || got[0] != "<14>Mar  7 09:05:01 supervisord: web hello" {
		t.Errorf("got %q", got)
	}
}

// Without /dev/log messages are dropped with an error, never a panic or a
// block, and the connection is tried again a second later.
func TestSyslogMissingSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	now := time.Unix(1000, 0)
	w := testSyslog(path, func() time.Time { return now })
	defer w.Close()
	if err := w.Send("lost"); err == nil {
		t.Error("Send without a socket succeeded")
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := w.Send("too soon"); err == nil {
		t.Error("retried within a second")
	}
	now = now.Add(time.Second)
	if err := w.Send("found"); err != nil {
		t.Errorf("Send after the socket appeared: %v", err)
	}
	d := &fakeSyslogd{path, fd}
	if got := d.messages(); len(got) != 1 || !syslogHeader.MatchString(got[0]) {
		t.Errorf("got %q", got)
	}
}

// A stream socket (some syslog daemons) gets NUL-terminated records.
func TestSyslogStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	lfd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(lfd)
	if err := syscall.Bind(lfd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Listen(lfd, 1)
	w := testSyslog(path, time.Now)
	defer w.Close()
	if err := w.Send("a"); err != nil {
		t.Fatal(err)
	}
	cfd, _, err := syscall.Accept(lfd)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(cfd)
	buf := make([]byte, 256)
	n, _ := syscall.Read(cfd, buf)
	if n < 2 || buf[n-1] != 0 || buf[n-2] != 'a' {
		t.Errorf("record %q", buf[:max(n, 0)])
	}
}

// The pump sends each chunk's lines to syslog as "NAME line".
func TestPumpSyslog(t *testing.T) {
	d := newFakeSyslogd(t)
	w := testSyslog(d.path, time.Now)
	defer w.Close()
	p := startPump(t)
	c := spawn(t, p, Output{Syslog: w, Name: "web"}, "printf", "one\\ntwo\\n")
	c.reap(t)
	got := d.messages()
	if len(got) != 2 || !syslogHeader.MatchString(got[0]) || got[0][len(got[0])-7:] != "web one" || got[1][len(got[1])-7:] != "web two" {
		t.Errorf("got %q", got)
	}
}
