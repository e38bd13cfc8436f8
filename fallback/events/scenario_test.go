package events

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/status"
)

// A scenario is a sequence of operations on listener pools, replayed both
// here and on Supervisor's own EventListenerPool and
// PEventListenerDispatcher (testdata/supervisor_events.py). After each
// operation the two must agree on every listener's protocol state, the
// bytes written to every listener's stdin, every pool's buffer (serials
// and pool serials) and the main-log messages.
type scenario struct {
	Identifier string     `json:"identifier"`
	Pools      []poolSpec `json:"pools"`
	Ops        []scenOp   `json:"ops"`
}

type poolSpec struct {
	Name   string   `json:"name"`
	Events []string `json:"events"`
	Size   int      `json:"size"`
	Procs  []string `json:"procs"`
}

type scenOp struct {
	Op    string `json:"op"` // publish, spawn, state, out, exit
	Pool  string `json:"pool"`
	Proc  string `json:"proc"`
	State string `json:"state"`
	Data  []byte `json:"data"`
	Event *spec  `json:"event"`
}

func (o scenOp) String() string {
	switch o.Op {
	case "publish":
		return "publish " + o.Event.Kind
	case "out":
		return fmt.Sprintf("out %s/%s %q", o.Pool, o.Proc, o.Data)
	case "state":
		return fmt.Sprintf("state %s/%s %s", o.Pool, o.Proc, o.State)
	}
	return o.Op + " " + o.Pool + "/" + o.Proc
}

type snapshot struct {
	Logs      []string              `json:"logs"`
	Listeners map[string]listenSnap `json:"listeners"`
	Buffers   map[string][][2]int64 `json:"buffers"`
}

type listenSnap struct {
	State string `json:"state"`
	Stdin []byte `json:"stdin"`
}

func publish(s spec) scenOp { return scenOp{Op: "publish", Event: &s} }
func spawn(pool, proc string) scenOp {
	return scenOp{Op: "spawn", Pool: pool, Proc: proc}
}
func setState(pool, proc, state string) scenOp {
	return scenOp{Op: "state", Pool: pool, Proc: proc, State: state}
}
func out(pool, proc, data string) scenOp {
	return scenOp{Op: "out", Pool: pool, Proc: proc, Data: []byte(data)}
}
func exit(pool, proc string) scenOp { return scenOp{Op: "exit", Pool: pool, Proc: proc} }

// ready spawns proc and makes it a RUNNING, READY listener.
func ready(pool, proc string) []scenOp {
	return []scenOp{spawn(pool, proc), out(pool, proc, "READY\n"), setState(pool, proc, "RUNNING")}
}

func stateEvent(name, from, to string, pid int) spec {
	return spec{Kind: "state", Name: name, Group: name, From: from, To: to, PID: pid, Tries: 1, Expected: true}
}

func remoteEvent(text string) spec { return spec{Kind: "remote", Type: "t", Text: text} }

// runScenario replays sc on a Bus and returns a snapshot after each op.
func runScenario(t *testing.T, sc scenario) []snapshot {
	t.Helper()
	rec := &logRecorder{}
	b := NewBus(Options{Identifier: sc.Identifier, Logger: slog.New(rec)})
	defer b.Close()
	pools := map[string]*Pool{}
	listeners := map[string]*Listener{}
	stdins := map[string]*stdinRecorder{}
	for _, ps := range sc.Pools {
		p, err := b.AddPool(listenerGroup(ps.Name, ps.Size, ps.Events, ps.Procs...))
		if err != nil {
			t.Fatal(err)
		}
		pools[ps.Name] = p
	}
	var snaps []snapshot
	for _, op := range sc.Ops {
		key := op.Pool + "/" + op.Proc
		switch op.Op {
		case "publish":
			b.Publish(op.Event.event(t))
		case "spawn":
			w := &stdinRecorder{}
			l, err := pools[op.Pool].Attach(op.Proc, w)
			if err != nil {
				t.Fatal(err)
			}
			listeners[key], stdins[key] = l, w
		case "state":
			st, ok := status.ParseState(op.State)
			if !ok {
				t.Fatalf("bad state %q", op.State)
			}
			listeners[key].SetProcessState(st)
		case "out":
			listeners[key].Output(op.Data)
		case "exit":
			listeners[key].Exit()
		default:
			t.Fatalf("bad op %q", op.Op)
		}
		b.writes.Wait()
		snap := snapshot{Logs: rec.take(), Listeners: map[string]listenSnap{}, Buffers: map[string][][2]int64{}}
		b.mu.Lock()
		for _, ps := range sc.Pools {
			for _, proc := range ps.Procs {
				k := ps.Name + "/" + proc
				ls := listenSnap{State: "None"}
				if l := listeners[k]; l != nil {
					ls.State = l.state.String()
					ls.Stdin = stdins[k].take()
				}
				snap.Listeners[k] = ls
			}
			snap.Buffers[ps.Name] = bufferSerials(pools[ps.Name])
		}
		b.mu.Unlock()
		snaps = append(snaps, snap)
	}
	return snaps
}

