package difftest

import (
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// A program that exits at once goes to BACKOFF, is retried startretries
// times with growing delays, then is FATAL; a manual start begins a
// fresh cycle. A command that cannot be found is FATAL the same way.
func TestCrashLoop(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:crash]
command=/bin/sh -c 'echo run >> {DIR}/crash.runs; exit 1'
startsecs=3
startretries=3

[program:notfound]
command=/nonexistent/cmd
startretries=0
`},
		steps: func(s *side) {
			s.waitNote("BACKOFF", "crash") // BACKOFF lasts 1, 2 and 3 s: a second status might come too late
			s.wait("FATAL", "crash", "notfound")
			s.notef("crash spawned %d times", s.count("crash.runs"))
			s.ctl("status")
			s.ctl("start", "crash")
			s.wait("FATAL", "crash")
			s.notef("crash spawned %d times", s.count("crash.runs"))
			s.ctl("status", "crash")
			s.ctl("start", "notfound")
			s.ctl("status", "notfound")
			s.noteLog(`: 'crash'|: crash `)
			s.noteLog(`notfound`)
		},
	})
}

// Exit codes: a member of exitcodes after startsecs is EXITED and, under
// autorestart=unexpected, not restarted; autorestart=false never
// restarts; autorestart=true restarts after exit 0; an unexpected code
// restarts under autorestart=unexpected.
func TestExits(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:ok3]
command=/bin/sh -c 'echo run >> {DIR}/ok3.runs; sleep 0.2; exit 3'
exitcodes=0,3
startsecs=0

[program:once]
command=/bin/sh -c 'echo run >> {DIR}/once.runs; sleep 0.2; exit 1'
autorestart=false
startsecs=0

[program:flaky]
command=/bin/sh -c 'echo run >> {DIR}/flaky.runs; sleep 0.2; exit 2'
startsecs=0

[program:again]
command=/bin/sh -c 'echo run >> {DIR}/again.runs; sleep 0.2; exit 0'
autorestart=true
startsecs=0

[program:clock]
command=sleep 1000
autostart=false
startsecs=2
`},
		steps: func(s *side) {
			s.wait("EXITED", "ok3", "once")
			// clock reaches RUNNING 2 s after this start, by when a
			// restart of ok3 or once would have come (the next loop).
			s.ctl("start", "clock")
			s.waitFor("again restarted twice", func() bool { return s.count("again.runs") >= 3 })
			s.waitFor("flaky restarted twice", func() bool { return s.count("flaky.runs") >= 3 })
			s.notef("ok3 ran %d times, once ran %d times", s.count("ok3.runs"), s.count("once.runs"))
			s.ctl("status", "ok3", "once")
			s.noteLog(`exited: ok3 `)
			s.noteLog(`exited: once `)
			s.notef("again exited as expected: %v", len(s.mainLog(`exited: again \(exit status 0; expected\)`)) >= 2)
			s.notef("flaky exited unexpectedly: %v", len(s.mainLog(`exited: flaky \(exit status 2; not expected\)`)) >= 2)
			s.ctlQuiet("stop", "again", "flaky")
			s.ctl("start", "ok3")
			s.wait("EXITED", "ok3")
			s.notef("ok3 ran %d times", s.count("ok3.runs"))
		},
	})
}

// A program that ignores SIGTERM gets SIGKILL after stopwaitsecs.
func TestStopEscalation(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:stubborn]
command=/bin/sh -c "trap '' TERM; exec sleep 1000"
startsecs=0
stopwaitsecs=1

[program:polite]
command=sleep 1000
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "stubborn", "polite")
			pid := s.pidOf("stubborn")
			p, err := fallbacktest.ReadProc(pid)
			if err != nil {
				s.fail(err)
			}
			s.ctl("stop", "stubborn")
			s.gone("stubborn", pid, p.StartTime)
			s.ctl("status", "stubborn")
			s.noteLog(`killing 'stubborn'|stopped: stubborn`)
			s.ctl("stop", "polite")
			s.noteLog(`killing 'polite'|stopped: polite`)
			s.ctl("stop", "stubborn", "polite")
		},
	})
}

