package ctl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/xmlrpc"
)

// fakeConn is a Conn for what a real server cannot be made to do on
// demand: another API version, a shutdown in progress, a transport that
// is not XML-RPC, a call that hangs until Ctrl-C.
type fakeConn struct {
	call func(ctx context.Context, method string, args ...any) (any, error)
	tail func(ctx context.Context, path string) (io.ReadCloser, error)
	url  string
}

func (f fakeConn) Call(ctx context.Context, method string, args ...any) (any, error) {
	if f.call == nil {
		return nil, &xmlrpc.Fault{Code: xmlrpc.FaultUnknownMethod, String: "UNKNOWN_METHOD"}
	}
	return f.call(ctx, method, args...)
}

func (f fakeConn) Tail(ctx context.Context, path string) (io.ReadCloser, error) {
	if f.tail == nil {
		return nil, &xmlrpc.HTTPError{URL: f.ServerURL() + path, StatusCode: 404, Status: "404 Not Found"}
	}
	return f.tail(ctx, path)
}

func (f fakeConn) ServerURL() string {
	if f.url == "" {
		return "unix:///fake.sock"
	}
	return f.url
}

// server answers the methods in m (a value, or an error to return),
// getVersion with "3.0" unless m says otherwise.
func server(m map[string]any) fakeConn {
	return fakeConn{call: func(ctx context.Context, method string, args ...any) (any, error) {
		v, ok := m[method]
		if !ok && method == "supervisor.getVersion" {
			return "3.0", nil
		}
		if !ok {
			return nil, &xmlrpc.Fault{Code: xmlrpc.FaultUnknownMethod, String: "UNKNOWN_METHOD"}
		}
		switch v := v.(type) {
		case error:
			return nil, v
		case func(args ...any) (any, error):
			return v(args...)
		}
		return v, nil
	}}
}

func testController(t *testing.T, conn Conn) (*controller, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	c := &controller{opts: &Options{Prompt: "supervisor"}, conn: conn, stdout: &out, stderr: &out}
	return c, &out
}

