package sysd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"

	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

func TestSupervisorState(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	us := func(ago time.Duration) uint64 { return uint64(now.Add(-ago).UnixMicro()) }
	p := &translate.Process{Name: "web", Group: "web", MinUptime: time.Second}
	cases := []struct {
		name string
		st   unitState
		want status.State
		pid  int
		err  string
	}{
		{"active/running, up 5s", unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: 42, Start: us(5 * time.Second)}, status.Running, 42, ""},
		{"active/running, up within startsecs", unitState{Load: "loaded", Active: "active", Sub: "running", MainPID: 42, Start: us(500 * time.Millisecond)}, status.Starting, 42, ""},
		{"activating/start", unitState{Load: "loaded", Active: "activating", Sub: "start", MainPID: 42}, status.Starting, 42, ""},
		{"auto-restart after a quick death", unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: us(2 * time.Second), Exit: us(1900 * time.Millisecond)}, status.Backoff, 0, spawnErrTooQuick},
		{"auto-restart after a long run", unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: us(time.Hour), Exit: us(time.Second)}, status.Starting, 0, ""},
		{"activating/start-pre, a fresh start", unitState{Load: "loaded", Active: "activating", Sub: "start-pre"}, status.Starting, 0, ""},
		{"activating/start-pre, the step's backoff wait", unitState{Load: "loaded", Active: "activating", Sub: "start-pre", Backoff: true}, status.Backoff, 0, spawnErrTooQuick},
		{"activating/start-pre, the step giving up (marked)", unitState{Load: "loaded", Active: "activating", Sub: "start-pre", Backoff: true}, status.Backoff, 0, spawnErrTooQuick},
		{"auto-restart after a failed spawn (marked)", unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Backoff: true}, status.Backoff, 0, spawnErrTooQuick},
		{"deactivating/stop-post, no program ran, no wait marked", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post"}, status.Stopping, 0, ""},
		{"deactivating/stop-post, the step gave up", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Backoff: true}, status.Backoff, 0, spawnErrTooQuick},
		{"deactivating/stop-sigterm, a stop in the step's wait", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-sigterm", Job: "stop", Backoff: true}, status.Backoff, 0, spawnErrTooQuick},
		{"activating/start-post, within startsecs", unitState{Load: "loaded", Active: "activating", Sub: "start-post", MainPID: 42, Start: us(300 * time.Millisecond)}, status.Starting, 42, ""},
		{"failed before the program ran, the step gave up", unitState{Load: "loaded", Active: "failed", Sub: "failed", ActiveExit: us(4 * time.Second), Result: "exit-code"}, status.Fatal, 0, spawnErrTooQuick},
		{"deactivating/stop-sigterm", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-sigterm", MainPID: 42, Job: "stop"}, status.Stopping, 42, ""},
		{"deactivating/stop-post after a death within startsecs", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Start: us(2 * time.Second), Exit: us(1900 * time.Millisecond)}, status.Backoff, 0, spawnErrTooQuick},
		{"deactivating/stop-post after a death within startsecs, stop queued", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Start: us(2 * time.Second), Exit: us(1900 * time.Millisecond), Job: "stop"}, status.Stopping, 0, ""},
		{"deactivating/stop-post after a long run", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Start: us(time.Hour), Exit: us(time.Second)}, status.Stopping, 0, ""},
		{"inactive, never started", unitState{Load: "loaded", Active: "inactive", Sub: "dead"}, status.Stopped, 0, ""},
		{"inactive, stopped on request", unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(time.Hour), ActiveExit: us(2 * time.Second), Exit: us(time.Second)}, status.Stopped, 0, ""},
		{"inactive, exited by itself", unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(time.Hour), Exit: us(2 * time.Second), ActiveExit: us(2 * time.Second)}, status.Exited, 0, ""},
		{"inactive, exited 0 by itself", unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(time.Hour), Exit: us(2 * time.Second), ActiveExit: us(2 * time.Second), Result: "success"}, status.Exited, 0, ""},
		{"inactive, stopped during auto-restart (BACKOFF)", unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(2 * time.Second), Exit: us(1900 * time.Millisecond), Result: "exit-code"}, status.Stopped, 0, ""},
		{"failed, start limit hit", unitState{Load: "loaded", Active: "failed", Sub: "failed", Start: us(time.Second), Exit: us(time.Second), Result: "start-limit-hit"}, status.Fatal, 0, spawnErrTooQuick},
		{"failed, died within startsecs", unitState{Load: "loaded", Active: "failed", Sub: "failed", Start: us(3 * time.Second), Exit: us(2900 * time.Millisecond), ActiveExit: us(2900 * time.Millisecond), Result: "exit-code"}, status.Fatal, 0, spawnErrTooQuick},
		{"failed after a long run", unitState{Load: "loaded", Active: "failed", Sub: "failed", Start: us(time.Hour), Exit: us(time.Second), ActiveExit: us(time.Second), Result: "exit-code"}, status.Exited, 0, ""},
		{"failed, killed after stopwaitsecs", unitState{Load: "loaded", Active: "failed", Sub: "failed", Start: us(time.Hour), ActiveExit: us(12 * time.Second), Exit: us(2 * time.Second), Result: "timeout"}, status.Stopped, 0, ""},
		{"auto-restart after a late core dump, refused (autorestart=false)", unitState{Load: "loaded", Active: "activating", Sub: "auto-restart", Start: us(time.Hour), Exit: us(time.Second), Code: 3, Status: 11, Ended: true}, status.Exited, 0, ""},
		{"start-pre of the refused restart", unitState{Load: "loaded", Active: "activating", Sub: "start-pre", Ended: true, LastStart: us(time.Hour), LastStop: us(time.Second), LastCode: 3, LastStatus: 11}, status.Exited, 0, ""},
		{"deactivating/stop-post, the late end marked", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Start: us(time.Hour), Exit: us(time.Second), Code: 3, Status: 11, Ended: true}, status.Exited, 0, ""},
		{"deactivating/stop-post of the refused start", unitState{Load: "loaded", Active: "deactivating", Sub: "stop-post", Ended: true, LastStart: us(time.Hour), LastStop: us(time.Second), LastCode: 3, LastStatus: 11}, status.Exited, 0, ""},
		{"failed, the restart after a late core dump refused", unitState{Load: "loaded", Active: "failed", Sub: "failed", InactiveExit: us(900 * time.Millisecond), Result: "exit-code", Ended: true, LastStart: us(time.Hour), LastStop: us(time.Second), LastCode: 3, LastStatus: 11}, status.Exited, 0, ""},
		{"inactive, a late death by SIGSEGV (a success under autorestart=false)", unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(time.Hour), Exit: us(2 * time.Second), ActiveExit: us(2 * time.Second), Result: "success", Code: 2, Status: 11}, status.Exited, 0, ""},
		{"bad-setting", unitState{Load: "bad-setting", Active: "inactive", Sub: "dead"}, status.Unknown, 0, ""},
		{"masked", unitState{Load: "masked", Active: "inactive", Sub: "dead"}, status.Unknown, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := supervisorState(p, c.st, now)
			if got.State != c.want || got.PID != c.pid || got.SpawnErr != c.err {
				t.Errorf("got %v pid %d %q, want %v pid %d %q", got.State, got.PID, got.SpawnErr, c.want, c.pid, c.err)
			}
		})
	}
}

