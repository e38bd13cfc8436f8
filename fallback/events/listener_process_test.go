package events

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
)

// report is what testdata/listener.py says about each event it receives.
type report struct {
	Ver, Server, Serial, Pool, Poolserial, Eventname, Len string
	Payload, Result                                       string
	PID                                                   int
}

// listenerProc is a real listener process wired to a pool as fallback
// wires one: pipes for stdin, stdout (to Listener.Output) and stderr.
type listenerProc struct {
	cmd     *exec.Cmd
	l       *Listener
	stdin   *os.File
	stdout  sync.WaitGroup // the stdout pump
	reports chan report
}

func startListener(t *testing.T, p *Pool, name string, env ...string) *listenerProc {
	t.Helper()
	py := testreal.RequirePython(t)
	testreal.RequireSupervisor(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/listener.py")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	errW.Close()
	lp := &listenerProc{cmd: cmd, stdin: inW, reports: make(chan report, 100)}
	t.Cleanup(func() {
		lp.kill()
		lp.stdin.Close()
	})
	lp.l, err = p.Attach(name, inW)
	if err != nil {
		t.Fatal(err)
	}
	lp.stdout.Add(1)
	go func() { // fallback's stdout pump
		defer lp.stdout.Done()
		defer outR.Close()
		buf := make([]byte, 4096)
		for {
			n, err := outR.Read(buf)
			lp.l.Output(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { // stderr: the listener's reports
		defer errR.Close()
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r = report{Result: "stderr: " + sc.Text()} // fails the next check
			}
			lp.reports <- r
		}
		close(lp.reports)
	}()
	lp.l.SetProcessState(status.Running)
	return lp
}

// kill ends the process (it is ours, by pid) and reaps it.
func (lp *listenerProc) kill() {
	if lp.cmd.ProcessState == nil {
		lp.cmd.Process.Kill()
		lp.cmd.Wait()
	}
}

// exit is fallback's part when the process is gone: reap, drain stdout,
// tell the pool, close stdin.
func (lp *listenerProc) exit() {
	lp.kill()
	lp.stdout.Wait()
	lp.l.SetProcessState(status.Exited)
	lp.l.Exit()
	lp.stdin.Close()
}

func (lp *listenerProc) next(t *testing.T) report {
	t.Helper()
	select {
	case r, ok := <-lp.reports:
		if !ok {
			t.Fatalf("listener %s ended", lp.l.Name())
		}
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("listener %s reported nothing", lp.l.Name())
	}
	return report{}
}

// TestRealListeners runs two listener processes written the way
// superlance's are (Supervisor's childutils) behind a pool, over real
// pipes: events arrive whole (len: counted as a Python listener reads),
// OK acknowledges, FAIL re-sends the same event, and the event of a
// listener killed while busy goes to the other one.
func TestRealListeners(t *testing.T) {
	states := make(chan struct{}, 1000)
	b := NewBus(Options{Identifier: "sup-1", Logger: slog.New(&logRecorder{}),
		OnListenerState: func(*Listener, ListenerState, ListenerState) { states <- struct{}{} }})
	defer b.Close()
	p, err := b.AddPool(listenerGroup("P", 10, []string{"REMOTE_COMMUNICATION", "PROCESS_STATE"}, "l0", "l1"))
	if err != nil {
		t.Fatal(err)
	}
	l0 := startListener(t, p, "l0", "HANG=1")
	l1 := startListener(t, p, "l1")
	bothReady := func() {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for l0.l.State() != ListenerReady || l1.l.State() != ListenerReady {
			select {
			case <-states:
			case <-deadline:
				t.Fatalf("listeners are %s and %s, want READY", l0.l.State(), l1.l.State())
			}
		}
	}
	bothReady()

	// A payload with non-ASCII text: len: counts characters, which is
	// what a Python listener reads, so it arrives whole.
	e := NewRemoteCommunication("greeting", "héllo ✓\nsecond line")
	b.Publish(e)
	r := l0.next(t)
	if r.Payload != e.Payload || r.Eventname != "REMOTE_COMMUNICATION" || r.Serial != "0" || r.Poolserial != "0" ||
		r.Pool != "P" || r.Server != "sup-1" || r.Ver != "3.0" || r.Len != strconv.Itoa(len([]rune(e.Payload))) {
		t.Errorf("l0 got %+v", r)
	}
	bothReady()

	// FAIL re-sends the same event, with the same serials, until OK.
	b.Publish(NewRemoteCommunication("t", "fail-once"))
	var results []string
	for done := false; !done; {
		select {
		case r = <-l0.reports:
		case r = <-l1.reports:
		case <-time.After(60 * time.Second):
			t.Fatalf("fail-once: only %v", results)
		}
		if r.Serial != "1" || r.Poolserial != "1" {
			t.Errorf("fail-once delivered as %+v", r)
		}
		results = append(results, r.Result)
		done = r.Result == "OK"
	}
	if len(results) < 2 || results[0] != "FAIL" {
		t.Errorf("fail-once results %v, want FAIL ... OK", results)
	}
	bothReady()

	// l0 (the first READY listener) takes "hang" and dies busy: the event
	// goes to l1 with its serials unchanged.
	b.Publish(NewRemoteCommunication("t", "hang"))
	r = l0.next(t)
	if r.Payload != "type:t\nhang" || r.Result != "hang" {
		t.Fatalf("l0 got %+v", r)
	}
	l0.exit()
	r2 := l1.next(t)
	if r2.Payload != r.Payload || r2.Serial != r.Serial || r2.Poolserial != r.Poolserial || r2.Result != "OK" {
		t.Errorf("after l0 died, l1 got %+v; l0 had %+v", r2, r)
	}

	// l0's own exit, published as fallback would, reaches l1.
	st := NewProcessState(StateChange{Name: "l0", Group: "P", From: status.Running, To: status.Exited, PID: l0.cmd.Process.Pid})
	b.Publish(st)
	r = l1.next(t)
	if r.Payload != st.Payload || r.Eventname != "PROCESS_STATE_EXITED" {
		t.Errorf("l1 got %+v, want %q", r, st.Payload)
	}
	l1.exit()
}
