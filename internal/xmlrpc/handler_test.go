package xmlrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// post sends body to /RPC2 of h and returns the status code and body.
func post(h http.Handler, body string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/RPC2", strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// client serves the world on a unix socket and returns a client for it.
func (w *world) client(t testing.TB) *Client {
	t.Helper()
	sock := serveUnix(t, w.server(), Auth{})
	c, err := NewClient("unix://"+sock, "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func result3(name, group string, code int, desc string) map[string]any {
	return map[string]any{"name": name, "group": group, "status": code, "description": desc}
}

// TestMethods calls every supervisor.* method and alias through a real
// socket and the client, against the fixture world.
func TestMethods(t *testing.T) {
	ok := func(n, g string) map[string]any { return result3(n, g, 80, "OK") }
	sleeperInfo := map[string]any{
		"name": "sleeper", "group": "sleeper", "start": int(fixtureNow.Unix()) - 10, "stop": 0, "now": int(fixtureNow.Unix()),
		"state": 20, "statename": "RUNNING", "spawnerr": "", "exitstatus": 0,
		"pid": 101, "description": "pid 101, uptime 0:00:10",
	}
	type tc struct {
		name   string
		method string
		args   []any
		setup  func(w *world)
		want   any    // nil: not checked
		fault  string // the fault string expected instead
		check  func(t *testing.T, w *world, got any)
	}
	cases := []tc{
		{name: "getAPIVersion", method: "supervisor.getAPIVersion", want: "3.0"},
		{name: "getVersion", method: "supervisor.getVersion", want: "3.0"},
		{name: "getSupervisorVersion", method: "supervisor.getSupervisorVersion", want: "4.2.5"},
		{name: "getIdentification", method: "supervisor.getIdentification", want: "supervisor"},
		{name: "getState", method: "supervisor.getState", want: map[string]any{"statecode": 1, "statename": "RUNNING"}},
		{name: "getPID", method: "supervisor.getPID", want: 4242},
		{name: "readLog tail", method: "supervisor.readLog", args: []any{-5, 0}, want: "4242\n"},
		{name: "readMainLog range", method: "supervisor.readMainLog", args: []any{0, 4}, want: "2026"},
		{name: "readLog to end", method: "supervisor.readLog", args: []any{58, 0}, want: "4242\n"},
		{name: "readLog past end", method: "supervisor.readLog", args: []any{1000, 0}, want: ""},
		{name: "readLog bad arguments", method: "supervisor.readLog", args: []any{-5, 3}, fault: "BAD_ARGUMENTS"},
		{name: "readLog negative length", method: "supervisor.readLog", args: []any{0, -3}, fault: "BAD_ARGUMENTS"},
		{name: "readLog numeric strings", method: "supervisor.readLog", args: []any{"-5", "0"}, want: "4242\n"},
		{name: "readLog no log", method: "supervisor.readLog", args: []any{0, 0}, setup: func(w *world) { w.mainLog = "" }, fault: "NO_FILE"},
		{name: "readLog missing file", method: "supervisor.readLog", args: []any{0, 0},
			setup: func(w *world) { w.mainLog = filepath.Join(w.dir, "gone.log") }, fault: "NO_FILE: "},
		{name: "clearLog", method: "supervisor.clearLog", want: true,
			check: func(t *testing.T, w *world, _ any) { wantSize(t, w.mainLog, 0) }},
		{name: "clearLog no log", method: "supervisor.clearLog", setup: func(w *world) { w.mainLog = "" }, fault: "NO_FILE"},
		{name: "shutdown", method: "supervisor.shutdown", want: true},
		{name: "restart", method: "supervisor.restart", want: true},
		{name: "reloadConfig", method: "supervisor.reloadConfig", setup: func(w *world) { w.reload = [3][]string{{"a"}, nil, {"b", "c"}} },
			want: []any{[]any{[]any{"a"}, []any{}, []any{"b", "c"}}}},
		{name: "reloadConfig error", method: "supervisor.reloadConfig", setup: func(w *world) { w.rereadErr = "x.conf:3: bad" },
			fault: "CANT_REREAD: x.conf:3: bad"},
		{name: "addProcessGroup", method: "supervisor.addProcessGroup", args: []any{"newgrp"}, want: true},
		{name: "addProcessGroup active", method: "supervisor.addProcessGroup", args: []any{"sleeper"}, fault: "ALREADY_ADDED: sleeper"},
		{name: "addProcessGroup unknown", method: "supervisor.addProcessGroup", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "removeProcessGroup", method: "supervisor.removeProcessGroup", args: []any{"manual"}, want: true},
		{name: "removeProcessGroup running", method: "supervisor.removeProcessGroup", args: []any{"web"}, fault: "STILL_RUNNING: web"},
		{name: "removeProcessGroup unknown", method: "supervisor.removeProcessGroup", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},

		{name: "startProcess", method: "supervisor.startProcess", args: []any{"manual"}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantState(t, w, "manual", "RUNNING") }},
		{name: "startProcess no wait", method: "supervisor.startProcess", args: []any{"manual", false}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantState(t, w, "manual", "STARTING") }},
		{name: "startProcess full name", method: "supervisor.startProcess", args: []any{"manual:manual"}, want: true},
		{name: "startProcess running", method: "supervisor.startProcess", args: []any{"sleeper:sleeper"}, fault: "ALREADY_STARTED: sleeper:sleeper"},
		{name: "startProcess no file", method: "supervisor.startProcess", args: []any{"notfound"}, fault: "NO_FILE: can't find command '/nonexistent/cmd'"},
		{name: "startProcess spawn error", method: "supervisor.startProcess", args: []any{"crashy"}, fault: "SPAWN_ERROR: crashy"},
		{name: "startProcess unknown state", method: "supervisor.startProcess", args: []any{"manual"},
			setup: func(w *world) { w.find("manual", "manual").State = status.Unknown }, fault: "FAILED: manual is in an unknown process state"},
		{name: "startProcess unknown", method: "supervisor.startProcess", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "startProcess unknown in group", method: "supervisor.startProcess", args: []any{"web:nosuch"}, fault: "BAD_NAME: web:nosuch"},
		{name: "startProcess group spec", method: "supervisor.startProcess", args: []any{"web:*"}, want: []any{ok("web2", "web")}},
		{name: "startProcessGroup", method: "supervisor.startProcessGroup", args: []any{"web"}, want: []any{ok("web2", "web")}},
		{name: "startProcessGroup empty", method: "supervisor.startProcessGroup", args: []any{"empty"},
			setup: func(w *world) { w.groups = append(w.groups, "empty") }, want: []any{}},
		{name: "startProcessGroup unknown", method: "supervisor.startProcessGroup", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "startAllProcesses", method: "supervisor.startAllProcesses", want: []any{
			result3("notfound", "notfound", 20, "NO_FILE: can't find command '/nonexistent/cmd'"),
			ok("web2", "web"), ok("exits", "exits"), ok("manual", "manual"),
			result3("crashy", "crashy", 50, "SPAWN_ERROR: crashy"),
		}},
		{name: "startAllProcesses no wait", method: "supervisor.startAllProcesses", args: []any{false}, want: []any{
			ok("web2", "web"),
			result3("notfound", "notfound", 20, "NO_FILE: can't find command '/nonexistent/cmd'"),
			ok("exits", "exits"), ok("manual", "manual"), ok("crashy", "crashy"),
		}},

		{name: "stopProcess", method: "supervisor.stopProcess", args: []any{"sleeper"}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantState(t, w, "sleeper", "STOPPED") }},
		{name: "stopProcess no wait", method: "supervisor.stopProcess", args: []any{"sleeper", false}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantState(t, w, "sleeper", "STOPPING") }},
		{name: "stopProcess stopped", method: "supervisor.stopProcess", args: []any{"manual"}, fault: "NOT_RUNNING: manual"},
		{name: "stopProcessGroup", method: "supervisor.stopProcessGroup", args: []any{"web"}, want: []any{ok("web1", "web")}},
		{name: "stopProcess group spec", method: "supervisor.stopProcess", args: []any{"web:"}, want: []any{ok("web1", "web")}},
		{name: "stopProcessGroup unknown", method: "supervisor.stopProcessGroup", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "stopAllProcesses", method: "supervisor.stopAllProcesses", want: []any{ok("sleeper", "sleeper"), ok("web1", "web"), ok("quick", "quick")}},

		{name: "signalProcess", method: "supervisor.signalProcess", args: []any{"sleeper", "hup"}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantSignals(t, w, "sleeper 1") }},
		{name: "signalProcess SIG prefix", method: "supervisor.signalProcess", args: []any{"sleeper", "SIGUSR2"}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantSignals(t, w, "sleeper 12") }},
		{name: "signalProcess int", method: "supervisor.signalProcess", args: []any{"sleeper", 15}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantSignals(t, w, "sleeper 15") }},
		{name: "signalProcess bad signal", method: "supervisor.signalProcess", args: []any{"sleeper", "NOPE"}, fault: "BAD_SIGNAL: NOPE"},
		{name: "signalProcess bad number", method: "supervisor.signalProcess", args: []any{"sleeper", "99"}, fault: "BAD_SIGNAL: 99"},
		{name: "signalProcess name first", method: "supervisor.signalProcess", args: []any{"nosuch", "NOPE"}, fault: "BAD_NAME: nosuch"},
		{name: "signalProcess stopped", method: "supervisor.signalProcess", args: []any{"manual", "HUP"}, fault: "NOT_RUNNING: manual"},
		{name: "signalProcess backoff", method: "supervisor.signalProcess", args: []any{"quick", "HUP"}, fault: "NOT_RUNNING: quick"},
		{name: "signalProcessGroup", method: "supervisor.signalProcessGroup", args: []any{"web", "TERM"}, want: []any{ok("web1", "web")}},
		{name: "signalProcess group spec", method: "supervisor.signalProcess", args: []any{"web:*", "TERM"}, want: []any{ok("web1", "web")}},
		{name: "signalProcessGroup bad signal", method: "supervisor.signalProcessGroup", args: []any{"web", "NOPE"},
			want: []any{result3("web1", "web", 11, "BAD_SIGNAL: NOPE")}},
		{name: "signalProcessGroup unknown", method: "supervisor.signalProcessGroup", args: []any{"nosuch", "HUP"}, fault: "BAD_NAME: nosuch"},
		{name: "signalAllProcesses", method: "supervisor.signalAllProcesses", args: []any{"INT"}, want: []any{ok("sleeper", "sleeper"), ok("web1", "web")}},

		{name: "getProcessInfo", method: "supervisor.getProcessInfo", args: []any{"sleeper"},
			check: func(t *testing.T, w *world, got any) {
				m := got.(map[string]any)
				for k, v := range sleeperInfo {
					if m[k] != v {
						t.Errorf("%s = %#v, want %#v", k, m[k], v)
					}
				}
				if m["stdout_logfile"] != w.find("sleeper", "sleeper").StdoutLog || m["logfile"] != m["stdout_logfile"] {
					t.Errorf("log files %v %v", m["logfile"], m["stdout_logfile"])
				}
			}},
		{name: "getProcessInfo exited", method: "supervisor.getProcessInfo", args: []any{"exits"},
			check: func(t *testing.T, w *world, got any) {
				m := got.(map[string]any)
				if m["description"] != "Nov 27 10:44 AM" || m["exitstatus"] != 3 || m["state"] != 100 || m["stop"] != int(fixtureNow.Unix())-30 {
					t.Errorf("got %v", m)
				}
			}},
		{name: "getProcessInfo group", method: "supervisor.getProcessInfo", args: []any{"web:*"}, fault: "BAD_NAME: web:*"},
		{name: "getProcessInfo unknown", method: "supervisor.getProcessInfo", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "getAllProcessInfo", method: "supervisor.getAllProcessInfo",
			check: func(t *testing.T, w *world, got any) {
				var names []string
				for _, e := range got.([]any) {
					m := e.(map[string]any)
					names = append(names, namespec(m["group"].(string), m["name"].(string))+"="+m["statename"].(string))
				}
				want := "[crashy=STOPPED exits=EXITED manual=STOPPED notfound=FATAL quick=BACKOFF sleeper=RUNNING web:web1=RUNNING web:web2=STOPPED]"
				if fmt.Sprint(names) != want {
					t.Errorf("got %v, want %v", names, want)
				}
			}},
		{name: "getAllConfigInfo", method: "supervisor.getAllConfigInfo",
			check: func(t *testing.T, w *world, got any) {
				list := got.([]any)
				if len(list) != 9 {
					t.Fatalf("%d entries", len(list))
				}
				m := list[7].(map[string]any) // web1
				want := map[string]any{"name": "web1", "group": "web", "group_prio": 100, "process_prio": 1, "inuse": true,
					"autostart": true, "directory": "none", "uid": "none", "command": "/bin/sleep 1000", "exitcodes": []any{0},
					"stopsignal": 15, "stopwaitsecs": 10, "startsecs": 1, "startretries": 3, "serverurl": "none",
					"stdout_logfile": w.find("web", "web1").StdoutLog, "stderr_logfile": w.find("web", "web1").StderrLog,
					"stdout_logfile_maxbytes": 50 << 20, "stdout_logfile_backups": 10, "stdout_syslog": false,
					"stdout_capture_maxbytes": 0, "stdout_events_enabled": false, "killasgroup": false, "redirect_stderr": false}
				for k, v := range want {
					if !reflect.DeepEqual(m[k], v) {
						t.Errorf("%s = %#v, want %#v", k, m[k], v)
					}
				}
				if len(m) != 29 {
					t.Errorf("%d keys, want 29", len(m))
				}
				if n := list[3].(map[string]any); n["name"] != "newgrp" || n["inuse"] != false || n["stdout_logfile"] != "auto" {
					t.Errorf("newgrp: %v", n)
				}
			}},

		{name: "readProcessStdoutLog", method: "supervisor.readProcessStdoutLog", args: []any{"sleeper", -6, 0}, want: "eeper\n"},
		{name: "readProcessLog", method: "supervisor.readProcessLog", args: []any{"sleeper", 0, 8}, want: "starting"},
		{name: "readProcessStderrLog", method: "supervisor.readProcessStderrLog", args: []any{"sleeper", 0, 0}, want: "a warning\n"},
		{name: "readProcessStderrLog no log", method: "supervisor.readProcessStderrLog", args: []any{"web:web2", 0, 0}, fault: "NO_FILE"},
		{name: "readProcessStdoutLog unknown", method: "supervisor.readProcessStdoutLog", args: []any{"nosuch", 0, 0}, fault: "BAD_NAME: nosuch"},
		{name: "readProcessStdoutLog group", method: "supervisor.readProcessStdoutLog", args: []any{"web:*", 0, 0}, fault: "BAD_NAME: web:*"},
		{name: "tailProcessStdoutLog", method: "supervisor.tailProcessStdoutLog", args: []any{"sleeper", 0, 5}, want: []any{"eper\n", 28, true}},
		{name: "tailProcessLog all", method: "supervisor.tailProcessLog", args: []any{"sleeper", 0, 100}, want: []any{"starting\nhello from sleeper\n", 28, false}},
		{name: "tailProcessLog from offset", method: "supervisor.tailProcessLog", args: []any{"sleeper", 20, 100}, want: []any{"starting\nhello from sleeper\n", 28, false}}, // Supervisor's tailFile: offset+length past the end reads from the start
		{name: "tailProcessStderrLog", method: "supervisor.tailProcessStderrLog", args: []any{"sleeper", 0, 100}, want: []any{"a warning\n", 10, false}},
		{name: "tailProcessStdoutLog no log", method: "supervisor.tailProcessStdoutLog", args: []any{"manual", 0, 100}, want: []any{"", 0, false}},
		{name: "clearProcessLogs", method: "supervisor.clearProcessLogs", args: []any{"sleeper"}, want: true,
			check: func(t *testing.T, w *world, _ any) { wantSize(t, w.find("sleeper", "sleeper").StderrLog, 0) }},
		{name: "clearProcessLog unknown", method: "supervisor.clearProcessLog", args: []any{"nosuch"}, fault: "BAD_NAME: nosuch"},
		{name: "clearAllProcessLogs", method: "supervisor.clearAllProcessLogs",
			check: func(t *testing.T, w *world, got any) {
				if n := len(got.([]any)); n != 8 {
					t.Errorf("%d results", n)
				}
			}},
		{name: "sendProcessStdin", method: "supervisor.sendProcessStdin", args: []any{"sleeper", "hi\n"}, want: true,
			check: func(t *testing.T, w *world, _ any) {
				if w.stdin["sleeper"] != "hi\n" {
					t.Errorf("stdin got %q", w.stdin["sleeper"])
				}
			}},
		{name: "sendProcessStdin not running", method: "supervisor.sendProcessStdin", args: []any{"manual", "x"}, fault: "NOT_RUNNING: manual"},
		{name: "sendProcessStdin not a string", method: "supervisor.sendProcessStdin", args: []any{"sleeper", 5}, fault: "INCORRECT_PARAMETERS: 5"},
		{name: "sendRemoteCommEvent", method: "supervisor.sendRemoteCommEvent", args: []any{"t", "d"}, want: true,
			check: func(t *testing.T, w *world, _ any) {
				if fmt.Sprint(w.comms) != "[t:d]" {
					t.Errorf("comms %v", w.comms)
				}
			}},
		{name: "methodHelp", method: "system.methodHelp", args: []any{"supervisor.getPID"}, want: " Return the PID of supervisord\n\n        @return int PID\n        "},
		{name: "methodHelp unknown", method: "system.methodHelp", args: []any{"x.y"}, fault: "SIGNATURE_UNSUPPORTED"},
		{name: "methodSignature", method: "system.methodSignature", args: []any{"supervisor.startProcess"}, want: []any{"boolean", "string", "boolean"}},
		{name: "methodSignature unknown", method: "system.methodSignature", args: []any{"x.y"}, fault: "SIGNATURE_UNSUPPORTED"},
		{name: "multicall", method: "system.multicall", args: []any{[]any{
			map[string]any{"methodName": "supervisor.getPID"},
			map[string]any{"methodName": "supervisor.nosuch", "params": []any{}},
			map[string]any{"methodName": "system.multicall", "params": []any{[]any{}}},
			map[string]any{"params": []any{}},
			map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"sleeper"}},
		}}, want: []any{
			4242,
			map[string]any{"faultCode": 1, "faultString": "UNKNOWN_METHOD"},
			map[string]any{"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"},
			map[string]any{"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"},
			true,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			cl := w.client(t)
			got, err := cl.Call(context.Background(), c.method, c.args...)
			if c.fault != "" {
				var f *Fault
				if !errors.As(err, &f) {
					t.Fatalf("got %#v, %v; want fault %q", got, err, c.fault)
				}
				if f.String != c.fault && !(strings.HasSuffix(c.fault, ": ") && strings.HasPrefix(f.String, c.fault)) {
					t.Fatalf("fault %q, want %q", f.String, c.fault)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want != nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
			if c.check != nil {
				w.mu.Lock()
				defer w.mu.Unlock()
				c.check(t, w, got)
			}
		})
	}
}