// The times the rules set: a FATAL process at its last run's times kept
// by the compatibility step, and a process not started since ctl reload
// as never started (supervisord forgets every process at reload).
func TestSupervisorStateTimes(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	us := func(ago time.Duration) uint64 { return uint64(now.Add(-ago).UnixMicro()) }
	at := func(ago time.Duration) time.Time { return time.UnixMicro(int64(us(ago))) }
	p := &translate.Process{Name: "web", Group: "web", MinUptime: time.Second, AutoRestart: translate.RestartUnexpected}
	// the giving-up start began 100 ms after the last run ended (each
	// automatic restart leaves "inactive" anew)
	gaveUp := unitState{Load: "loaded", Active: "failed", Sub: "failed", Result: "exit-code",
		InactiveExit: us(1400 * time.Millisecond), InactiveEnter: us(1390 * time.Millisecond), ActiveExit: us(time.Hour)}
	kept := gaveUp
	kept.LastStart, kept.LastStop = us(2*time.Second), us(1500*time.Millisecond)
	stale := gaveUp // a file of an earlier round
	stale.LastStart, stale.LastStop = us(time.Hour), us(time.Hour-time.Second)
	ran := unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(time.Hour), ActiveExit: us(20 * time.Second), Exit: us(19 * time.Second), Result: "success"}
	reloaded := ran
	reloaded.Reloaded = us(10 * time.Second)
	reloadedFatal := kept
	reloadedFatal.Reloaded = us(500 * time.Millisecond)
	restarted := ran // started again after the reload, and stopped
	restarted.Start, restarted.ActiveExit, restarted.Exit, restarted.Reloaded = us(5*time.Second), us(3*time.Second), us(2*time.Second), us(10*time.Second)
	for _, c := range []struct {
		name        string
		st          unitState
		want        status.State
		start, stop time.Time
	}{
		{"FATAL, the step kept the last run's times", kept, status.Fatal, at(2 * time.Second), at(1500 * time.Millisecond)},
		{"FATAL, the step kept none", gaveUp, status.Fatal, time.Time{}, time.Time{}},
		{"FATAL, times of an earlier round", stale, status.Fatal, time.Time{}, time.Time{}},
		{"STOPPED after a run", ran, status.Stopped, at(time.Hour), at(19 * time.Second)},
		{"STOPPED after a run, not started since reload", reloaded, status.Stopped, time.Time{}, time.Time{}},
		{"FATAL, not started since reload", reloadedFatal, status.Stopped, time.Time{}, time.Time{}},
		{"STOPPED, started again since reload", restarted, status.Stopped, at(5 * time.Second), at(2 * time.Second)},
	} {
		got := supervisorState(p, c.st, now)
		if got.State != c.want || !got.Start.Equal(c.start) || !got.Stop.Equal(c.stop) {
			t.Errorf("%s: got %v start %v stop %v, want %v start %v stop %v", c.name, got.State, got.Start, got.Stop, c.want, c.start, c.stop)
		}
		if d := status.Description(got, now, time.UTC); c.want == status.Stopped && c.start.IsZero() && d != "Not started" {
			t.Errorf("%s: description %q, want Not started", c.name, d)
		}
	}
}

