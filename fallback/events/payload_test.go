package events

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// spec describes an event both here and to testdata/supervisor_events.py,
// which builds the same event with Supervisor's classes.
type spec struct {
	Kind     string `json:"kind"` // state, log, comm, remote, running, stopping, added, removed, tick
	Name     string `json:"name"`
	Group    string `json:"group"`
	From     string `json:"from"`
	To       string `json:"to"`
	Tries    int    `json:"tries"`
	Expected bool   `json:"expected"`
	PID      int    `json:"pid"`
	Channel  string `json:"channel"`
	Data     []byte `json:"data"` // base64 in JSON
	Type     string `json:"type"`
	Text     string `json:"text"`
	Sec      int64  `json:"sec"`
	Nsec     int64  `json:"nsec"`
}

func (s spec) event(t testing.TB) Event {
	state := func(name string) status.State {
		st, ok := status.ParseState(name)
		if !ok {
			t.Fatalf("bad state %q", name)
		}
		return st
	}
	ch := Stdout
	if s.Channel == "stderr" {
		ch = Stderr
	}
	src := Source{Name: s.Name, Group: s.Group, PID: s.PID}
	switch s.Kind {
	case "state":
		return NewProcessState(StateChange{Name: s.Name, Group: s.Group, From: state(s.From), To: state(s.To),
			Tries: s.Tries, Expected: s.Expected, PID: s.PID})
	case "log":
		return NewProcessLog(ch, src, s.Data)
	case "comm":
		return NewProcessCommunication(ch, src, s.Data)
	case "remote":
		return NewRemoteCommunication(s.Type, s.Text)
	case "running":
		return NewSupervisorRunning()
	case "stopping":
		return NewSupervisorStopping()
	case "added":
		return NewProcessGroupAdded(s.Group)
	case "removed":
		return NewProcessGroupRemoved(s.Group)
	case "tick":
		typ, _ := ParseType(s.Type)
		e, ok := NewTick(typ, time.Unix(s.Sec, s.Nsec))
		if !ok {
			t.Fatalf("NewTick(%s) refused", s.Type)
		}
		return e
	}
	t.Fatalf("bad spec kind %q", s.Kind)
	return Event{}
}

func (s spec) String() string {
	return fmt.Sprintf("%s %s %s>%s %q %q %d", s.Kind, s.Name, s.From, s.To, s.Data, s.Text, s.Sec)
}

// payloadSpecs covers every concrete event type and the corners of their
// payloads: undecodable and non-ASCII output, quotes, empty data, pid 0.
func payloadSpecs() []spec {
	var specs []spec
	for _, from := range []string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"} {
		for _, to := range []string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"} {
			specs = append(specs, spec{Kind: "state", Name: "web_01", Group: "web", From: from, To: to, Tries: 3, Expected: true, PID: 4242})
		}
	}
	specs = append(specs,
		spec{Kind: "state", Name: "x", Group: "g", From: "RUNNING", To: "EXITED", Expected: false, PID: 7},
		spec{Kind: "state", Name: "x", Group: "g", From: "BACKOFF", To: "STOPPED", PID: 0},
		spec{Kind: "state", Name: "é", Group: "grüppe", From: "STOPPED", To: "STARTING"},
	)
	datas := [][]byte{
		[]byte("hello\n"), nil, []byte("two\nlines\n"), []byte("héllo wörld ✓\n"),
		[]byte("\xff\xfe bad"), []byte("it's"), []byte(`say "hi"`), []byte(`both ' and "`),
		[]byte("tab\tcr\r\x00\x1b[31m\x7f\\"), []byte("\xe9t\xe9"), []byte("\xed\xa0\x80"), // a UTF-8 surrogate is not UTF-8
		[]byte("<!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->"),
	}
	for _, d := range datas {
		for _, ch := range []string{"stdout", "stderr"} {
			specs = append(specs,
				spec{Kind: "log", Name: "p", Group: "g", PID: 12, Channel: ch, Data: d},
				spec{Kind: "comm", Name: "p", Group: "g", PID: 12, Channel: ch, Data: d})
		}
	}
	specs = append(specs,
		spec{Kind: "remote", Type: "mytype", Text: "some data"},
		spec{Kind: "remote", Type: "", Text: ""},
		spec{Kind: "remote", Type: "t", Text: "héllo\nworld\n"},
		spec{Kind: "running"}, spec{Kind: "stopping"},
		spec{Kind: "added", Group: "web"}, spec{Kind: "removed", Group: "web"},
		spec{Kind: "added", Group: ""},
	)
	for _, typ := range []string{"TICK_5", "TICK_60", "TICK_3600"} {
		for _, when := range [][2]int64{{1795783967, 500000000}, {1795783965, 0}, {0, 0}, {3599, 999999999}, {-1, 500000000}, {-7201, 0}} {
			specs = append(specs, spec{Kind: "tick", Type: typ, Sec: when[0], Nsec: when[1]})
		}
	}
	return specs
}