// runFake runs a command line (or the shell, for an empty line) on conn.
func runFake(t *testing.T, conn Conn, line, stdin string, mod ...func(*Options)) (stdout, stderr string, code int) {
	t.Helper()
	opts := &Options{Prog: "supervisorctl", ServerURL: conn.ServerURL(), Prompt: "supervisor"}
	if line != "" {
		opts.Command = strings.Fields(line)
	} else {
		opts.Interactive = true
	}
	for _, f := range mod {
		f(opts)
	}
	var o, e syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = Run(ctx, conn, opts, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

func TestFakeServer(t *testing.T) {
	shutdownState := &xmlrpc.Fault{Code: xmlrpc.FaultShutdownState, String: "SHUTDOWN_STATE"}
	notReachable := errors.New("systemd user manager not reachable: dial unix /run/user/0/bus: connect: no such file or directory")
	proc := map[string]any{"name": "a", "group": "a", "status": xmlrpc.FaultFailed, "description": "FAILED: x"}
	for _, c := range []struct {
		name   string
		conn   Conn
		line   string
		stdout string
		code   int
	}{
		{"api version", server(map[string]any{"supervisor.getVersion": "2.0"}), "version",
			"Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 2.0.\n", 5},
		{"api version status", server(map[string]any{"supervisor.getVersion": "2.0"}), "status",
			"Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 2.0.\n", 4},
		{"api version not a string", server(map[string]any{"supervisor.getVersion": 3}), "pid",
			"Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 3.\n", 5},
		{"shutting down: status", server(map[string]any{"supervisor.getAllProcessInfo": shutdownState}), "status",
			"error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: /usr/lib/python3.11/xmlrpc/client.py line: 668\n", 1},
		{"shutting down: shutdown", server(map[string]any{"supervisor.shutdown": shutdownState}), "shutdown",
			"ERROR: already shutting down\n", 0},
		{"shutting down: reload", server(map[string]any{"supervisor.restart": shutdownState}), "reload",
			"ERROR: already shutting down\n", 1},
		{"shutting down: avail", server(map[string]any{"supervisor.getAllConfigInfo": shutdownState}), "avail",
			"ERROR: supervisor shutting down\n", 1},
		{"shutting down: reread", server(map[string]any{"supervisor.reloadConfig": shutdownState}), "reread",
			"ERROR: supervisor shutting down\n", 1},
		{"shutting down: update", server(map[string]any{"supervisor.reloadConfig": shutdownState}), "update",
			"ERROR: already shutting down\n", 1},
		{"shutting down: add", server(map[string]any{"supervisor.addProcessGroup": shutdownState}), "add a b",
			"ERROR: shutting down\nERROR: shutting down\n", 1},
		{"transport: status", fakeConn{call: func(context.Context, string, ...any) (any, error) { return nil, notReachable }}, "status",
			"error: " + notReachable.Error() + "\n", 4},
		{"transport: version", fakeConn{call: func(context.Context, string, ...any) (any, error) { return nil, notReachable }}, "version",
			"error: " + notReachable.Error() + "\n", 1},
		{"transport: avail", fakeConn{call: func(context.Context, string, ...any) (any, error) { return nil, notReachable }}, "avail",
			"error: " + notReachable.Error() + "\n", 1},
		{"unknown result code", server(map[string]any{"supervisor.startAllProcesses": []any{proc}}), "start all",
			"error: <class 'ValueError'>, Unknown result code 30 for a: file: /usr/lib/python3/dist-packages/supervisor/supervisorctl.py line: 761\n", 1},
		{"failed stop result", server(map[string]any{"supervisor.stopAllProcesses": []any{proc}}), "stop all",
			"FAILED: x\n", 1},
		{"unknown method", server(map[string]any{"supervisor.getVersion": &xmlrpc.Fault{Code: 1, String: "UNKNOWN_METHOD"}}), "version",
			"Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).\n", 3},
		{"malformed answer", server(map[string]any{"supervisor.getAllProcessInfo": "nope"}), "status",
			"error: malformed answer from the server: getAllProcessInfo: not an array: nope\n", 1},
		{"bad server url", nil, "status", "error: <class 'ValueError'>, Unknown protocol for serverurl ftp://x: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 505\n", 1},
		{"open without dial", server(nil), "open http://x", "ERROR: open is not available here: this connection does not speak XML-RPC\n", 1},
		{"open bad url", server(nil), "open http://[x", "error: <class 'ValueError'>, Invalid IPv6 URL: file: /usr/lib/python3.11/urllib/parse.py line: 514\n", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout string
			var code int
			if c.conn == nil {
				opts := &Options{ServerURL: "ftp://x", Command: []string{c.line}}
				var o, e bytes.Buffer
				code = Run(context.Background(), nil, opts, strings.NewReader(""), &o, &e)
				stdout = o.String()
			} else {
				stdout, _, code = runFake(t, c.conn, c.line, "")
			}
			if stdout != c.stdout || code != c.code {
				t.Errorf("%s: got %q, exit %d; want %q, exit %d", c.line, stdout, code, c.stdout, c.code)
			}
		})
	}
}

// On 401 the shell asks for a username and password, connects again
// with them and repeats the command.
func TestAuthenticateInShell(t *testing.T) {
	denied := fakeConn{call: func(context.Context, string, ...any) (any, error) {
		return nil, &xmlrpc.HTTPError{URL: "unix:///fake.sock/RPC2", StatusCode: 401, Status: "401 Unauthorized"}
	}}
	var gotUser, gotPass string
	ok := server(map[string]any{"supervisor.getAllProcessInfo": []any{}, "supervisor.getSupervisorVersion": "4.2.5"})
	stdout, stderr, code := runFake(t, denied, "", "bob\nsecret\nversion\n", func(o *Options) {
		o.Dial = func(url, u, p string) (Conn, error) {
			gotUser, gotPass = u, p
			return ok, nil
		}
	})
	want := "Server requires authentication\nUsername:\nsupervisor> 4.2.5\nsupervisor> \n"
	if stdout != want || code != 0 {
		t.Errorf("stdout %q, exit %d; want %q, 0", stdout, code, want)
	}
	if stderr != "Warning: Password input may be echoed.\nPassword:" {
		t.Errorf("stderr %q", stderr)
	}
	if gotUser != "bob" || gotPass != "secret" {
		t.Errorf("Dial got %q %q", gotUser, gotPass)
	}
	// without -i (a command line), it says so, tries once more and
	// reports what the second try raised
	stdout, _, code = runFake(t, denied, "status", "")
	want = "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: /usr/lib/python3/dist-packages/supervisor/xmlrpc.py line: 539\n"
	if stdout != want || code != 1 {
		t.Errorf("command line: stdout %q, exit %d; want %q, 1", stdout, code, want)
	}
}

// blockingServer answers getVersion, getSupervisorVersion and
// getAllProcessInfo (nothing), and blocks every other call until ctx is
// done; its tails stream "data\n" and then block.
func blockingServer() fakeConn {
	return fakeConn{
		call: func(ctx context.Context, method string, args ...any) (any, error) {
			switch method {
			case "supervisor.getVersion":
				return "3.0", nil
			case "supervisor.getSupervisorVersion":
				return "4.2.5", nil
			case "supervisor.getAllProcessInfo":
				return []any{}, nil
			case "supervisor.getProcessInfo":
				return map[string]any{"state": xmlrpc.StateCode(status.Running)}, nil
			}
			<-ctx.Done()
			return nil, ctx.Err()
		},
		tail: func(ctx context.Context, path string) (io.ReadCloser, error) {
			pr, pw := io.Pipe()
			go func() {
				pw.Write([]byte("data\n"))
				<-ctx.Done()
				pw.CloseWithError(ctx.Err())
			}()
			return pr, nil
		},
	}
}

// interruptWhen sends Ctrl-C once out holds want.
func interruptWhen(out *syncBuffer, want string) <-chan os.Signal {
	ch := make(chan os.Signal)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		ch <- os.Interrupt
	}()
	return ch
}

