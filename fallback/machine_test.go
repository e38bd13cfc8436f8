package fallback

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// fakeFx records what the state machine asks of the world.
type fakeFx struct {
	nextPID   int
	spawnErrs []string // consumed by each spawn; "" succeeds
	killErr   error
	lines     []string // "INFO spawned: 'x' with pid 100"
	kills     []string // "-15 100"
	changes   []string // "STOPPED>STARTING"
}

func (f *fakeFx) spawn(p *proc) (int, string) {
	if len(f.spawnErrs) > 0 {
		msg := f.spawnErrs[0]
		f.spawnErrs = f.spawnErrs[1:]
		if msg != "" {
			return 0, msg
		}
	}
	f.nextPID++
	return f.nextPID, ""
}

func (f *fakeFx) kill(pid int, sig syscall.Signal) error {
	f.kills = append(f.kills, fmt.Sprintf("-%d %d", int(sig), pid))
	return f.killErr
}

func (f *fakeFx) log(level slog.Level, msg string) {
	if level < slog.LevelInfo {
		return
	}
	tags := map[slog.Level]string{LevelCritical: "CRIT", slog.LevelError: "ERRO", slog.LevelWarn: "WARN", slog.LevelInfo: "INFO"}
	f.lines = append(f.lines, tags[level]+" "+msg)
}

func (f *fakeFx) changed(p *proc, from status.State, expected bool) {
	c := from.String() + ">" + p.state.String()
	if !expected {
		c += "!"
	}
	f.changes = append(f.changes, c)
}

// step is one event at a time after t0.
type step struct {
	at  time.Duration
	op  string // tick, start, stop, giveup, exit, killed, signal, tickdown (transition while shutting down)
	arg int    // exit code, or signal
}

func exitStatus(code int) syscall.WaitStatus         { return syscall.WaitStatus(code << 8) }
func killedBy(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }

func testProcess() *translate.Process {
	return &translate.Process{
		Name: "x", Group: "x", Command: "x", Argv: []string{"x"},
		AutoStart: true, AutoRestart: translate.RestartUnexpected,
		ExitCodes: []int{0}, MinUptime: time.Second, StartRetries: 3,
		StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
	}
}