func TestUnitPath(t *testing.T) {
	for name, want := range map[string]godbus.ObjectPath{
		"gunicorn.service":       "/org/freedesktop/systemd1/unit/gunicorn_2eservice",
		"web@web_00.service":     "/org/freedesktop/systemd1/unit/web_40web_5f00_2eservice",
		`a\x2db-c.target`:        "/org/freedesktop/systemd1/unit/a_5cx2db_2dc_2etarget",
		"supersede.target":       "/org/freedesktop/systemd1/unit/supersede_2etarget",
		"x-y.socket":             "/org/freedesktop/systemd1/unit/x_2dy_2esocket",
		"UPPER9.service":         "/org/freedesktop/systemd1/unit/UPPER9_2eservice",
		"dbus-org.freedesktop.x": "/org/freedesktop/systemd1/unit/dbus_2dorg_2efreedesktop_2ex",
	} {
		if got := unitPath(name); got != want || !got.IsValid() {
			t.Errorf("unitPath(%q) = %q (valid %v), want %q", name, got, got.IsValid(), want)
		}
	}
}

// TestWireEncoding checks the hand-written encoder against godbus's
// decoder: every message must decode to the call it was meant to be.
func TestWireEncoding(t *testing.T) {
	w := &wire{}
	w.call(destSystemd, "/org/freedesktop/systemd1", ifaceManager, "ListUnitsByNames", "as", []string{"a.service", "bb.service", ""})
	w.call(destSystemd, "/org/freedesktop/systemd1/unit/a_2eservice", "org.freedesktop.DBus.Properties", "Get", "ss", ifaceService, "ExecStart")
	w.call(destSystemd, "/x", "org.freedesktop.DBus.Peer", "Ping", "")
	w.call(destSystemd, "/y", "", "Hello", "")
	r := bytes.NewReader(w.buf.Bytes())
	type want struct {
		path, iface, member string
		body                []any
	}
	for i, c := range []want{
		{"/org/freedesktop/systemd1", ifaceManager, "ListUnitsByNames", []any{[]string{"a.service", "bb.service", ""}}},
		{"/org/freedesktop/systemd1/unit/a_2eservice", "org.freedesktop.DBus.Properties", "Get", []any{ifaceService, "ExecStart"}},
		{"/x", "org.freedesktop.DBus.Peer", "Ping", nil},
		{"/y", "", "Hello", nil},
	} {
		msg, err := godbus.DecodeMessage(r)
		if err != nil {
			t.Fatalf("message %d: godbus cannot decode it: %v", i, err)
		}
		if msg.Type != godbus.TypeMethodCall || msg.Serial() != uint32(i+1) {
			t.Errorf("message %d: type %v serial %d", i, msg.Type, msg.Serial())
		}
		h := func(f godbus.HeaderField) any {
			v, ok := msg.Headers[f]
			if !ok {
				return ""
			}
			return v.Value()
		}
		if h(godbus.FieldPath) != godbus.ObjectPath(c.path) || h(godbus.FieldInterface) != c.iface || h(godbus.FieldMember) != c.member || h(godbus.FieldDestination) != destSystemd {
			t.Errorf("message %d: headers %v", i, msg.Headers)
		}
		if len(msg.Body) != len(c.body) {
			t.Fatalf("message %d: body %#v, want %#v", i, msg.Body, c.body)
		}
		for j := range c.body {
			if a, b := godbus.MakeVariant(msg.Body[j]).String(), godbus.MakeVariant(c.body[j]).String(); a != b {
				t.Errorf("message %d: body[%d] = %s, want %s", i, j, a, b)
			}
		}
	}
	if r.Len() != 0 {
		t.Errorf("%d bytes left after the messages", r.Len())
	}
}