// Ctrl-C ends tail -f and fg as finished commands (status 0), and the
// shell then prompts again; elsewhere it ends a command line with status
// 130, and the shell with an empty line.
func TestInterrupt(t *testing.T) {
	for _, c := range []struct {
		name, line string
		stdin      []string // the lines typed: the first at once, then one more each time stdout grows past after
		after      string   // Ctrl-C once stdout holds this
		stdout     string
		code       int
	}{
		{"tail -f", "tail -f a", nil, "data\n", "==> Press Ctrl-C to exit <==\ndata\n\n", 0},
		{"maintail -f", "maintail -f", nil, "data\n", "==> Press Ctrl-C to exit <==\ndata\n\n", 0},
		{"fg", "fg a", nil, "data\ndata\n", "==> Press Ctrl-C to exit <==\ndata\ndata\nExiting foreground\n", 0},
		{"blocked command", "pid", nil, "", "", 130},
		{"shell: tail -f", "", []string{"tail -f a\n", "version\n"}, "data\n",
			"supervisor> ==> Press Ctrl-C to exit <==\ndata\n\nsupervisor> 4.2.5\nsupervisor> \n", 0},
		{"shell: blocked command", "", []string{"pid\n"}, "supervisor> ", "supervisor> \n", 0},
		{"shell: prompt", "", nil, "supervisor> ", "supervisor> \n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := &Options{Prog: "supervisorctl", Prompt: "supervisor", Interactive: c.line == ""}
			if c.line != "" {
				opts.Command = strings.Fields(c.line)
			}
			var out, errb syncBuffer
			opts.Interrupt = interruptWhen(&out, c.after)
			pr, pw := io.Pipe()
			go func() {
				for i, line := range c.stdin {
					if i > 0 {
						for !strings.Contains(out.String(), c.after) {
							time.Sleep(5 * time.Millisecond)
						}
						time.Sleep(50 * time.Millisecond)
					}
					pw.Write([]byte(line))
				}
				if len(c.stdin) > 1 {
					pw.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := Run(ctx, blockingServer(), opts, pr, &out, &errb)
			pw.Close()
			if got := out.String(); got != c.stdout || code != c.code {
				t.Errorf("stdout %q, exit %d; want %q, %d", got, code, c.stdout, c.code)
			}
		})
	}
}

// Cancelling Run's ctx acts as Ctrl-C on tail -f.
func TestContextEndsTail(t *testing.T) {
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !strings.Contains(out.String(), "data\n") {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	code := Run(ctx, blockingServer(), &Options{Command: []string{"tail", "-f", "x"}}, strings.NewReader(""), &out, &errb)
	if got := out.String(); got != "==> Press Ctrl-C to exit <==\ndata\n\n" || code != 0 {
		t.Errorf("stdout %q, exit %d", got, code)
	}
}

func TestTailErrors(t *testing.T) {
	refused := &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name   string
		tail   func(context.Context, string) (io.ReadCloser, error)
		stderr string
	}{
		{"404", nil, "unix:///fake.sock/logtail/a/stdout Cannot read, status code 404\n"},
		{"refused", func(context.Context, string) (io.ReadCloser, error) {
			return nil, &netOpError{err: refused}
		}, "unix:///fake.sock/logtail/a/stdout Cannot connect, error: <class 'ConnectionRefusedError'> ([Errno 111] Connection refused)\n"},
		{"other", func(context.Context, string) (io.ReadCloser, error) {
			return nil, errors.New("no journal")
		}, "unix:///fake.sock/logtail/a/stdout Cannot connect, error: no journal\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := server(nil)
			conn.tail = c.tail
			stdout, stderr, code := runFake(t, conn, "tail -f a", "")
			if stdout != "==> Press Ctrl-C to exit <==\n" || stderr != c.stderr || code != 0 {
				t.Errorf("stdout %q, stderr %q, exit %d; want stderr %q", stdout, stderr, code, c.stderr)
			}
		})
	}
}