// stopasgroup signals the whole process group, so a grandchild dies with
// the program, also when SIGKILL (killasgroup) is needed; without it the
// grandchild survives the program.
func TestStopAsGroup(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:tree]
command=/bin/sh -c 'sleep 1000 & echo $! > {DIR}/tree.gc; wait'
stopasgroup=true
startsecs=0

[program:hard]
command=/bin/sh -c "trap '' TERM; sleep 1000 & echo $! > {DIR}/hard.gc; wait"
stopasgroup=true
stopwaitsecs=1
startsecs=0

[program:plain]
command=/bin/sh -c 'sleep 1000 & echo $! > {DIR}/plain.gc; wait'
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "tree", "hard", "plain")
			for _, name := range []string{"tree", "hard"} {
				pid, start := s.readPID(name + ".gc")
				s.ctl("stop", name)
				s.gone(name+"'s grandchild", pid, start)
			}
			s.noteLog(`killing 'tree'|stopped: tree`)
			s.noteLog(`killing 'hard'|stopped: hard`)
			pid, start := s.readPID("plain.gc")
			s.ctl("stop", "plain")
			s.notef("plain's grandchild alive after stop: %v", fallbacktest.Alive(pid, start))
			s.killOwn(pid, start) // an orphan of the scenario's own making
			s.gone("plain's grandchild", pid, start)
		},
	})
}

const recorder = `#!/bin/sh
# Records "start NAME PID" when started and "stop NAME" on SIGTERM.
echo "start $1 $$" >> {DIR}/order
trap 'echo "stop $1" >> {DIR}/order; exit 0' TERM
sleep 1000 &
wait
`

// Priorities order the start (ascending) and the daemon's ordered stop
// at reload and shutdown (descending, one group at a time).
func TestPriority(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{
			Files: map[string]string{"rec.sh": recorder},
			Sections: `
[program:zeta]
command={DIR}/rec.sh %(program_name)s
priority=1
startsecs=0
stopasgroup=true

[program:alpha]
command={DIR}/rec.sh %(program_name)s
priority=3
startsecs=0
stopasgroup=true

[program:mid]
command={DIR}/rec.sh %(program_name)s
priority=2
startsecs=0
stopasgroup=true
`},
		steps: func(s *side) {
			starts := func(n int) func() bool {
				return func() bool { return strings.Count(s.d.ReadFile("order"), "start ") >= n }
			}
			stops := func(n int) func() bool {
				return func() bool { return strings.Count(s.d.ReadFile("order"), "stop ") >= n }
			}
			s.waitFor("three starts", starts(3))
			s.notef("spawned in order %v", spawnOrder(s.lines("order")))
			s.wait("RUNNING", "zeta", "mid", "alpha")
			s.ctl("avail")
			s.truncate("order")
			s.ctlSorted("stop", "all")
			s.notef("%d stops recorded", strings.Count(s.d.ReadFile("order"), "stop "))
			s.truncate("order")
			s.ctlSorted("start", "all")
			s.waitFor("three starts", starts(3))
			s.notef("spawned in order %v", spawnOrder(s.lines("order")))
			s.truncate("order")
			s.ctl("reload")
			s.ready()
			s.waitFor("three stops and three starts", func() bool { return stops(3)() && starts(3)() })
			var stopLines []string
			for _, l := range s.lines("order") {
				if strings.HasPrefix(l, "stop ") {
					stopLines = append(stopLines, l)
				}
			}
			s.notef("reload stopped in order %v", stopLines)
			s.notef("reload spawned in order %v", spawnOrder(s.lines("order")))
			s.wait("RUNNING", "zeta", "mid", "alpha")
			s.truncate("order")
			s.ctl("shutdown")
			s.waitExit()
			s.notef("shutdown stopped in order %v", s.lines("order"))
		},
	})
}