func TestMachine(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const sec = time.Second
	cases := []struct {
		name      string
		cfg       func(*translate.Process)
		spawnErrs []string
		killErr   error
		steps     []step
		state     status.State
		changes   string // space-separated
		log       []string
		kills     string
		exit      int
		backoff   int
		deadline  time.Duration // want deadline(true) - t0; -1 for none
	}{
		{
			name:     "autostart spawns a never-started process",
			steps:    []step{{0, "tick", 0}},
			state:    status.Starting,
			changes:  "STOPPED>STARTING",
			log:      []string{"INFO spawned: 'x' with pid 1"},
			deadline: sec + 1,
		},
		{
			name:     "autostart=false waits for a start request",
			cfg:      func(p *translate.Process) { p.AutoStart = false },
			steps:    []step{{0, "tick", 0}},
			state:    status.Stopped,
			deadline: -1,
		},
		{
			name:     "no autostart while shutting down",
			steps:    []step{{0, "tickdown", 0}},
			state:    status.Stopped,
			deadline: -1,
		},
		{
			name:     "startsecs=1 exactly 1s later is still STARTING",
			steps:    []step{{0, "tick", 0}, {sec, "tick", 0}},
			state:    status.Starting,
			changes:  "STOPPED>STARTING",
			log:      []string{"INFO spawned: 'x' with pid 1"},
			deadline: sec + 1,
		},
		{
			name:    "startsecs=1 strictly more than 1s later is RUNNING",
			steps:   []step{{0, "tick", 0}, {sec + 1, "tick", 0}},
			state:   status.Running,
			changes: "STOPPED>STARTING STARTING>RUNNING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
			},
			deadline: -1,
		},
		{
			name:     "startsecs=0 is RUNNING on the next transition",
			cfg:      func(p *translate.Process) { p.MinUptime = 0 },
			steps:    []step{{0, "tick", 0}, {1, "tick", 0}},
			state:    status.Running,
			changes:  "STOPPED>STARTING STARTING>RUNNING",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO success: x entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"},
			deadline: -1,
		},
		{
			name:    "exit within startsecs is BACKOFF even with an expected code",
			steps:   []step{{0, "tick", 0}, {sec / 2, "exit", 0}},
			state:   status.Backoff,
			changes: "STOPPED>STARTING STARTING>BACKOFF",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"WARN exited: x (exit status 0; not expected)",
			},
			backoff:  1,
			deadline: sec/2 + sec + 1,
		},
		{
			name:    "exit exactly at startsecs passes through RUNNING to EXITED",
			steps:   []step{{0, "tick", 0}, {sec, "exit", 0}},
			state:   status.Exited,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO exited: x (exit status 0; expected)",
			},
			deadline: -1,
		},
		{
			name:  "backoff waits 1s, 2s, 3s and gives up after startretries",
			steps: []step{{0, "tick", 0}, {sec + 1, "tick", 0}, {3*sec + 1, "tick", 0}, {3*sec + 2, "tick", 0}, {6*sec + 2, "tick", 0}, {6*sec + 3, "tick", 0}},
			cfg:   func(p *translate.Process) { p.StartRetries = 2 },
			spawnErrs: []string{
				"can't find command 'x'", "can't find command 'x'", "can't find command 'x'", "can't find command 'x'",
			},
			state:   status.Fatal,
			changes: "STOPPED>STARTING STARTING>BACKOFF BACKOFF>STARTING STARTING>BACKOFF BACKOFF>STARTING STARTING>BACKOFF BACKOFF>FATAL",
			log: []string{
				"INFO spawnerr: can't find command 'x'",
				"INFO spawnerr: can't find command 'x'",
				"INFO spawnerr: can't find command 'x'",
				"INFO gave up: x entered FATAL state, too many start retries too quickly",
			},
			deadline: -1,
		},
		{
			name:      "startretries=0 gives up after the first failure",
			cfg:       func(p *translate.Process) { p.StartRetries = 0 },
			spawnErrs: []string{"command is empty"},
			steps:     []step{{0, "tick", 0}, {0, "tick", 0}},
			state:     status.Fatal,
			changes:   "STOPPED>STARTING STARTING>BACKOFF BACKOFF>FATAL",
			log:       []string{"INFO spawnerr: command is empty", "INFO gave up: x entered FATAL state, too many start retries too quickly"},
			deadline:  -1,
		},
		{
			name:      "a start request on FATAL starts a fresh cycle",
			cfg:       func(p *translate.Process) { p.StartRetries = 0 },
			spawnErrs: []string{"command is empty"},
			steps:     []step{{0, "tick", 0}, {0, "tick", 0}, {5 * sec, "start", 0}},
			state:     status.Starting,
			changes:   "STOPPED>STARTING STARTING>BACKOFF BACKOFF>FATAL FATAL>STARTING",
			log:       []string{"INFO spawnerr: command is empty", "INFO gave up: x entered FATAL state, too many start retries too quickly", "INFO spawned: 'x' with pid 1"},
			deadline:  6*sec + 1,
		},
		{
			name:    "backoff counter resets on reaching RUNNING",
			steps:   []step{{0, "tick", 0}, {sec / 2, "exit", 1}, {2 * sec, "tick", 0}, {4 * sec, "tick", 0}},
			state:   status.Running,
			changes: "STOPPED>STARTING STARTING>BACKOFF BACKOFF>STARTING STARTING>RUNNING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"WARN exited: x (exit status 1; not expected)",
				"INFO spawned: 'x' with pid 2",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
			},
			deadline: -1,
		},
		{
			name:    "death by signal is exit status -1, unexpected, and restarts",
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "killed", 9}, {3 * sec, "tick", 0}},
			state:   status.Starting,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED! EXITED>STARTING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN exited: x (terminated by SIGKILL; not expected)",
				"INFO spawned: 'x' with pid 2",
			},
			deadline: 4*sec + 1,
		},
		{
			name:    "autorestart=unexpected keeps an expected exit EXITED",
			cfg:     func(p *translate.Process) { p.ExitCodes = []int{0, 2} },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "exit", 2}, {3 * sec, "tick", 0}},
			state:   status.Exited,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"INFO exited: x (exit status 2; expected)",
			},
			exit:     2,
			deadline: -1,
		},
		{
			name:    "autorestart=false keeps an unexpected exit EXITED",
			cfg:     func(p *translate.Process) { p.AutoRestart = translate.RestartNever },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "exit", 3}, {3 * sec, "tick", 0}},
			state:   status.Exited,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED!",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN exited: x (exit status 3; not expected)",
			},
			exit:     3,
			deadline: -1,
		},
		{
			name:    "autorestart=true restarts an expected exit",
			cfg:     func(p *translate.Process) { p.AutoRestart = translate.RestartAlways },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "exit", 0}, {3 * sec, "tick", 0}},
			state:   status.Starting,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED EXITED>STARTING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"INFO exited: x (exit status 0; expected)",
				"INFO spawned: 'x' with pid 2",
			},
			deadline: 4*sec + 1,
		},
		{
			name:    "no autorestart while shutting down",
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "exit", 1}, {3 * sec, "tickdown", 0}},
			state:   status.Exited,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED!",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN exited: x (exit status 1; not expected)",
			},
			exit:     1,
			deadline: -1,
		},
		{
			name:    "stop escalates to SIGKILL after stopwaitsecs",
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}, {13*sec - 1, "tick", 0}, {13 * sec, "tick", 0}, {13 * sec, "killed", 9}},
			state:   status.Stopped,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING STOPPING>STOPPED",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN killing 'x' (1) with SIGKILL",
				"WARN stopped: x (terminated by SIGKILL)",
			},
			kills:    "-15 1 -9 1",
			exit:     -1,
			deadline: -1,
		},
		{
			name:    "stopwaitsecs=0: SIGKILL at once, then once a second",
			cfg:     func(p *translate.Process) { p.StopWait = 0 },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}, {3 * sec, "tick", 0}, {3*sec + 1, "tick", 0}, {4*sec - 1, "tick", 0}, {4 * sec, "tick", 0}},
			state:   status.Stopping,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN killing 'x' (1) with SIGKILL",
				"WARN killing 'x' (1) with SIGKILL",
			},
			kills:    "-15 1 -9 1 -9 1",
			deadline: 5 * sec,
		},
		{
			name:     "stopping waits stopwaitsecs",
			steps:    []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}},
			state:    status.Stopping,
			changes:  "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"},
			kills:    "-15 1",
			deadline: 13 * sec,
		},
		{
			name:    "stopasgroup signals the process group, killasgroup too",
			cfg:     func(p *translate.Process) { p.StopAsGroup, p.KillAsGroup, p.StopWait = true, true, sec },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}, {4 * sec, "tick", 0}},
			state:   status.Stopping,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN killing 'x' (1) with SIGKILL",
			},
			kills:    "-15 -1 -9 -1",
			deadline: 5 * sec,
		},
		{
			name:    "killasgroup alone: stop signal to the pid, SIGKILL to the group",
			cfg:     func(p *translate.Process) { p.KillAsGroup, p.StopWait = true, sec },
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}, {4 * sec, "tick", 0}},
			state:   status.Stopping,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN killing 'x' (1) with SIGKILL",
			},
			kills:    "-15 1 -9 -1",
			deadline: 5 * sec,
		},
		{
			name:     "stop of a STARTING process",
			cfg:      func(p *translate.Process) { p.StopSignal = syscall.SIGINT },
			steps:    []step{{0, "tick", 0}, {0, "stop", 0}, {sec / 2, "exit", 0}},
			state:    status.Stopped,
			changes:  "STOPPED>STARTING STARTING>STOPPING STOPPING>STOPPED",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO stopped: x (exit status 0)"},
			kills:    "-2 1",
			deadline: -1,
		},
		{
			name:      "stop in BACKOFF is STOPPED at once",
			spawnErrs: []string{"command is empty"},
			steps:     []step{{0, "tick", 0}, {0, "stop", 0}, {5 * sec, "tick", 0}},
			state:     status.Stopped,
			changes:   "STOPPED>STARTING STARTING>BACKOFF BACKOFF>STOPPED",
			log:       []string{"INFO spawnerr: command is empty"},
			backoff:   1,
			deadline:  -1,
		},
		{
			name:      "giving up on BACKOFF at shutdown",
			spawnErrs: []string{"command is empty"},
			steps:     []step{{0, "tick", 0}, {0, "giveup", 0}},
			state:     status.Fatal,
			changes:   "STOPPED>STARTING STARTING>BACKOFF BACKOFF>FATAL",
			log:       []string{"INFO spawnerr: command is empty"},
			deadline:  -1,
		},
		{
			name:     "ESRCH while stopping is ignored: the reap follows",
			killErr:  syscall.ESRCH,
			steps:    []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}},
			state:    status.Stopping,
			changes:  "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"},
			kills:    "-15 1",
			deadline: 13 * sec,
		},
		{
			name:    "another kill error makes the process UNKNOWN",
			killErr: syscall.EPERM,
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "stop", 0}},
			state:   status.Unknown,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING STOPPING>UNKNOWN",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"CRIT unknown problem killing x (1):operation not permitted",
			},
			kills:    "-15 1",
			deadline: -1,
		},
		{
			name:     "a start request on a stopped process",
			cfg:      func(p *translate.Process) { p.AutoStart = false },
			steps:    []step{{0, "tick", 0}, {sec, "start", 0}},
			state:    status.Starting,
			changes:  "STOPPED>STARTING",
			log:      []string{"INFO spawned: 'x' with pid 1"},
			deadline: 2*sec + 1,
		},
		{
			name:    "a signal that fails makes the process UNKNOWN",
			killErr: syscall.EPERM,
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "signal", 1}},
			state:   status.Unknown,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>UNKNOWN",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"CRIT unknown problem sending sig x (1):operation not permitted",
			},
			kills:    "-1 1",
			deadline: -1,
		},
		{
			name:     "a signal does not change the state",
			steps:    []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "signal", 1}},
			state:    status.Running,
			changes:  "STOPPED>STARTING STARTING>RUNNING",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"},
			kills:    "-1 1",
			deadline: -1,
		},
		{
			name:     "negative startsecs is RUNNING on the next transition",
			cfg:      func(p *translate.Process) { p.MinUptime = -5 * sec },
			steps:    []step{{0, "tick", 0}, {0, "tick", 0}},
			state:    status.Running,
			changes:  "STOPPED>STARTING STARTING>RUNNING",
			log:      []string{"INFO spawned: 'x' with pid 1", "INFO success: x entered RUNNING state, process has stayed up for > than -5 seconds (startsecs)"},
			deadline: -1,
		},
		{
			name:    "a core dump is named",
			steps:   []step{{0, "tick", 0}, {2 * sec, "tick", 0}, {3 * sec, "core", 11}},
			state:   status.Exited,
			changes: "STOPPED>STARTING STARTING>RUNNING RUNNING>EXITED!",
			log: []string{
				"INFO spawned: 'x' with pid 1",
				"INFO success: x entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
				"WARN exited: x (terminated by SIGSEGV (core dumped); not expected)",
			},
			exit:     -1,
			deadline: -1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testProcess()
			if c.cfg != nil {
				c.cfg(cfg)
			}
			fx := &fakeFx{spawnErrs: c.spawnErrs, killErr: c.killErr}
			p := newProc(cfg, fx)
			for _, s := range c.steps {
				now := t0.Add(s.at)
				switch s.op {
				case "tick":
					p.transition(now, true)
				case "tickdown":
					p.transition(now, false)
				case "start":
					p.spawn(now)
				case "stop":
					p.stop(now)
				case "giveup":
					p.giveUp(now)
				case "signal":
					p.signal(now, syscall.Signal(s.arg))
				case "exit":
					p.finish(now, exitStatus(s.arg))
				case "killed":
					p.finish(now, killedBy(syscall.Signal(s.arg)))
				case "core":
					p.finish(now, killedBy(syscall.Signal(s.arg))|0x80)
				default:
					t.Fatalf("bad op %q", s.op)
				}
			}
			if p.state != c.state {
				t.Errorf("state %s, want %s", p.state, c.state)
			}
			if got := strings.Join(fx.changes, " "); got != c.changes {
				t.Errorf("changes:\n got %s\nwant %s", got, c.changes)
			}
			if !slices.Equal(fx.lines, c.log) {
				t.Errorf("log:\n got %q\nwant %q", fx.lines, c.log)
			}
			if got := strings.Join(fx.kills, " "); got != c.kills {
				t.Errorf("kills %q, want %q", got, c.kills)
			}
			if p.exitstatus != c.exit {
				t.Errorf("exit status %d, want %d", p.exitstatus, c.exit)
			}
			if c.backoff != 0 && p.backoff != c.backoff {
				t.Errorf("backoff %d, want %d", p.backoff, c.backoff)
			}
			d := p.deadline(true)
			switch {
			case c.deadline < 0 && !d.IsZero():
				t.Errorf("deadline %v after t0, want none", d.Sub(t0))
			case c.deadline >= 0 && !d.Equal(t0.Add(c.deadline)):
				t.Errorf("deadline %v after t0, want %v", d.Sub(t0), c.deadline)
			}
		})
	}
}

func TestDecodeWaitStatus(t *testing.T) {
	for _, c := range []struct {
		ws   syscall.WaitStatus
		es   int
		text string
	}{
		{exitStatus(0), 0, "exit status 0"},
		{exitStatus(127), 127, "exit status 127"},
		{killedBy(syscall.SIGTERM), -1, "terminated by SIGTERM"},
		{killedBy(29), -1, "terminated by SIGPOLL"},
		{killedBy(syscall.SIGABRT) | 0x80, -1, "terminated by SIGABRT (core dumped)"},
		{killedBy(40), -1, "terminated by signal 40"},
	} {
		es, text := decodeWaitStatus(c.ws)
		if es != c.es || text != c.text {
			t.Errorf("decodeWaitStatus(%#x) = %d, %q; want %d, %q", uint32(c.ws), es, text, c.es, c.text)
		}
	}
}
