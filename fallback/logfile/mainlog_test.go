package logfile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

func TestMain(m *testing.M) {
	var err error
	switch os.Getenv("LOGFILE_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "stdout":
		err = helperStdout()
	case "write":
		err = helperWrite()
	case "idle":
		err = helperIdle()
	case "streams":
		err = helperStreams()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperStdout runs as a daemon in a container would: the main log and
// two programs' logs on /dev/stdout, prefixed, with maxbytes that make
// Supervisor crash (Supervisor#1078).
func helperStdout() error {
	ml, err := OpenMainLog(MainLogConfig{Stdout: true, Level: LevelInfo})
	if err != nil {
		return err
	}
	defer ml.Close()
	p, err := NewPump()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for _, c := range []struct{ prefix, text string }{{"a | ", `x\ny\n`}, {"b | ", "z"}} {
		f, err := Open("/dev/stdout", 10, 3)
		if err != nil {
			return err
		}
		defer f.Close()
		if f.Rotates() {
			return errors.New("/dev/stdout rotates")
		}
		r, w, err := Pipe()
		if err != nil {
			return err
		}
		closed := make(chan struct{})
		var werr error
		if _, err := p.Add(r, Output{File: f, Prefix: c.prefix, OnClose: func() { close(closed) },
			OnError: func(e error) { werr = e }}); err != nil {
			return err
		}
		wf := os.NewFile(uintptr(w), "w")
		cmd := exec.Command("printf", c.text)
		cmd.Stdout = wf
		if err := cmd.Start(); err != nil {
			return err
		}
		wf.Close()
		cmd.Wait()
		<-closed
		if werr != nil {
			return werr
		}
	}
	ml.Log(LevelInfo, "done")
	cancel()
	return <-done
}

var mainLine = `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO done\n`

// TestDevStdout runs helperStdout with its stdout a pipe (docker) and a
// socket (systemd's journal, where open(/dev/stdout) fails).
func TestDevStdout(t *testing.T) {
	want := regexp.MustCompile(`^a \| x\na \| y\nb \| z\n` + mainLine + `$`)
	t.Run("pipe", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGFILE_TEST_HELPER=stdout", "GORACE=atexit_sleep_ms=0")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if !want.Match(out) {
			t.Errorf("stdout %q", out)
		}
	})
	t.Run("socket", func(t *testing.T) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
		defer ours.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGFILE_TEST_HELPER=stdout", "GORACE=atexit_sleep_ms=0")
		cmd.Stdout = theirs
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		theirs.Close()
		c, err := net.FileConn(ours)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []byte
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		if !want.Match(out) {
			t.Errorf("stdout %q", out)
		}
	})
}

func TestAppendLine(t *testing.T) {
	at := time.Date(2024, 3, 7, 9, 5, 1, 999_900_000, time.UTC)
	for level, name := range map[slog.Level]string{
		LevelCritical: "CRIT", LevelError: "ERRO", LevelWarn: "WARN", LevelInfo: "INFO",
		LevelDebug: "DEBG", LevelTrace: "TRAC", LevelBlather: "BLAT", slog.Level(2): "INFO", slog.Level(-20): "BLAT",
	} {
		got := string(AppendLine(nil, at, level, "spawned: 'x' with pid 3"))
		if want := "2024-03-07 09:05:01,999 " + name + " spawned: 'x' with pid 3\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for name, want := range map[string]slog.Level{"critical": LevelCritical, "error": LevelError,
		"warn": LevelWarn, "info": LevelInfo, "debug": LevelDebug, "trace": LevelTrace, "blather": LevelBlather} {
		if got, ok := ParseLevel(name); !ok || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", name, got, ok)
		}
	}
	if _, ok := ParseLevel("warning"); ok {
		t.Error(`ParseLevel("warning") succeeded; Supervisor has no such level`)
	}
}

func TestMainLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.log")
	at := time.Date(2024, 3, 7, 9, 5, 1, 0, time.Local)
	ml, err := OpenMainLog(MainLogConfig{Path: path, MaxBytes: 200, Backups: 2, Level: LevelInfo,
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Close()
	if ml.Path() != path {
		t.Errorf("Path = %q", ml.Path())
	}
	lg := slog.New(ml)
	lg.Debug("hidden")
	lg.Info("spawned: 'web' with pid 12")
	lg.With("program", "web").Warn("exited", "status", 3, "why", "bad exit")
	lg.Log(context.Background(), LevelCritical, "crit")
	b, _ := os.ReadFile(path)
	want := "2024-03-07 09:05:01,000 INFO spawned: 'web' with pid 12\n" +
		"2024-03-07 09:05:01,000 WARN exited program=web status=3 why=\"bad exit\"\n" +
		"2024-03-07 09:05:01,000 CRIT crit\n"
	if string(b) != want {
		t.Errorf("log:\n%s\nwant:\n%s", b, want)
	}
	ml.Log(LevelInfo, strings.Repeat("x", 10)) // over 200 bytes now: rolls over
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("no rollover: %v", err)
	}

	// clearLog: the "reopening log file" line goes to the removed file.
	if err := ml.Clear(); err != nil {
		t.Fatal(err)
	}
	ml.Log(LevelInfo, "after")
	if b, _ := os.ReadFile(path); string(b) != "2024-03-07 09:05:01,000 INFO after\n" {
		t.Errorf("after clear: %q", b)
	}
	os.Remove(path)
	if err := ml.Clear(); !errors.Is(err, status.ErrNoFile) {
		t.Errorf("Clear of a missing log: %v", err)
	}
	ml.Reopen()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Reopen did not recreate the log: %v", err)
	}
}

func TestMainLogSyslog(t *testing.T) {
	d := newFakeSyslogd(t)
	w := testSyslog(d.path, time.Now)
	at := time.Date(2024, 3, 7, 9, 5, 1, 0, time.Local)
	ml, err := OpenMainLog(MainLogConfig{Path: "syslog", Syslog: w, Level: LevelInfo, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Close()
	ml.Log(LevelWarn, "two\nlines\n")
	got := d.messages()
	want := []string{"2024-03-07 09:05:01,000 WARN two\n", "2024-03-07 09:05:01,000 WARN lines\n"}
	if len(got) != 2 {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], "supervisord: "+want[i]) {
			t.Errorf("message %q, want %q", got[i], want[i])
		}
	}
	if ml.Path() != "" || !errors.Is(ml.Clear(), status.ErrNoFile) {
		t.Error("a syslog main log has a file")
	}
}
