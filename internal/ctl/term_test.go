package ctl

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// termSession drives the shell's terminal reader (x/term) through a pipe
// as a user at a terminal would: keys go in, the screen comes out.
type termSession struct {
	keys  *io.PipeWriter
	out   *syncBuffer
	done  chan struct{}
	calls *callLog
}

// callLog records the calls a fake server got.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *callLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.calls, "\n")
}

// completionServer has four processes and records the names that status
// and version are asked about.
func completionServer(log *callLog) fakeConn {
	infos := []any{}
	for _, gn := range [][2]string{{"sleeper", "sleeper"}, {"grp", "ga"}, {"grp", "gb"}, {"talker", "talker"}} {
		infos = append(infos, map[string]any{"group": gn[0], "name": gn[1], "statename": "RUNNING", "state": 20, "description": "d"})
	}
	return server(map[string]any{
		"supervisor.getAllProcessInfo": func(args ...any) (any, error) {
			log.add("getAllProcessInfo")
			return infos, nil
		},
		"supervisor.getSupervisorVersion": func(args ...any) (any, error) {
			log.add("getSupervisorVersion")
			return "4.2.5", nil
		},
	})
}

// startTermShell runs the shell with a terminal reader on a pipe.
func startTermShell(t *testing.T, conn Conn, histFile string, mod func(*Options)) *termSession {
	t.Helper()
	opts := &Options{Prompt: "supervisor", Interactive: true, HistoryFile: histFile}
	if mod != nil {
		mod(opts)
	}
	s := &termSession{out: &syncBuffer{}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	s.keys = pw
	c := &controller{opts: opts, conn: conn, stdout: s.out, stderr: s.out}
	hist := &history{}
	if histFile != "" {
		hist.load(histFile)
	}
	c.in = newTermReader(c, -1, pr, s.out, hist)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	go func() {
		defer close(s.done)
		defer cancel()
		c.cmdloop(ctx)
		if histFile != "" {
			hist.save(histFile)
		}
	}()
	return s
}

// typeKeys sends keys once the screen shows want (the prompt, usually).
func (s *termSession) typeKeys(t *testing.T, want, keys string) {
	t.Helper()
	s.waitFor(t, want)
	if _, err := io.WriteString(s.keys, keys); err != nil {
		t.Fatal(err)
	}
}

func (s *termSession) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q:\n%q", want, s.out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitCount waits until the screen shows want n times.
func (s *termSession) waitCount(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(s.out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q %d times:\n%q", want, n, s.out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *termSession) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the shell did not end; screen:\n%q", s.out.String())
	}
}

// Tab completes command names, then process names; a second Tab lists
// the candidates; up-arrow recalls the history, which is read from and
// written back to the history file.
func TestTerminalShell(t *testing.T) {
	dir := t.TempDir()
	histFile := filepath.Join(dir, "history")
	if err := os.WriteFile(histFile, []byte("version\nstatus grp:*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &callLog{}
	s := startTermShell(t, completionServer(log), histFile, nil)
	// the initial status, then: "st" Tab Tab lists the three commands
	s.typeKeys(t, "supervisor> ", "st\t\t")
	s.waitFor(t, "start   status   stop")
	// "at" Tab: "status " (one match); "sl" Tab: "sleeper "; Enter
	const sleeperLine = "sleeper                          RUNNING   d\n"
	s.typeKeys(t, "", "at\tsl\t\r")
	s.waitCount(t, sleeperLine, 2) // the initial status showed it once
	// "status g" Tab: "grp:" (both processes of grp), "g" Tab: nothing
	// more, "a" Tab: "grp:ga "
	s.typeKeys(t, "", "status g\tg\ta\t\r")
	s.waitCount(t, "grp:ga                           RUNNING   d\n", 2)
	// Up twice: "status sleeper ", the line before the last; Enter
	s.typeKeys(t, "", "\x1b[A\x1b[A\r")
	s.waitCount(t, sleeperLine, 3)
	// Up five times: "version", from the file; Enter
	s.typeKeys(t, "", "\x1b[A\x1b[A\x1b[A\x1b[A\x1b[A\r")
	s.waitFor(t, "4.2.5")
	// Ctrl-D on an empty line ends the shell
	s.typeKeys(t, "4.2.5", "\x04")
	s.wait(t)
	data, err := os.ReadFile(histFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "version\nstatus grp:*\nstatus sleeper \nstatus grp:ga \nstatus sleeper \nversion\n"
	if string(data) != want {
		t.Errorf("history file %q, want %q", data, want)
	}
	if fi, err := os.Stat(histFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v, %v", fi.Mode(), err)
	}
	if got := strings.Count(log.String(), "getSupervisorVersion"); got != 1 {
		t.Errorf("version ran %d times, want 1", got)
	}
}

// Ctrl-C at the prompt ends the shell with an empty line, as
// KeyboardInterrupt does; so does Ctrl-D, as EOF.
func TestTerminalCtrlC(t *testing.T) {
	for _, key := range []string{"\x03", "\x04", "status\x03"} {
		log := &callLog{}
		s := startTermShell(t, completionServer(log), "", nil)
		s.typeKeys(t, "supervisor> ", key)
		s.wait(t)
		if !strings.HasSuffix(s.out.String(), "supervisor> \n") && !strings.HasSuffix(s.out.String(), "supervisor> status\n") {
			t.Errorf("%q: screen %q", key, s.out.String())
		}
	}
}

// On 401 the shell asks for a username, then for a password without
// echo.
func TestTerminalPassword(t *testing.T) {
	denied := fakeConn{call: func(context.Context, string, ...any) (any, error) {
		return nil, &xmlrpc.HTTPError{URL: "unix:///fake.sock/RPC2", StatusCode: 401, Status: "401 Unauthorized"}
	}}
	var user, pass string
	log := &callLog{}
	s := startTermShell(t, denied, "", func(o *Options) {
		o.Dial = func(url, u, p string) (Conn, error) {
			user, pass = u, p
			return completionServer(log), nil
		}
	})
	s.typeKeys(t, "Username:", "bob\r")
	s.typeKeys(t, "Password:", "secret\r")
	s.typeKeys(t, "supervisor> ", "\x04")
	s.wait(t)
	if user != "bob" || pass != "secret" {
		t.Errorf("Dial got %q, %q", user, pass)
	}
	if strings.Contains(s.out.String(), "secret") {
		t.Errorf("the password was echoed: %q", s.out.String())
	}
}
