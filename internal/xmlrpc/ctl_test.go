package xmlrpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
)

const supervisorctl = "/usr/bin/supervisorctl"

// requireSupervisorctl stops the test unless Debian's supervisorctl is here.
func requireSupervisorctl(t *testing.T) {
	t.Helper()
	testreal.RequireSupervisor(t)
	if _, err := os.Stat(supervisorctl); err != nil {
		testreal.Missing(t, supervisorctl+" is not installed (make deps)")
	}
}

// shortDir is a temporary directory with a short path: a unix socket's
// path must fit in 108 bytes, which t.TempDir's may not.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "xr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// serveUnix serves s on a fresh unix socket until the test ends, and
// returns the socket's path.
func serveUnix(t testing.TB, s *Server, auth Auth) string {
	t.Helper()
	sock := filepath.Join(shortDir(t), "s.sock")
	ln, err := ListenUnix(sock, 0o700, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln, auth) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket %s left behind after Close: %v", sock, err)
		}
	})
	return sock
}

// ctlConfig writes a supervisorctl configuration for the socket.
func ctlConfig(t testing.TB, serverURL, user, pass string) string {
	t.Helper()
	conf := filepath.Join(shortDir(t), "ctl.conf")
	text := "[supervisorctl]\nserverurl=" + serverURL + "\n"
	if user != "" {
		text += "username=" + user + "\npassword=" + pass + "\n"
	}
	writeFile(t, conf, text)
	return conf
}