// netOpError stands for the *net.OpError of a failed dial.
type netOpError struct{ err error }

func (e *netOpError) Error() string { return "dial unix /x: " + e.err.Error() }
func (e *netOpError) Unwrap() error { return e.err }

// fg sends each line to the process and stops when it is gone.
func TestFg(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	running := true
	conn := server(map[string]any{
		"supervisor.getProcessInfo": func(args ...any) (any, error) {
			mu.Lock()
			defer mu.Unlock()
			st := status.Running
			if !running {
				st = status.Exited
			}
			return map[string]any{"state": xmlrpc.StateCode(st)}, nil
		},
		"supervisor.sendProcessStdin": func(args ...any) (any, error) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, args[1].(string))
			if len(sent) == 2 {
				running = false
			}
			return true, nil
		},
	})
	stdout, _, code := runFake(t, conn, "fg a", "one\ntwo\nthree\n")
	if stdout != "==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n" || code != 0 {
		t.Errorf("stdout %q, exit %d", stdout, code)
	}
	if strings.Join(sent, "|") != "one\n|two\n" {
		t.Errorf("sent %q", sent)
	}
	notRunning := &xmlrpc.Fault{Code: xmlrpc.FaultNotRunning, String: "NOT_RUNNING: a"}
	conn = server(map[string]any{
		"supervisor.getProcessInfo":   map[string]any{"state": xmlrpc.StateCode(status.Running)},
		"supervisor.sendProcessStdin": notRunning,
	})
	stdout, _, _ = runFake(t, conn, "fg a", "one\n")
	if stdout != "==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n" {
		t.Errorf("NOT_RUNNING: stdout %q", stdout)
	}
	conn = server(map[string]any{
		"supervisor.getProcessInfo":   map[string]any{"state": xmlrpc.StateCode(status.Running)},
		"supervisor.sendProcessStdin": &xmlrpc.Fault{Code: xmlrpc.FaultNoFile, String: "NO_FILE: stdin closed"},
	})
	stdout, _, _ = runFake(t, conn, "fg a", "one\n")
	if stdout != "==> Press Ctrl-C to exit <==\nERROR: <Fault 20: 'NO_FILE: stdin closed'>\nExiting foreground\n" {
		t.Errorf("NO_FILE: stdout %q", stdout)
	}
}

func TestCredentials(t *testing.T) {
	for _, c := range []struct {
		args       []string
		user, pass string
	}{
		{nil, "", ""},
		{[]string{"-u", "a"}, "", ""},
		{[]string{"-p", "b"}, "", ""},
		{[]string{"-u", "a", "-p", "b"}, "a", "b"},
		{[]string{"-u", "", "-p", ""}, "", ""},
	} {
		var out, errb bytes.Buffer
		opts, code := parseArgs("supervisorctl", append(append([]string{"-c", ""}, c.args...), "version"), nil, "/", &out, &errb)
		if code >= 0 {
			t.Fatalf("%q: exit %d: %s", c.args, code, errb.String())
		}
		if u, p := opts.Credentials(); u != c.user || p != c.pass {
			t.Errorf("%q: Credentials() = %q, %q", c.args, u, p)
		}
	}
}