// TestPayloadsMatchSupervisor builds every event here and with
// Supervisor's events.py and compares the event name, the payload and
// the whole envelope (header line with len:, then payload).
func TestPayloadsMatchSupervisor(t *testing.T) {
	specs := payloadSpecs()
	const id = "supervisor-héllo"
	var ans struct {
		Events []struct {
			Name, Payload, Envelope string
		}
	}
	runSupervisor(t, map[string]any{"events": specs, "identifier": id}, &ans)
	if len(ans.Events) != len(specs) {
		t.Fatalf("supervisor answered %d events for %d specs", len(ans.Events), len(specs))
	}
	b := NewBus(Options{Identifier: id})
	p := &Pool{bus: b, name: "pool"}
	for i, s := range specs {
		e := s.event(t)
		want := ans.Events[i]
		if e.Type.String() != want.Name {
			t.Errorf("%v: type %s, Supervisor %s", s, e.Type, want.Name)
		}
		if e.Payload != want.Payload {
			t.Errorf("%v: payload\n got %q\nwant %q", s, e.Payload, want.Payload)
		}
		env := string(p.envelope(item{ev: &published{Event: e, serial: 7}, poolSerial: 3}))
		if env != want.Envelope {
			t.Errorf("%v: envelope\n got %q\nwant %q", s, env, want.Envelope)
		}
	}
}

// TestTypesMatchSupervisor compares the type names and the subscription
// hierarchy with Supervisor's EventTypes and issubclass.
func TestTypesMatchSupervisor(t *testing.T) {
	var ans struct {
		Types []string
		Is    map[string][]string
	}
	runSupervisor(t, map[string]any{"types": true}, &ans)
	var names []string
	for typ := range numTypes {
		names = append(names, typ.String())
	}
	if !slices.Equal(names, ans.Types) {
		t.Fatalf("type names\n got %v\nwant %v", names, ans.Types)
	}
	for typ := range numTypes {
		var supers []string
		for s := range numTypes {
			if typ.Is(s) {
				supers = append(supers, s.String())
			}
		}
		if want := ans.Is[typ.String()]; !slices.Equal(supers, want) {
			t.Errorf("%s is %v, Supervisor: %v", typ, supers, want)
		}
	}
}

func TestParseType(t *testing.T) {
	for typ := range numTypes {
		got, ok := ParseType(typ.String())
		if !ok || got != typ {
			t.Errorf("ParseType(%q) = %v, %v", typ.String(), got, ok)
		}
	}
	for _, bad := range []string{"", "event", "TICK_10", "PROCESS_STATE_", "EVENTS"} {
		if _, ok := ParseType(bad); ok {
			t.Errorf("ParseType(%q) accepted", bad)
		}
	}
	abstract := []Type{Any, ProcessState, ProcessCommunication, ProcessLog, SupervisorStateChange, Tick, ProcessGroup}
	for typ := range numTypes {
		if got := typ.Abstract(); got != slices.Contains(abstract, typ) {
			t.Errorf("%s.Abstract() = %v", typ, got)
		}
	}
	for _, st := range []status.State{status.Stopped, status.Starting, status.Running, status.Backoff,
		status.Stopping, status.Exited, status.Fatal, status.Unknown} {
		if got, want := StateType(st).String(), "PROCESS_STATE_"+st.String(); got != want {
			t.Errorf("StateType(%s) = %s", st, got)
		}
	}
	if _, ok := NewTick(Tick, time.Now()); ok {
		t.Error("NewTick(TICK) made an event of an abstract type")
	}
}

func TestStrRepr(t *testing.T) {
	for in, want := range map[string]string{
		"lis":     `'lis'`,
		"it's":    `"it's"`,
		`a'b"c`:   `'a\'b"c'`,
		"tab\tx":  `'tab\tx'`,
		"é\u200b": `'é\u200b'`,
		"\x00\\":  `'\x00\\'`,
	} {
		if got := translate.PyRepr(in); got != want {
			t.Errorf("translate.PyRepr(%q) = %s, want %s", in, got, want)
		}
	}
	if got := string(appendBytesRepr(nil, []byte("a'\x80"))); !strings.HasPrefix(got, `b"`) {
		t.Errorf("bytes repr %s", got)
	}
}