// TestWireDecoding checks the decoder on replies godbus encodes, in both
// byte orders.
func TestWireDecoding(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		type execCmd struct {
			Path             string
			Argv             []string
			Ignore           bool
			Start, StartMono uint64
			Exit, ExitMono   uint64
			PID              uint32
			Code, Status     int32
		}
		execStart := []execCmd{{"/bin/sleep", []string{"sleep", "1000"}, false, 1700000000000000, 5, 0, 0, 4242, 0, 0}}
		listed := []listedUnit{{Name: "a.service", Description: "A", Load: "loaded", Active: "active", Sub: "running", Path: "/org/freedesktop/systemd1/unit/a_2eservice", JobPath: "/"}}
		var buf bytes.Buffer
		for i, body := range [][]any{
			{listed},
			{godbus.MakeVariant(execStart)},
			{godbus.MakeVariant(uint64(77))},
			{godbus.MakeVariant("start-limit-hit")},
		} {
			msg := &godbus.Message{Type: godbus.TypeMethodReply, Headers: map[godbus.HeaderField]godbus.Variant{
				godbus.FieldReplySerial: godbus.MakeVariant(uint32(i + 1)),
				godbus.FieldSignature:   godbus.MakeVariant(godbus.SignatureOf(body...)),
			}, Body: body}
			if err := msg.EncodeTo(&buf, order); err != nil {
				t.Fatal(err)
			}
		}
		w := &wire{serial: 4}
		w.r = bufioReader(&buf)
		var st unitState
		n, err := w.replies(4, func(serial int, r *reply) error {
			d := decoder{b: r.body, o: r.order}
			switch serial {
			case 1:
				if r.sig != "a(ssssssouso)" {
					t.Errorf("sig %q", r.sig)
				}
				d.u32()
				d.align(8)
				if name := d.str(); name != "a.service" {
					t.Errorf("name %q", name)
				}
			case 2:
				if sig := d.sig(); sig != "a(sasbttttuii)" {
					t.Errorf("variant sig %q", sig)
				}
				st.execStart(&d)
			case 3:
				d.sig()
				st.ActiveExit = d.u64()
			case 4:
				d.sig()
				st.Result = d.str()
			}
			return d.err
		})
		if err != nil || n != 4 {
			t.Fatalf("%v: %d replies, %v", order, n, err)
		}
		want := unitState{MainPID: 4242, RunPID: 4242, Start: 1700000000000000, ActiveExit: 77, Result: "start-limit-hit"}
		if st != want {
			t.Errorf("%v: got %+v, want %+v", order, st, want)
		}
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// listedUnit is one entry of ListUnitsByNames' reply, a(ssssssouso).
type listedUnit struct {
	Name, Description, Load, Active, Sub, Following string
	Path                                            godbus.ObjectPath
	JobID                                           uint32
	JobType                                         string
	JobPath                                         godbus.ObjectPath
}

func TestSupervisorStateDiedBeforeActive(t *testing.T) {
	now := time.Now()
	us := func(ago time.Duration) uint64 { return uint64(now.Add(-ago).UnixMicro()) }
	p := &translate.Process{Name: "crash", Group: "crash", MinUptime: time.Second}
	// the unit never became active in this run: ActiveExitTimestamp is
	// the one of the run before
	st := unitState{Load: "loaded", Active: "failed", Sub: "failed", Start: us(2 * time.Second), Exit: us(1990 * time.Millisecond), ActiveExit: us(time.Minute), Result: "exit-code"}
	if got := supervisorState(p, st, now); got.State != status.Fatal {
		t.Errorf("got %v, want FATAL", got.State)
	}
}

func TestSameUnit(t *testing.T) {
	const head = "# Automatically generated by supersede from /c.conf:3 ([program:a]).\n# supersede-config: /c.conf\n"
	base := "[Unit]\nDescription=Supervisor program a\nAfter=x.service y.service\nAfter=s.socket\n\n[Service]\nExecStart=\"/bin/true\"\n"
	for _, c := range []struct {
		name string
		b    string
		same bool
	}{
		{"identical", head + base, true},
		{"section moved", "# Automatically generated by supersede from /c.conf:9 ([program:a]).\n# supersede-config: /c.conf\n" + base, true},
		{"another service before it", head + strings.Replace(base, "After=x.service y.service", "After=first.service", 1), true},
		{"ordered after nothing now", head + strings.Replace(base, "After=x.service y.service\n", "", 1), true},
		{"socket ordering gone", head + strings.Replace(base, "After=s.socket\n", "", 1), false},
		{"command changed", head + strings.Replace(base, "/bin/true", "/bin/false", 1), false},
		{"systemd's service variables unset (a supersede upgrade)", head + base + "UnsetEnvironment=INVOCATION_ID JOURNAL_STREAM SYSTEMD_EXEC_PID MANAGERPID\n", true},
		{"another variable unset", head + base + "UnsetEnvironment=INVOCATION_ID FOO\n", false},
		{"run through the step's exec (a supersede upgrade)", head + strings.Replace(base, `ExecStart="/bin/true"`, `ExecStart="/usr/local/bin/supersede" "shim" "exec" "/bin/true" "/bin/true"`, 1), true},
		{"run through the step's exec, another program", head + strings.Replace(base, `ExecStart="/bin/true"`, `ExecStart="/usr/local/bin/supersede" "shim" "exec" "/bin/false" "/bin/false"`, 1), false},
		{"run through the step's exec, another argv[0]", head + strings.Replace(base, `ExecStart="/bin/true"`, `ExecStart="/usr/local/bin/supersede" "shim" "exec" "/bin/true" "true"`, 1), false},
	} {
		if got := sameUnit([]byte(head+base), []byte(c.b)); got != c.same {
			t.Errorf("%s: sameUnit = %v, want %v", c.name, got, c.same)
		}
	}
}

// A stop while the compatibility step waits out a backoff (gap 4 of
// issue 10): the step ends cleanly (inactive, success) or is killed by
// the stop job's SIGTERM before the program ran (failed, signal); both
// are Supervisor's STOPPED, under autorestart=false too, whose units
// retry a failed chdir as the others do.
func TestSupervisorStateStopInStepBackoff(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	us := func(ago time.Duration) uint64 { return uint64(now.Add(-ago).UnixMicro()) }
	retried := &translate.Process{Name: "web", Group: "web", MinUptime: time.Second, AutoRestart: translate.RestartUnexpected}
	never := &translate.Process{Name: "web", Group: "web", MinUptime: time.Second, AutoRestart: translate.RestartNever}
	cases := []struct {
		name string
		p    *translate.Process
		st   unitState
		want status.State
		stop uint64
	}{
		{"inactive, success, the last run died within startsecs", retried, unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(3 * time.Second), Exit: us(2900 * time.Millisecond), Result: "success"}, status.Stopped, us(2900 * time.Millisecond)},
		{"inactive, success, no run since the start began", retried, unitState{Load: "loaded", Active: "inactive", Sub: "dead", Result: "success", InactiveEnter: us(time.Second), InactiveExit: us(time.Minute)}, status.Stopped, us(time.Second)},
		{"inactive, never started", retried, unitState{Load: "loaded", Active: "inactive", Sub: "dead", Result: "success"}, status.Stopped, 0},
		{"failed by a signal before the program ran", retried, unitState{Load: "loaded", Active: "failed", Sub: "failed", Result: "signal", InactiveEnter: us(time.Second), InactiveExit: us(time.Minute)}, status.Stopped, us(time.Second)},
		{"failed by a signal before the program ran, autorestart=false", never, unitState{Load: "loaded", Active: "failed", Sub: "failed", Result: "signal", InactiveEnter: us(time.Second), InactiveExit: us(time.Minute)}, status.Stopped, us(time.Second)},
		{"inactive, success, the last run died within startsecs, autorestart=false", never, unitState{Load: "loaded", Active: "inactive", Sub: "dead", Start: us(3 * time.Second), Exit: us(2900 * time.Millisecond), Result: "success"}, status.Stopped, us(2900 * time.Millisecond)},
		{"the step gave up", retried, unitState{Load: "loaded", Active: "failed", Sub: "failed", Result: "exit-code", InactiveEnter: us(time.Second)}, status.Fatal, 0},
	}
	for _, c := range cases {
		got := supervisorState(c.p, c.st, now)
		if got.State != c.want {
			t.Errorf("%s: %s, want %s", c.name, got.State, c.want)
		}
		if c.stop != 0 && !got.Stop.Equal(micro(c.stop)) {
			t.Errorf("%s: stop %v, want %v", c.name, got.Stop, micro(c.stop))
		}
	}
}