// -h of supersede ctl lists its own options too; supervisorctl's does not.
func TestHelpText(t *testing.T) {
	for prog, want := range map[string]bool{"/usr/bin/supervisorctl": false, "supervisorctl": false, "supersede ctl": true} {
		var out, errb bytes.Buffer
		if _, code := parseArgs(prog, []string{"-h"}, nil, "/", &out, &errb); code != 0 {
			t.Fatalf("%s -h: exit %d", prog, code)
		}
		if got := strings.Contains(out.String(), "--system"); got != want {
			t.Errorf("%s -h mentions --system: %v\n%s", prog, got, out.String())
		}
		if !strings.Contains(out.String(), "Usage: "+prog+" [options]") {
			t.Errorf("%s -h: %s", prog, out.String())
		}
	}
	var out, errb bytes.Buffer
	if _, code := parseArgs("supersede ctl", []string{"--user", "--system"}, nil, "/", &out, &errb); code != 2 ||
		errb.String() != "Error: --user and --system cannot be used together\nFor help, use supersede ctl -h\n" {
		t.Errorf("--user --system: exit %d, %q", code, errb.String())
	}
}

// A file without [supervisorctl] is refused by supervisorctl; ctl leaves
// the decision to its caller, which refuses it for XML-RPC only.
func TestMissingSection(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/s.conf"
	if err := os.WriteFile(conf, []byte("[supervisord]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	for _, c := range []struct {
		args    []string
		missing bool
		code    int
	}{
		{[]string{"-c", conf, "status"}, true, -1},
		{[]string{"-c", conf, "--user", "status"}, true, -1},
		{[]string{"-c", conf, "-s", "unix:///x", "status"}, false, 2},
	} {
		errb.Reset()
		opts, code := parseArgs("supersede ctl", c.args, nil, dir, &out, &errb)
		if code != c.code || (opts != nil && opts.MissingSection != c.missing) {
			t.Errorf("%v: code %d, opts %+v, stderr %q", c.args, code, opts, errb.String())
		}
	}
}

// listerConn is a fakeConn that is also a StatusLister.
type listerConn struct {
	fakeConn
	rows func(ctx context.Context) ([]xmlrpc.StatusRow, error)
}

func (l listerConn) StatusRows(ctx context.Context) ([]xmlrpc.StatusRow, error) { return l.rows(ctx) }

// status prints the same lines and exits with the same status whether
// the Conn hands it rows (StatusLister) or getAllProcessInfo's structs,
// and reports the same error when the answer fails.
func TestStatusLister(t *testing.T) {
	t.Parallel()
	rows := []xmlrpc.StatusRow{
		{Group: "a", Name: "a", State: 20, StateName: "RUNNING", Description: "pid 1, uptime 0:00:01"},
		{Group: "web", Name: "web_00", State: 0, StateName: "STOPPED", Description: "Not started"},
		{Group: "web", Name: "web_01", State: 200, StateName: "FATAL", Description: "Exited too quickly (process log may have details)"},
		{Group: "é", Name: "é", State: 100, StateName: "EXITED", Description: "Dec 06 01:02 PM"},
	}
	var structs []any
	for _, r := range rows {
		structs = append(structs, map[string]any{"group": r.Group, "name": r.Name, "state": r.State, "statename": r.StateName,
			"description": r.Description, "pid": 0, "start": 0, "stop": 0, "now": 0, "spawnerr": "", "exitstatus": 0,
			"logfile": "", "stdout_logfile": "", "stderr_logfile": ""})
	}
	var fail error
	plain := server(map[string]any{"supervisor.getAllProcessInfo": func(...any) (any, error) {
		if fail != nil {
			return nil, fail
		}
		return structs, nil
	}})
	lister := listerConn{fakeConn: plain, rows: func(context.Context) ([]xmlrpc.StatusRow, error) {
		if fail != nil {
			return nil, fail
		}
		return rows, nil
	}}
	for _, line := range []string{"status", "status all", "status a", "status web:*", "status web:web_01 a", "status nosuch web:nope", "status é"} {
		wo, we, wc := runFake(t, plain, line, "")
		go_, ge, gc := runFake(t, lister, line, "")
		if go_ != wo || ge != we || gc != wc {
			t.Errorf("%s: with rows %q %q exit %d; with structs %q %q exit %d", line, go_, ge, gc, wo, we, wc)
		}
	}
	fail = &xmlrpc.Fault{Code: xmlrpc.FaultShutdownState, String: "SHUTDOWN_STATE"}
	wo, we, wc := runFake(t, plain, "status", "")
	go_, ge, gc := runFake(t, lister, "status", "")
	if go_ != wo || ge != we || gc != wc || !strings.Contains(wo+we, "SHUTDOWN_STATE") {
		t.Errorf("a fault: with rows %q %q exit %d; with structs %q %q exit %d", go_, ge, gc, wo, we, wc)
	}
}
