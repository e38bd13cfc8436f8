package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// eventsPrograms are the programs of TestServeEventsOnSystemd: a listener
// written with supervisor.childutils (testdata/serve/listener.py), and a
// program for each scenario, started by the test once the listener is
// RUNNING.
const eventsPrograms = `[eventlistener:watch]
command=PYTHON LISTENER %(here)s/events.log crashy,clean,longrun,victim,talker,killed victim
events=PROCESS_STATE,PROCESS_LOG
startsecs=0

[program:crashy]
command=/bin/sh -c "exit 1"
autostart=false
startsecs=10
startretries=3

[program:clean]
command=/bin/sh -c "sleep 4; exit 0"
autostart=false
startsecs=1

[program:longrun]
command=/bin/sleep 1000
autostart=false
startsecs=1

[program:talker]
command=/bin/sh -c "echo hello from talker; exec sleep 1000"
autostart=false
startsecs=0
stdout_events_enabled=true

[program:victim]
command=/bin/sleep 1001
autostart=false
startsecs=1

[program:killed]
command=/bin/sleep 1002
autostart=false
autorestart=true
startsecs=1
`

// (crashy's startsecs and clean's run are long enough that a loaded
// machine does not make supervisord, which decides both on its loop's
// 1 s turns, see a crash as a run or an exit as a crash.)

// eventsScenario drives the processes through a crash loop (crashy: four
// starts, BACKOFF until FATAL), a program killed three times once
// RUNNING and restarted each time (killed: SIGKILL, autorestart=true)
// while crashy loops, an expected exit (clean), a start
// and a stop (longrun), and the listener's memmon-style restart
// (victim), waiting for each to settle, then returns the events the listener logged, normalised: each
// process's events in order, the processes apart (their events interleave
// only where the scenarios overlap, which they do not, but the order
// between processes is not what is compared), pids written as PID (0
// stays 0). Serials and times are not in what the listener logs.
func eventsScenario(t *testing.T, w *world, dir string) string {
	t.Helper()
	w.waitState(t, "watch", "RUNNING", 0)
	w.ctl("start", "crashy", "killed")
	pid := w.waitState(t, "killed", "RUNNING", 0)
	for range 3 {
		// the listener must hear each restart, however close they come
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		pid = w.waitState(t, "killed", "RUNNING", pid)
	}
	w.waitState(t, "crashy", "FATAL", 0)
	w.ctl("start", "clean")
	w.waitState(t, "clean", "EXITED", 0)
	w.ctl("start", "longrun")
	w.waitState(t, "longrun", "RUNNING", 0)
	w.ctl("stop", "longrun")
	w.waitState(t, "longrun", "STOPPED", 0)
	w.ctl("start", "talker")
	w.ctl("start", "victim")
	// the listener restarts victim when it hears it RUNNING
	want := map[string]int{"crashy": 9, "killed": 11, "clean": 3, "longrun": 4, "victim": 6, "talker": 2, "talker log": 1}
	log := filepath.Join(dir, "events.log")
	deadline := time.Now().Add(60 * time.Second)
	for {
		byProc, restarted := readEvents(t, log)
		done := restarted
		for name, n := range want {
			done = done && len(byProc[name]) >= n
		}
		if done || time.Now().After(deadline) {
			if !done {
				t.Errorf("%s: the listener did not get every event in 60 s", w.name)
			}
			if !restarted {
				t.Errorf("%s: the listener did not restart victim", w.name)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.waitState(t, "victim", "RUNNING", 0)
	byProc, _ := readEvents(t, log)
	var b strings.Builder
	for _, name := range []string{"crashy", "killed", "clean", "longrun", "victim", "talker", "talker log"} {
		fmt.Fprintf(&b, "%s:\n", name)
		for _, e := range byProc[name] {
			b.WriteString("  " + e + "\n")
		}
	}
	if testing.Verbose() {
		t.Logf("%s: the listener's events:\n%s", w.name, b.String())
	}
	return b.String()
}

var eventPID = regexp.MustCompile(`pid:[1-9][0-9]*`)

// readEvents reads the listener's log: each process's events, pids
// normalised, and whether it restarted victim.
func readEvents(t *testing.T, path string) (map[string][]string, bool) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	by := map[string][]string{}
	restarted := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		if line == "RESTARTED victim" {
			restarted = true
			continue
		}
		m := regexp.MustCompile(`processname:(\S+)`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := m[1]
		if strings.HasPrefix(line, "PROCESS_LOG_") {
			key += " log" // its order against the state events is not specified
		}
		by[key] = append(by[key], eventPID.ReplaceAllString(line, "pid:PID"))
	}
	return by, restarted
}

// TestServeEventsOnSystemd is the Must-show of issue 14's events: a
// listener written with Supervisor's own supervisor.childutils gets the
// same PROCESS_STATE events (names, from_state, tries, expected, pid
// given or 0) for a crash loop, an expected exit, a start and a stop,
// and the same PROCESS_LOG_STDOUT for a line of stdout_events_enabled
// output (from the journal under serve),
// from supersede serve over a real systemd user manager as from the real
// supervisord, and its memmon-style restart over the API (stopProcess,
// startProcess) restarts the unit: the unit's main pid changes.
func TestServeEventsOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	listener, err := filepath.Abs("testdata/serve/listener.py")
	if err != nil {
		t.Fatal(err)
	}
	programs := strings.NewReplacer("PYTHON", testreal.Python, "LISTENER", listener).Replace(eventsPrograms)
	sideBySide(t, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := writeConf(t, dir, programs)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return eventsScenario(t, w, dir)
	}, func(t *testing.T) string {
		dir := shortTempDir(t)
		conf := writeConf(t, dir, programs)
		w, sm := serveWorld(t, conf)
		out := eventsScenario(t, w, dir)
		// the listener restarted the unit (its events say so) and it runs
		if st := sm.Show("victim.service", "ActiveState")["ActiveState"]; st != "active" {
			t.Errorf("victim.service is %s after the listener's restart", st)
		}
		return out
	})
}