// stepWaits reads BACKOFF from the step's wait mark alone: a fresh
// start's step, whose count already says 1, is no wait. Without a mark
// (steps started by an older supersede) the count tells, in the step.
func TestStepWaits(t *testing.T) {
	rt := t.TempDir()
	m := &Manager{opts: Options{Scope: User}, getenv: func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return rt
		}
		return ""
	}}
	state := filepath.Join(rt, "supersede", "web")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mark, count string
		inStep      bool
		want, ended bool
	}{
		{shim.WaitNone, "1", true, false, false},
		{shim.WaitBackoff, "1", true, true, false},
		{shim.WaitGiveUp, "0", true, true, false},
		{shim.WaitBackoff, "2", false, true, false},
		{shim.WaitNone, "2", false, false, false},
		{shim.WaitEnded, "", true, false, true},
		{shim.WaitEnded, "", false, false, true},
		{"", "2", true, true, false},
		{"", "2", false, false, false},
		{"", "", true, false, false},
	} {
		os.Remove(filepath.Join(state, shim.WaitFile))
		os.Remove(filepath.Join(state, shim.CountFile))
		if c.mark != "" {
			os.WriteFile(filepath.Join(state, shim.WaitFile), []byte(c.mark+"\n"), 0o644)
		}
		if c.count != "" {
			os.WriteFile(filepath.Join(state, shim.CountFile), []byte(c.count+"\n"), 0o644)
		}
		if got, ended := m.stepWaits("web.service", c.inStep); got != c.want || ended != c.ended {
			t.Errorf("mark %q, count %q, in the step %v: %v, %v, want %v, %v", c.mark, c.count, c.inStep, got, ended, c.want, c.ended)
		}
	}
}