func ctlCommand(conf string, args ...string) *exec.Cmd {
	cmd := exec.Command(supervisorctl, append([]string{"-c", conf}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8", "LANG=C.UTF-8")
	return cmd
}

// runCtl runs supervisorctl and returns its standard output and error and
// its exit status.
func runCtl(t testing.TB, conf string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := ctlCommand(conf, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// The status table of the fixture world, as supervisorctl prints it.
const fixtureStatus = `crashy                           STOPPED   Not started
exits                            EXITED    Nov 27 10:44 AM
manual                           STOPPED   Not started
notfound                         FATAL     can't find command '/nonexistent/cmd'
quick                            BACKOFF   Exited too quickly (process log may have details)
sleeper                          RUNNING   pid 101, uptime 0:00:10
web:web1                         RUNNING   pid 201, uptime 1 day, 1:01:01
web:web2                         STOPPED   Not started
`

const shutdownFault = "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668\n"

// TestSupervisorctl runs the real supervisorctl 4.2.5 against the server
// over a unix socket, for every command, and checks what it prints and
// its exit status (supervisor.md §8).
func TestSupervisorctl(t *testing.T) {
	requireSupervisorctl(t)
	type tc struct {
		name  string
		args  []string
		setup func(w *world)
		want  string // exact standard output; "" with prefix set: checked by prefix
		pre   bool   // want is a prefix
		code  int
		check func(t *testing.T, w *world)
	}
	shutting := func(w *world) { w.shutting = true }
	cases := []tc{
		{name: "status", args: []string{"status"}, want: fixtureStatus, code: 3},
		{name: "status all", args: []string{"status", "all"}, want: fixtureStatus, code: 3},
		{name: "status running", args: []string{"status", "sleeper", "web:web1"},
			want: "sleeper                          RUNNING   pid 101, uptime 0:00:10\nweb:web1                         RUNNING   pid 201, uptime 1 day, 1:01:01\n"},
		{name: "status group", args: []string{"status", "web:*"},
			want: "web:web1                         RUNNING   pid 201, uptime 1 day, 1:01:01\nweb:web2                         STOPPED   Not started\n", code: 3},
		{name: "status unknown", args: []string{"status", "nosuch", "nogroup:*"},
			want: "nosuch: ERROR (no such process)\nnogroup: ERROR (no such group)\n", code: 4},
		{name: "status unknown then stopped", args: []string{"status", "nosuch", "manual"},
			want: "nosuch: ERROR (no such process)\nmanual                           STOPPED   Not started\n", code: 3},
		{name: "status backoff counts as running", args: []string{"status", "quick"},
			want: "quick                            BACKOFF   Exited too quickly (process log may have details)\n"},
		{name: "status shutting down", args: []string{"status"}, setup: shutting, want: shutdownFault, code: 1},

		{name: "start", args: []string{"start", "manual"}, want: "manual: started\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "manual", "RUNNING") }},
		{name: "start running", args: []string{"start", "sleeper"}, want: "sleeper: ERROR (already started)\n"},
		{name: "start no file", args: []string{"start", "notfound"}, want: "notfound: ERROR (no such file)\n", code: 1},
		{name: "start spawn error", args: []string{"start", "crashy"}, want: "crashy: ERROR (spawn error)\n", code: 7},
		{name: "start unknown", args: []string{"start", "nosuch"}, want: "nosuch: ERROR (no such process)\n", code: 1},
		{name: "start unknown group", args: []string{"start", "nosuch:*"}, want: "nosuch: ERROR (no such group)\n", code: 2},
		{name: "start group", args: []string{"start", "web:*"}, want: "web:web2: started\n"},
		{name: "start all", args: []string{"start", "all"},
			want: "notfound: ERROR (no such file)\nweb:web2: started\nexits: started\nmanual: started\ncrashy: ERROR (spawn error)\n", code: 7},
		{name: "start no args", args: []string{"start"}, want: "Error: start requires a process name\n", pre: true, code: 2},

		{name: "stop", args: []string{"stop", "sleeper"}, want: "sleeper: stopped\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "sleeper", "STOPPED") }},
		{name: "stop stopped", args: []string{"stop", "manual"}, want: "manual: ERROR (not running)\n"},
		{name: "stop unknown", args: []string{"stop", "nosuch"}, want: "nosuch: ERROR (no such process)\n", code: 1},
		{name: "stop unknown group", args: []string{"stop", "nosuch:*"}, want: "nosuch: ERROR (no such group)\n", code: 1},
		{name: "stop group", args: []string{"stop", "web:"}, want: "web:web1: stopped\n"},
		{name: "stop all", args: []string{"stop", "all"}, want: "sleeper: stopped\nweb:web1: stopped\nquick: stopped\n"},
		{name: "stop no args", args: []string{"stop"}, want: "Error: stop requires a process name\n", pre: true, code: 1},

		{name: "restart", args: []string{"restart", "sleeper"}, want: "sleeper: stopped\nsleeper: started\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "sleeper", "RUNNING") }},
		{name: "restart unknown", args: []string{"restart", "nosuch"},
			want: "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n", code: 1},
		{name: "restart no args", args: []string{"restart"}, want: "Error: restart requires a process name\n", pre: true, code: 1},

		{name: "signal", args: []string{"signal", "HUP", "sleeper"}, want: "sleeper: signalled\n",
			check: func(t *testing.T, w *world) { wantSignals(t, w, "sleeper 1") }},
		{name: "signal number", args: []string{"signal", "10", "web:web1"}, want: "web:web1: signalled\n",
			check: func(t *testing.T, w *world) { wantSignals(t, w, "web:web1 10") }},
		{name: "signal stopped", args: []string{"signal", "HUP", "manual"}, want: "manual: ERROR (not running)\n", code: 7},
		{name: "signal bad name", args: []string{"signal", "NOPE", "sleeper"}, want: "sleeper: ERROR (bad signal name)\n", code: 1},
		{name: "signal unknown", args: []string{"signal", "HUP", "nosuch"}, want: "nosuch: ERROR (no such process)\n", code: 1},
		{name: "signal unknown group", args: []string{"signal", "HUP", "nosuch:*"}, want: "nosuch: ERROR (no such group)\n", code: 1},
		{name: "signal all", args: []string{"signal", "USR1", "all"}, want: "sleeper: signalled\nweb:web1: signalled\n",
			check: func(t *testing.T, w *world) { wantSignals(t, w, "sleeper 10", "web:web1 10") }},
		{name: "signal group", args: []string{"signal", "TERM", "web:*"}, want: "web:web1: signalled\n"},
		{name: "signal all bad name", args: []string{"signal", "NOPE", "all"},
			want: "sleeper: ERROR (bad signal name)\nweb:web1: ERROR (bad signal name)\n", code: 1},
		{name: "signal no args", args: []string{"signal", "HUP"}, want: "Error: signal requires a signal name and a process name\n", pre: true, code: 1},

		{name: "pid", args: []string{"pid"}, want: "4242\n"},
		{name: "pid process", args: []string{"pid", "sleeper"}, want: "101\n"},
		{name: "pid stopped", args: []string{"pid", "manual"}, want: "0\n", code: 7},
		{name: "pid unknown", args: []string{"pid", "nosuch"}, want: "No such process nosuch\n", code: 1},
		{name: "pid group", args: []string{"pid", "web:*"}, want: "No such process web:*\n", code: 1},
		{name: "pid all", args: []string{"pid", "all"}, want: "0\n0\n0\n0\n0\n101\n201\n0\n"},

		{name: "tail", args: []string{"tail", "sleeper"}, want: "starting\nhello from sleeper\n\n"},
		{name: "tail bytes", args: []string{"tail", "-8", "sleeper"}, want: "sleeper\n\n"},
		{name: "tail stderr", args: []string{"tail", "sleeper", "stderr"}, want: "a warning\n\n"},
		{name: "tail empty", args: []string{"tail", "web:web1"}, want: "\n"},
		{name: "tail unknown", args: []string{"tail", "nosuch"}, want: "nosuch: ERROR (no such process name)\n", code: 1},
		{name: "tail no log", args: []string{"tail", "manual"}, want: "manual: ERROR (no log file)\n", code: 1},
		{name: "tail bad channel", args: []string{"tail", "sleeper", "bogus"}, want: "Error: bad channel 'bogus'\n", code: 1},
		{name: "tail bad argument", args: []string{"tail", "-x", "sleeper"}, want: "Error: bad argument -x\n", code: 1},
		{name: "tail no args", args: []string{"tail"}, want: "Error: too few arguments\n", pre: true, code: 1},
		{name: "tail control characters", args: []string{"tail", "sleeper"},
			setup: func(w *world) {
				os.WriteFile(w.find("sleeper", "sleeper").StdoutLog, []byte("\x1b[31mred\x1b[0m \xe2\x82\n"), 0o644)
			},
			want: "\ufffd[31mred\ufffd[0m \ufffd\n\n"},

		{name: "maintail", args: []string{"maintail"}, want: "2026-11-27 10:44:00,000 INFO supervisord started with pid 4242\n\n"},
		{name: "maintail bytes", args: []string{"maintail", "-5"}, want: "4242\n\n"},
		{name: "maintail no log", args: []string{"maintail"}, setup: func(w *world) { w.mainLog = "" },
			want: "supervisord: ERROR (no log file)\n", code: 1},
		{name: "maintail bad argument", args: []string{"maintail", "x"}, want: "Error: bad argument x\n", code: 1},

		{name: "clear", args: []string{"clear", "sleeper"}, want: "sleeper: cleared\n",
			check: func(t *testing.T, w *world) { wantSize(t, w.find("sleeper", "sleeper").StdoutLog, 0) }},
		{name: "clear unknown", args: []string{"clear", "nosuch"}, want: "nosuch: ERROR (no such process)\n", code: 1},
		{name: "clear all", args: []string{"clear", "all"},
			want: "sleeper: cleared\nweb:web1: cleared\nweb:web2: cleared\nquick: cleared\nnotfound: cleared\nexits: cleared\nmanual: cleared\ncrashy: cleared\n"},
		{name: "clear no args", args: []string{"clear"}, want: "Error: clear requires a process name\n", pre: true, code: 1},

		{name: "avail", args: []string{"avail"}, want: "" +
			"crashy                           in use    auto      999:999\n" +
			"exits                            in use    auto      999:999\n" +
			"manual                           in use    manual    999:5\n" +
			"newgrp                           avail     auto      999:999\n" +
			"notfound                         in use    auto      999:999\n" +
			"quick                            in use    auto      999:999\n" +
			"sleeper                          in use    auto      999:999\n" +
			"web:web1                         in use    auto      100:1\n" +
			"web:web2                         in use    manual    100:2\n"},
		{name: "avail shutting down", args: []string{"avail"}, setup: shutting, want: "ERROR: supervisor shutting down\n", code: 1},

		{name: "reread", args: []string{"reread"},
			setup: func(w *world) { w.reload = [3][]string{{"newgrp"}, {"sleeper"}, {"exits"}} },
			want:  "exits: disappeared\nnewgrp: available\nsleeper: changed\n"},
		{name: "reread nothing", args: []string{"reread"}, want: "No config updates to processes\n"},
		{name: "reread error", args: []string{"reread"}, setup: func(w *world) { w.rereadErr = "section [program:x] has no command" },
			want: "ERROR: CANT_REREAD: section [program:x] has no command\n", code: 1},
		{name: "reread shutting down", args: []string{"reread"}, setup: shutting, want: "ERROR: supervisor shutting down\n", code: 1},

		{name: "update", args: []string{"update"},
			setup: func(w *world) { w.reload = [3][]string{{"newgrp"}, {"sleeper"}, {"exits"}} },
			want:  "exits: stopped\nexits: removed process group\nsleeper: stopped\nsleeper: updated process group\nnewgrp: added process group\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "newgrp", "RUNNING"); wantState(t, w, "exits", "") }},
		{name: "update unknown group", args: []string{"update", "nosuch"}, want: "ERROR: no such group: nosuch\n", code: 1},
		{name: "update error", args: []string{"update"}, setup: func(w *world) { w.rereadErr = "bad" },
			want: "error: <class 'xmlrpc.client.Fault'>, <Fault 92: 'CANT_REREAD: bad'>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668\n", code: 1},
		{name: "update shutting down", args: []string{"update"}, setup: shutting, want: "ERROR: already shutting down\n", code: 1},

		{name: "add", args: []string{"add", "newgrp"}, want: "newgrp: added process group\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "newgrp", "RUNNING") }},
		{name: "add active", args: []string{"add", "sleeper"}, want: "ERROR: process group already active\n"},
		{name: "add unknown", args: []string{"add", "nosuch"}, want: "ERROR: no such process/group: nosuch\n", code: 1},
		{name: "add shutting down", args: []string{"add", "newgrp"}, setup: shutting, want: "ERROR: shutting down\n", code: 1},

		{name: "remove", args: []string{"remove", "manual"}, want: "manual: removed process group\n",
			check: func(t *testing.T, w *world) { wantState(t, w, "manual", "") }},
		{name: "remove running", args: []string{"remove", "sleeper"}, want: "ERROR: process/group still running: sleeper\n", code: 1},
		{name: "remove unknown", args: []string{"remove", "nosuch"}, want: "ERROR: no such process/group: nosuch\n", code: 1},

		{name: "reload", args: []string{"reload"}, want: "Restarted supervisord\n",
			check: func(t *testing.T, w *world) {
				if !w.restarted {
					t.Error("Restart was not called")
				}
			}},
		{name: "reload shutting down", args: []string{"reload"}, setup: shutting, want: "ERROR: already shutting down\n", code: 1},
		{name: "shutdown", args: []string{"shutdown"}, want: "Shut down\n",
			check: func(t *testing.T, w *world) {
				if !w.shutdown {
					t.Error("Shutdown was not called")
				}
			}},
		{name: "shutdown shutting down", args: []string{"shutdown"}, setup: shutting, want: "ERROR: already shutting down\n"},

		{name: "version", args: []string{"version"}, want: "4.2.5\n"},
		{name: "version args", args: []string{"version", "x"}, want: "Error: version accepts no arguments\n", pre: true, code: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			sock := serveUnix(t, w.server(), Auth{})
			out, errOut, code := runCtl(t, ctlConfig(t, "unix://"+sock, "", ""), c.args...)
			if c.pre {
				if !strings.HasPrefix(out, c.want) {
					t.Errorf("supervisorctl %s printed\n%s\nwant it to start with\n%s", strings.Join(c.args, " "), out, c.want)
				}
			} else if out != c.want {
				t.Errorf("supervisorctl %s printed\n%q\nwant\n%q", strings.Join(c.args, " "), out, c.want)
			}
			if code != c.code {
				t.Errorf("supervisorctl %s exited %d, want %d (stderr %q)", strings.Join(c.args, " "), code, c.code, errOut)
			}
			if c.check != nil {
				w.mu.Lock()
				defer w.mu.Unlock()
				c.check(t, w)
			}
		})
	}
}

// wantState checks the state of the process of that group and name (the
// groups of the fixture are homogeneous), "" for no such process.
func wantState(t *testing.T, w *world, name, state string) {
	t.Helper()
	p := w.find(name, name)
	got := ""
	if p != nil {
		got = p.State.String()
	}
	if got != state {
		t.Errorf("%s is %q, want %q", name, got, state)
	}
}

func wantSignals(t *testing.T, w *world, want ...string) {
	t.Helper()
	if fmt.Sprint(w.signals) != fmt.Sprint(want) {
		t.Errorf("signals sent: %v, want %v", w.signals, want)
	}
}

func wantSize(t *testing.T, path string, size int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != size {
		t.Errorf("%s has %d bytes, want %d", path, fi.Size(), size)
	}
}

// TestSupervisorctlTailFollow runs supervisorctl tail -f and maintail -f,
// sees the tail and what is written afterwards arrive, then interrupts it
// as Ctrl-C does; the server must end the stream.
func TestSupervisorctlTailFollow(t *testing.T) {
	requireSupervisorctl(t)
	for _, c := range []struct {
		name string
		args []string
		file func(w *world) string
		head string
	}{
		{"tail -f", []string{"tail", "-f", "sleeper"}, func(w *world) string { return w.find("sleeper", "sleeper").StdoutLog }, "starting\nhello from sleeper\n"},
		{"tail -f stderr", []string{"tail", "-f", "sleeper", "stderr"}, func(w *world) string { return w.find("sleeper", "sleeper").StderrLog }, "a warning\n"},
		{"maintail -f", []string{"maintail", "-f"}, func(w *world) string { return w.mainLog }, "2026-11-27 10:44:00,000 INFO supervisord started with pid 4242\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			s := w.server()
			sock := serveUnix(t, s, Auth{})
			cmd := ctlCommand(ctlConfig(t, "unix://"+sock, "", ""), c.args...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			t.Cleanup(func() {
				if !killed {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})
			r := bufio.NewReader(out)
			want := "==> Press Ctrl-C to exit <==\n" + c.head
			readExactly(t, r, want)

			// Appends arrive; a rotation (new file under the name) is followed.
			appendFile(t, c.file(w), "more output\n")
			readExactly(t, r, "more output\n")
			if err := os.Rename(c.file(w), c.file(w)+".1"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, c.file(w), "after rotation\n")
			readExactly(t, r, "after rotation\n")

			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			exited := make(chan []byte, 1)
			go func() {
				rest, _ := io.ReadAll(r)
				exited <- rest
			}()
			var rest []byte
			select {
			case rest = <-exited:
			case <-time.After(10 * time.Second):
				// supervisorctl's own Ctrl-C handling, not the server's;
				// the server's part (ending the stream when the client
				// goes) is checked by Close in the cleanup either way.
				t.Logf("supervisorctl %v still runs 10 s after SIGINT; killing it", c.args)
				cmd.Process.Kill()
				<-exited
				cmd.Wait()
				killed = true
				return
			}
			err = cmd.Wait()
			killed = true
			if err != nil {
				t.Errorf("supervisorctl %v after SIGINT: %v", c.args, err)
			}
			// supervisorctl prints an empty line when the interrupt
			// reaches its loop, nothing when it lands in its socket
			// handler (which then closes the connection).
			if s := string(rest); s != "\n" && s != "" {
				t.Errorf("after SIGINT supervisorctl printed %q", rest)
			}
			// The server sees the client go and ends the stream: Close
			// (in the cleanup) waits for it.
		})
	}
}

func readExactly(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(r, got)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reading %q: %v (got %q)", want, err, got)
		}
	case <-time.After(30 * time.Second): // a hang, not a speed check
		t.Fatalf("no %q from supervisorctl after 30 s", want)
	}
	if string(got) != want {
		t.Fatalf("supervisorctl printed %q, want %q", got, want)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSupervisorctlAuth checks Basic auth with a plain and a {SHA}
// password: the right one works, a wrong one gets 401 and supervisorctl's
// "Server requires authentication".
func TestSupervisorctlAuth(t *testing.T) {
	requireSupervisorctl(t)
	for _, c := range []struct {
		name   string
		stored string
	}{
		{"plain", "s3cret"},
		{"sha", "{SHA}fef341f85d87439e7d91a2d465b9871ef66b5e98"}, // sha1("s3cret")
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			sock := serveUnix(t, w.server(), Auth{Username: "admin", Password: c.stored})
			out, _, code := runCtl(t, ctlConfig(t, "unix://"+sock, "admin", "s3cret"), "version")
			if out != "4.2.5\n" || code != 0 {
				t.Errorf("right password: %q, exit %d", out, code)
			}
			out, _, code = runCtl(t, ctlConfig(t, "unix://"+sock, "admin", "wrong"), "version")
			want := "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539\n"
			if out != want || code != 1 {
				t.Errorf("wrong password: %q, exit %d; want %q, exit 1", out, code, want)
			}
		})
	}
}

// TestSupervisorctlNoServer checks what supervisorctl says when the socket
// is gone, which is the state after a clean shutdown removed it.
func TestSupervisorctlNoServer(t *testing.T) {
	requireSupervisorctl(t)
	sock := filepath.Join(shortDir(t), "gone.sock")
	conf := ctlConfig(t, "unix://"+sock, "", "")
	out, _, code := runCtl(t, conf, "status")
	if want := "unix://" + sock + " no such file\n"; out != want || code != 4 {
		t.Errorf("status: %q exit %d, want %q exit 4", out, code, want)
	}
	out, _, code = runCtl(t, conf, "shutdown")
	if want := "ERROR: unix://" + sock + " no such file (already shut down?)\n"; out != want || code != 1 {
		t.Errorf("shutdown: %q exit %d, want %q exit 1", out, code, want)
	}
}