// diffSnapshots reports where got and want differ.
func diffSnapshots(got, want snapshot) []string {
	var d []string
	if g, w := strings.Join(got.Logs, "\n⏎ "), strings.Join(want.Logs, "\n⏎ "); g != w {
		d = append(d, fmt.Sprintf("logs:\n   got ⏎ %s\n  want ⏎ %s", g, w))
	}
	for k, w := range want.Listeners {
		g := got.Listeners[k]
		if g.State != w.State {
			d = append(d, fmt.Sprintf("%s state %s, want %s", k, g.State, w.State))
		}
		if string(g.Stdin) != string(w.Stdin) {
			d = append(d, fmt.Sprintf("%s stdin\n   got %q\n  want %q", k, g.Stdin, w.Stdin))
		}
	}
	for k, w := range want.Buffers {
		if g := got.Buffers[k]; fmt.Sprint(g) != fmt.Sprint(w) && len(g)+len(w) > 0 {
			d = append(d, fmt.Sprintf("pool %s buffer %v, want %v", k, g, w))
		}
	}
	return d
}

// busyResponses are what a listener busy with an event may answer, as
// chunks; each is a scenario of its own.
var busyResponses = map[string][]string{
	"ok":                    {"RESULT 2\nOK"},
	"ok then ready":         {"RESULT 2\nOKREADY\n"},
	"fail":                  {"RESULT 4\nFAIL"},
	"fail then ready":       {"RESULT 4\nFAILREADY\n"},
	"chunks":                {"RES", "ULT 2", "\nO", "K", "READ", "Y\n"},
	"bytewise":              strings.Split("RESULT 2\nOKREADY\n", ""),
	"bad length":            {"RESULT x\n"},
	"garbage line":          {"garbage\n"},
	"ready while busy":      {"READY\n"},
	"empty result":          {"RESULT 0\n", "READY\n"},
	"empty result at once":  {"RESULT 0\nREADY\n"},
	"token not checked":     {"XXXXXXX2\nOK"},
	"blanks and sign":       {"RESULT  +2 \r\nOK"},
	"underscore length":     {"RESULT 1_0\n0123456789READY\n"},
	"lower-case ok":         {"RESULT 2\nok"},
	"ok with more":          {"RESULT 3\nOK!"},
	"undecodable line":      {"RESULT \xff\n"},
	"short line":            {"RESU\n"},
	"garbage after ok":      {"RESULT 2\nOKgarbage"},
	"ready twice":           {"RESULT 2\nOKREADY\nREADY\n"},
	"partial ready":         {"RESULT 2\nOKREAD"},
	"no newline yet":        {"RESULT 2"},
	"minus zero":            {"RESULT -0\nREADY\n"},
	"result split in two":   {"RESULT 4\nFA", "IL", "READY\n"},
	"two results one chunk": {"RESULT 2\nOKREADY\nRESULT 2\nOKREADY\n"},
}