// TestBackendErrors checks how backend errors become faults: a detail of
// the backend's, a wrapped kind, an error of no kind.
func TestBackendErrors(t *testing.T) {
	w := newWorld(t)
	b := w.backend()
	b.StopFn = func(context.Context, string, string) error {
		return &status.Error{Kind: status.ErrFailed, Detail: "couldn't kill: EPERM"}
	}
	b.SignalFn = func(context.Context, string, string, syscall.Signal) error {
		return fmt.Errorf("signal web1: %w", status.ErrNotRunning)
	}
	b.ClearLogsFn = func(context.Context, string, string) error { return status.ErrFailed }
	b.WriteStdinFn = func(context.Context, string, string, []byte) error { return status.ErrNoFile }
	b.RestartFn = func(context.Context) error { return errors.New("disk on fire") }
	s := NewServer(b, Options{Now: func() time.Time { return w.now }})
	sock := serveUnix(t, s, Auth{})
	cl, err := NewClient("unix://"+sock, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, c := range []struct {
		method string
		args   []any
		want   string
	}{
		{"supervisor.stopProcess", []any{"sleeper"}, "FAILED: couldn't kill: EPERM"},
		{"supervisor.signalProcess", []any{"web:web1", "HUP"}, "NOT_RUNNING: web:web1"},
		{"supervisor.clearProcessLogs", []any{"sleeper"}, "FAILED: sleeper"},
		{"supervisor.sendProcessStdin", []any{"sleeper", "x"}, "NO_FILE: sleeper"},
		{"supervisor.restart", nil, "FAILED: disk on fire"},
	} {
		_, err := cl.Call(context.Background(), c.method, c.args...)
		var f *Fault
		if !errors.As(err, &f) || f.String != c.want {
			t.Errorf("%s: %v, want fault %q", c.method, err, c.want)
		}
	}
	// Results of group operations carry the same.
	v, err := cl.Call(context.Background(), "supervisor.stopAllProcesses")
	if err != nil {
		t.Fatal(err)
	}
	res, err := DecodeResults(v)
	if err != nil || len(res) != 3 || res[0].Err == nil || res[0].Err.String != "FAILED: couldn't kill: EPERM" || res[0].Namespec() != "sleeper" {
		t.Errorf("stopAllProcesses: %+v, %v", res, err)
	}
	if !errors.Is(res[0].Err, status.ErrFailed) {
		t.Errorf("result fault %v does not match status.ErrFailed", res[0].Err)
	}
}

func TestUnknownMethodAndParameters(t *testing.T) {
	w := newWorld(t)
	cl := w.client(t)
	for _, c := range []struct {
		method string
		args   []any
		code   int
	}{
		{"getPID", nil, FaultUnknownMethod},
		{"supervisor.getPID.x", nil, FaultUnknownMethod},
		{"supervisor._update", []any{"x"}, FaultUnknownMethod},
		{"supervisor.__init__", nil, FaultUnknownMethod},
		{"nosuch.getPID", nil, FaultUnknownMethod},
		{"supervisor.nosuch", nil, FaultUnknownMethod},
		{"system.nosuch", nil, FaultUnknownMethod},
		{"supervisor.getPID", []any{1}, FaultIncorrectParameters},
		{"supervisor.startProcess", nil, FaultIncorrectParameters},
		{"supervisor.startProcess", []any{"a", true, 3}, FaultIncorrectParameters},
		{"supervisor.startProcess", []any{5}, FaultIncorrectParameters},
		{"supervisor.readLog", []any{"x", 0}, FaultIncorrectParameters},
		{"supervisor.readLog", []any{[]any{}, 0}, FaultIncorrectParameters},
		{"system.multicall", []any{"x"}, FaultIncorrectParameters},
	} {
		_, err := cl.Call(context.Background(), c.method, c.args...)
		var f *Fault
		if !errors.As(err, &f) || f.Code != c.code || f.String != FaultName(c.code) {
			t.Errorf("%s%v: %v, want fault %d %s", c.method, c.args, err, c.code, FaultName(c.code))
		}
	}
}

// TestShutdownState: while the daemon goes down, every supervisor.*
// method answers SHUTDOWN_STATE but sendRemoteCommEvent; system.* still
// works; the signal group variants signal first and fault after.
func TestShutdownState(t *testing.T) {
	w := newWorld(t)
	w.shutting = true
	cl := w.client(t)
	args := map[string][]any{}
	for name, m := range methods {
		a := make([]any, m.min)
		for i := range a {
			a[i] = "sleeper"
		}
		args[name] = a
	}
	args["supervisor.signalAllProcesses"] = []any{"HUP"}
	args["supervisor.signalProcessGroup"] = []any{"sleeper", "HUP"}
	args["supervisor.readLog"] = []any{0, 0}
	args["supervisor.readMainLog"] = []any{0, 0}
	for _, name := range []string{"supervisor.readProcessLog", "supervisor.readProcessStdoutLog", "supervisor.readProcessStderrLog",
		"supervisor.tailProcessLog", "supervisor.tailProcessStdoutLog", "supervisor.tailProcessStderrLog"} {
		args[name] = []any{"sleeper", 0, 0}
	}
	args["system.multicall"] = []any{[]any{}}
	for name, a := range args {
		_, err := cl.Call(context.Background(), name, a...)
		var f *Fault
		isFault := errors.As(err, &f) && f.Code == FaultShutdownState
		wantFault := strings.HasPrefix(name, "supervisor.") && name != "supervisor.sendRemoteCommEvent"
		if isFault != wantFault {
			t.Errorf("%s while shutting down: %v (want SHUTDOWN_STATE: %v)", name, err, wantFault)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// signalAllProcesses signalled before faulting; signalProcessGroup
	// checks first, after its group lookup.
	wantSignals(t, w, "sleeper 1", "web:web1 1")
}

// TestHTTP checks Supervisor's HTTP answers around the RPC.
func TestHTTP(t *testing.T) {
	w := newWorld(t)
	s := w.server()
	sock := serveUnix(t, s, Auth{Username: "u", Password: "p"})
	do := func(req string) string {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s %s|%s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"), body)
	}
	auth := "Authorization: Basic dTpw\r\n" // u:p
	call := "<methodCall><methodName>supervisor.getPID</methodName></methodCall>"
	postReq := func(hdr, body string) string {
		return fmt.Sprintf("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %d\r\n\r\n%s", hdr, len(body), body)
	}
	for _, c := range []struct{ name, req, want string }{
		{"no credentials", postReq("", call), "401 Basic realm=\"default\" text/html|" + errorPage(401)},
		{"wrong password", postReq("Authorization: Basic dTp4\r\n", call), "401 Basic realm=\"default\" text/html|" + errorPage(401)},
		{"other scheme", postReq("Authorization: Bearer dTpw\r\n", call), "401 Basic realm=\"default\" text/html|" + errorPage(401)},
		{"ok", postReq(auth, call), "200  text/xml|<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>4242</int></value>\n</param>\n</params>\n</methodResponse>\n"},
		{"lower-case scheme", postReq("Authorization: basic dTpw\r\n", call), "200  text/xml|<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>4242</int></value>\n</param>\n</params>\n</methodResponse>\n"},
		{"malformed", postReq(auth, "garbage"), "400  text/html|" + errorPage(400)},
		{"no method name", postReq(auth, "<methodCall><params/></methodCall>"), "400  text/html|" + errorPage(400)},
		{"GET /RPC2", "GET /RPC2 HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "400  text/html|" + errorPage(400)},
		{"web UI", "GET / HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "404  text/html|" + errorPage(404)},
		{"logtail unknown", "GET /logtail/nosuch/stdout HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "404  text/html|" + errorPage(404)},
		{"logtail group", "GET /logtail/web:*/stdout HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "404  text/html|" + errorPage(404)},
		{"logtail no file", "GET /logtail/manual/stdout HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "404  text/html|" + errorPage(404)},
		{"logtail bad channel", "GET /logtail/sleeper/other HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n", "404  text/html|" + errorPage(404)},
		{"logtail POST", "POST /logtail/sleeper HTTP/1.1\r\nHost: localhost\r\n" + auth + "Content-Length: 0\r\n\r\n", "400  text/html|" + errorPage(400)},
		{"logtail unauthorized", "GET /logtail/sleeper HTTP/1.1\r\nHost: localhost\r\n\r\n", "401 Basic realm=\"default\" text/html|" + errorPage(401)},
		{"HTTP/1.0 tail", "GET /logtail/sleeper HTTP/1.0\r\n" + auth + "\r\n", "200  text/plain;charset=utf-8|starting\nhello from sleeper\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "HTTP/1.0 tail" {
				// The stream never ends by itself; read what is there.
				conn, err := net.Dial("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				io.WriteString(conn, c.req)
				r := bufio.NewReader(conn)
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, len("starting\nhello from sleeper\n"))
				if _, err := io.ReadFull(resp.Body, buf); err != nil {
					t.Fatal(err)
				}
				got := fmt.Sprintf("%d %s %s|%s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"), buf)
				if got != c.want || resp.TransferEncoding != nil || resp.Header.Get("Connection") != "close" {
					t.Errorf("got %q (%v, %q)", got, resp.TransferEncoding, resp.Header.Get("Connection"))
				}
				return
			}
			if got := do(c.req); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}

	// Keep-alive: two calls on one connection, as supervisorctl makes them.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		io.WriteString(c, postReq(auth, call))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("call %d on one connection: %v", i+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("call %d: %s, close=%v", i+1, resp.Status, resp.Close)
		}
	}
}

// TestClientTail reads a log stream through the client and sees a
// truncation reported as Supervisor reports it.
func TestClientTail(t *testing.T) {
	w := newWorld(t)
	cl := w.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, err := cl.Tail(ctx, "/logtail/sleeper/stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	r := bufio.NewReader(body)
	readAll := func(want string) {
		t.Helper()
		got := make([]byte, len(want))
		if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	readAll("starting\nhello from sleeper\n")
	log := w.find("sleeper", "sleeper").StdoutLog
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	readAll("==> File truncated <==\n")
	appendFile(t, log, "fresh\n")
	readAll("fresh\n")

	_, err = cl.Tail(ctx, "/logtail/nosuch/stdout")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("tail of an unknown process: %v, want 404", err)
	}
}

// TestTailHead: a stream starts 1024 bytes before the end of a long log.
func TestTailHead(t *testing.T) {
	w := newWorld(t)
	log := w.find("sleeper", "sleeper").StdoutLog
	long := strings.Repeat("0123456789abcdef", 200)
	writeFile(t, log, long)
	cl := w.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, err := cl.Tail(ctx, "/logtail/sleeper")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got := make([]byte, 1024)
	if _, err := io.ReadFull(body, got); err != nil || string(got) != long[len(long)-1024:] {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestClientURLs(t *testing.T) {
	for _, u := range []string{"unix://", "ftp://x", "http://", "/tmp/sock"} {
		if _, err := NewClient(u, "", ""); err == nil {
			t.Errorf("NewClient(%q) accepted", u)
		}
	}
	// An inet server, found by an http:// URL, with auth.
	w := newWorld(t)
	s := w.server()
	ln, err := ListenInet("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln, Auth{Username: "u", Password: "p"}) }()
	defer func() {
		s.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	url := "http://" + ln.Addr().String()
	cl, _ := NewClient(url, "u", "p")
	defer cl.Close()
	infos, err := cl.AllProcessInfo(context.Background())
	if err != nil || len(infos) != 8 || infos[5].Name != "sleeper" || infos[5].Description != "pid 101, uptime 0:00:10" ||
		infos[5].State != status.Running || !infos[5].Start.Equal(w.now.Add(-10*time.Second)) {
		t.Errorf("AllProcessInfo: %+v, %v", infos, err)
	}
	pi, err := cl.ProcessInfo(context.Background(), "exits")
	if err != nil || pi.ExitStatus != 3 || pi.State != status.Exited {
		t.Errorf("ProcessInfo: %+v, %v", pi, err)
	}
	_, err = cl.ProcessInfo(context.Background(), "nosuch")
	if !errors.Is(err, status.ErrBadName) {
		t.Errorf("ProcessInfo(nosuch): %v, want status.ErrBadName", err)
	}
	bad, _ := NewClient(url, "u", "x")
	defer bad.Close()
	_, err = bad.Call(context.Background(), "supervisor.getPID")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 401 {
		t.Errorf("wrong password: %v, want 401", err)
	}
	// Connection refused is the net error.
	s.Close()
	<-done
	done <- nil
	fresh, _ := NewClient(url, "u", "p")
	defer fresh.Close()
	_, err = fresh.Call(context.Background(), "supervisor.getPID")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after Close: %v, want ECONNREFUSED", err)
	}
}

// TestServeEndsWithContext: cancelling Serve's context closes the
// listener (removing the socket) and ends the log streams it served.
func TestServeEndsWithContext(t *testing.T) {
	w := newWorld(t)
	s := w.server()
	sock := filepath.Join(shortDir(t), "s.sock")
	ln, err := ListenUnix(sock, 0o700, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, Auth{}) }()
	cl, _ := NewClient("unix://"+sock, "", "")
	defer cl.Close()
	body, err := cl.Tail(context.Background(), "/mainlogtail")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(body, head); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := io.ReadAll(body); err == nil {
		// A chunked stream cut short is an error for the reader.
		t.Error("the log stream ended cleanly, want it cut")
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Serve: %v", err)
	}
	s.mu.Lock()
	n := len(s.streams)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d streams left", n)
	}
}

func TestDescriptionWithoutSpawnError(t *testing.T) {
	w := newWorld(t)
	p := w.find("web", "web2")
	p.State = status.Backoff
	cl := w.client(t)
	pi, err := cl.ProcessInfo(context.Background(), "web:web2")
	if err != nil {
		t.Fatal(err)
	}
	if want := `unknown error (try "tail web2")`; pi.Description != want {
		t.Errorf("description %q, want %q (Supervisor names the process, not the namespec)", pi.Description, want)
	}
}

// TestShutdownAnswersBeforeClose: the daemon's end comes while the
// answer to the shutdown call that caused it is still to be written.
// Shutdown (not Close) lets that answer out, so supervisorctl prints
// "Shut down" and not an EOF; a request that never ends is cut at the
// deadline.
func TestShutdownAnswersBeforeClose(t *testing.T) {
	var srv *Server
	ended := make(chan struct{})
	b := &fakeBackend{ShutdownFn: func(context.Context) error {
		// the daemon stops as the method returns: here, before it does
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			close(ended)
		}()
		for !srv.isClosed() {
			time.Sleep(time.Millisecond)
		}
		return nil
	}}
	srv = NewServer(b, Options{})
	sock := filepath.Join(shortDir(t), "s.sock")
	ln, err := ListenUnix(sock, 0o700, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln, Auth{}) }()
	cl, err := NewClient("unix://"+sock, "", "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := cl.Call(context.Background(), "supervisor.shutdown")
	if err != nil || v != true {
		t.Errorf("shutdown answered %v, %v; want true", v, err)
	}
	<-ended
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