// acknowledgedResponses are what a fresh listener may say first.
var acknowledgedResponses = map[string][]string{
	"ready":          {"READY\n"},
	"ready split":    {"REA", "DY", "\n"},
	"too short":      {"READ"},
	"garbage":        {"garbage\n"},
	"short garbage":  {"RE", "x"},
	"ready twice":    {"READY\nREADY\n"},
	"ready then rst": {"READY\nRESULT 2\nOK"},
	"crlf":           {"READY\r\n"},
	"unknown stays":  {"nope!!", "READY\n", "RESULT 2\nOK"},
}

func scenarios() map[string]scenario {
	scs := map[string]scenario{}

	basic := scenario{Pools: []poolSpec{{Name: "A", Events: []string{"PROCESS_STATE", "REMOTE_COMMUNICATION", "PROCESS_GROUP"}, Size: 10, Procs: []string{"l0"}}}}
	basic.Ops = []scenOp{
		publish(stateEvent("x", "STOPPED", "STARTING", 0)),
		publish(spec{Kind: "tick", Type: "TICK_5", Sec: 1795783965}), // nobody subscribes: no serial
		spawn("A", "l0"),
		out("A", "l0", "READY\n"), // READY but STARTING: nothing sent
		setState("A", "l0", "RUNNING"),
		publish(stateEvent("x", "STARTING", "RUNNING", 5)),
		out("A", "l0", "RESULT 2\nOKREADY\n"),
		out("A", "l0", "RESULT 4\nFAIL"),
		out("A", "l0", "READY\n"),
		out("A", "l0", "RESULT 2\nOK"),
		out("A", "l0", "READY\n"),
		publish(remoteEvent("héllo ✓\n")),
		out("A", "l0", "RESULT 2\nOKREADY\n"),
		setState("A", "l0", "STOPPING"),
		publish(spec{Kind: "added", Group: "A"}),
		exit("A", "l0"),
		spawn("A", "l0"),
		out("A", "l0", "READY\n"),
		setState("A", "l0", "RUNNING"),
	}
	scs["basic"] = basic

	overflow := scenario{Pools: []poolSpec{{Name: "small", Events: []string{"PROCESS_STATE"}, Size: 2, Procs: []string{"l0"}}}}
	for i := range 4 {
		overflow.Ops = append(overflow.Ops, publish(stateEvent(fmt.Sprint("p", i), "STOPPED", "STARTING", 0)))
	}
	overflow.Ops = append(overflow.Ops, ready("small", "l0")...)
	overflow.Ops = append(overflow.Ops,
		publish(stateEvent("q", "STOPPED", "STARTING", 0)),
		publish(stateEvent("r", "STOPPED", "STARTING", 0)), // full while l0 is busy: discards the oldest
		out("small", "l0", "RESULT 4\nFAIL"),               // the rejected event goes back in at the head, full again
		out("small", "l0", "READY\n"),
		out("small", "l0", "RESULT 2\nOKREADY\n"),
		out("small", "l0", "RESULT 2\nOKREADY\n"),
	)
	scs["overflow"] = overflow

	dup := scenario{Pools: []poolSpec{{Name: "d", Events: []string{"EVENT", "PROCESS_STATE", "TICK_60"}, Size: 10, Procs: []string{"l0"}}}}
	dup.Ops = []scenOp{
		publish(stateEvent("x", "STOPPED", "STARTING", 0)),
		publish(spec{Kind: "tick", Type: "TICK_60", Sec: 1795783980}),
		publish(spec{Kind: "tick", Type: "TICK_5", Sec: 1795783980}),
		publish(spec{Kind: "running"}),
	}
	dup.Ops = append(dup.Ops, ready("d", "l0")...)
	for range 4 {
		dup.Ops = append(dup.Ops, out("d", "l0", "RESULT 2\nOKREADY\n"))
	}
	scs["duplicate subscription"] = dup

	two := scenario{Pools: []poolSpec{{Name: "P", Events: []string{"REMOTE_COMMUNICATION"}, Size: 5, Procs: []string{"l0", "l1"}}}}
	two.Ops = append(ready("P", "l0"), ready("P", "l1")...)
	two.Ops = append(two.Ops,
		publish(remoteEvent("e0")), publish(remoteEvent("e1")), publish(remoteEvent("e2")),
		exit("P", "l0"), // dies busy with e0: e0 back at the head, before e2
		out("P", "l1", "RESULT 2\nOKREADY\n"),
		spawn("P", "l0"),
		out("P", "l0", "READY\n"),
		setState("P", "l0", "RUNNING"),
		exit("P", "l1"), // dies busy with e2
		out("P", "l0", "RESULT 2\nOKREADY\n"),
		exit("P", "l0"), // dies ready: nothing to give back
	)
	scs["two listeners, deaths"] = two

	pools := scenario{Identifier: "sid", Pools: []poolSpec{
		{Name: "A", Events: []string{"PROCESS_STATE"}, Size: 10, Procs: []string{"a0"}},
		{Name: "B", Events: []string{"REMOTE_COMMUNICATION", "TICK_5"}, Size: 10, Procs: []string{"b0"}},
		{Name: "C", Events: []string{"EVENT"}, Size: 1, Procs: []string{"c0"}},
	}}
	pools.Ops = []scenOp{
		publish(stateEvent("x", "STOPPED", "STARTING", 0)),
		publish(remoteEvent("r")),
		publish(spec{Kind: "running"}),
		publish(spec{Kind: "tick", Type: "TICK_5", Sec: 1795783965}),
		publish(spec{Kind: "log", Name: "x", Group: "x", Channel: "stdout", PID: 9, Data: []byte("out\n")}),
		publish(stateEvent("x", "STARTING", "RUNNING", 9)),
	}
	pools.Ops = append(pools.Ops, ready("A", "a0")...)
	pools.Ops = append(pools.Ops, ready("B", "b0")...)
	pools.Ops = append(pools.Ops, ready("C", "c0")...)
	scs["serials across pools"] = pools

	for name, chunks := range busyResponses {
		sc := scenario{Pools: []poolSpec{{Name: "P", Events: []string{"PROCESS_STATE", "REMOTE_COMMUNICATION"}, Size: 3, Procs: []string{"l0", "l1"}}}}
		sc.Ops = ready("P", "l0")
		sc.Ops = append(sc.Ops, publish(remoteEvent("e0")), publish(remoteEvent("e1")))
		sc.Ops = append(sc.Ops, ready("P", "l1")...)
		sc.Ops = append(sc.Ops, publish(remoteEvent("e2")))
		for _, c := range chunks {
			sc.Ops = append(sc.Ops, out("P", "l0", c))
		}
		sc.Ops = append(sc.Ops, out("P", "l1", "RESULT 2\nOKREADY\n"), exit("P", "l0"))
		scs["busy: "+name] = sc
	}
	for name, chunks := range acknowledgedResponses {
		sc := scenario{Pools: []poolSpec{{Name: "P", Events: []string{"REMOTE_COMMUNICATION"}, Size: 3, Procs: []string{"l0"}}}}
		sc.Ops = []scenOp{publish(remoteEvent("e0")), spawn("P", "l0"), setState("P", "l0", "RUNNING")}
		for _, c := range chunks {
			sc.Ops = append(sc.Ops, out("P", "l0", c))
		}
		scs["acknowledged: "+name] = sc
	}
	for name, sc := range scs {
		if sc.Identifier == "" {
			sc.Identifier = "supervisor"
			scs[name] = sc
		}
	}
	return scs
}

// TestScenariosMatchSupervisor replays every scenario here and on
// Supervisor's own pool and listener dispatcher, step by step.
func TestScenariosMatchSupervisor(t *testing.T) {
	scs := scenarios()
	var want struct{ Snapshots map[string][]snapshot }
	runSupervisor(t, map[string]any{"scenarios": scs}, &want)
	for name, sc := range scs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runScenario(t, sc)
			snaps := want.Snapshots[name]
			if len(snaps) != len(sc.Ops) {
				t.Fatalf("supervisor gave %d snapshots for %d ops", len(snaps), len(sc.Ops))
			}
			for i, op := range sc.Ops {
				if d := diffSnapshots(got[i], snaps[i]); d != nil {
					t.Fatalf("after op %d (%v):\n%s", i, op, strings.Join(d, "\n"))
				}
			}
		})
	}
}
