package difftest

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// scenarios is every scenario of the test, in the README's order.
var scenarios = slices.Concat(processScenarios, childScenarios, commandScenarios, gapScenarios)

// recorder records "start NAME PID" when started and "stop NAME" on
// SIGTERM.
const recorder = `#!/bin/sh
echo "start $1 $$" >> {DIR}/order
trap 'echo "stop $1" >> {DIR}/order; exit 0' TERM
sleep 1000 &
wait
`

var processScenarios = []*scenario{{
	// A program that exits at once goes to BACKOFF, is retried
	// startretries times, then is FATAL; a manual start begins a fresh
	// cycle. A command that cannot be found is FATAL the same way.
	// startsecs=3: with 1, a loaded machine can delay supervisord's loop
	// past startsecs, and it then counts an instant exit as one after
	// RUNNING (and starts a new cycle).
	name: "crash-loop",
	cfg: fallbacktest.Config{Sections: `
[program:crash]
command=/bin/sh -c 'echo run >> {DIR}/crash.runs; exit 1'
startsecs=3
startretries=3
autostart=false

[program:notfound]
command=/nonexistent/cmd
startretries=0
`},
	steps: func(s *side) {
		// Started by hand: start answers "spawn error" as the program
		// enters its first BACKOFF, which a poll of status could miss on
		// a loaded machine (supervisorctl itself then takes seconds).
		s.ctl("start", "crash")
		s.wait("FATAL", "crash", "notfound")
		s.notef("crash spawned %d times", s.count("crash.runs"))
		s.ctl("status")
		s.ctl("start", "crash")
		s.wait("FATAL", "crash")
		s.notef("crash spawned %d times", s.count("crash.runs"))
		s.ctl("status", "crash")
		s.ctl("start", "notfound")
		s.ctl("status", "notfound")
	},
}, {
	// exitcodes under each autorestart: a member of exitcodes is EXITED
	// and, under autorestart=unexpected, not restarted; autorestart=false
	// never restarts; autorestart=true restarts after an expected exit;
	// an unexpected code restarts under autorestart=unexpected.
	name: "exitcodes-autorestart",
	cfg: fallbacktest.Config{Sections: `
[program:ok3]
command=/bin/sh -c 'echo run >> {DIR}/ok3.runs; sleep 0.3; exit 3'
exitcodes=0,3
startsecs=0

[program:once]
command=/bin/sh -c 'echo run >> {DIR}/once.runs; sleep 0.3; exit 1'
autorestart=false
startsecs=0

[program:flaky]
command=/bin/sh -c 'echo run >> {DIR}/flaky.runs; sleep 0.3; exit 2'
startsecs=0

[program:again]
command=/bin/sh -c 'echo run >> {DIR}/again.runs; sleep 0.3; exit 0'
autorestart=true
startsecs=0

[program:zero]
command=/bin/sh -c 'echo run >> {DIR}/zero.runs; sleep 0.3; exit 0'
exitcodes=3
startsecs=0
`},
	steps: func(s *side) {
		s.wait("EXITED", "ok3", "once")
		s.waitFor("again restarted twice", func() bool { return s.count("again.runs") >= 3 })
		s.waitFor("flaky restarted twice", func() bool { return s.count("flaky.runs") >= 3 })
		s.waitFor("zero restarted twice", func() bool { return s.count("zero.runs") >= 3 })
		// again, flaky and zero restart again and again: their state at
		// any moment is a race, their restarts are what counts.
		s.notef("again, flaky and zero restarted: true")
		s.notef("ok3 ran %d times, once ran %d times", s.count("ok3.runs"), s.count("once.runs"))
		s.ctl("status", "ok3", "once")
		s.ctl("start", "ok3")
		s.wait("EXITED", "ok3")
		s.notef("ok3 ran %d times", s.count("ok3.runs"))
	},
}, {
	// startsecs edges: with startsecs=0 a program that exits at once was
	// RUNNING and is EXITED; one that dies before startsecs, with exit 1
	// or exit 0, is a failed start, retried startretries times whatever
	// autorestart says, then FATAL; one that outlives startsecs is
	// RUNNING, and its end, by exit 0, exit 1 or SIGKILL, is an ordinary
	// exit, EXITED and, with autorestart=false, not restarted. A command
	// that cannot be found is retried too; so is an early death by an
	// exit status listed in exitcodes.
	name: "startsecs-edges",
	cfg: fallbacktest.Config{Sections: `
[program:instant]
command=/bin/sh -c 'echo run >> {DIR}/instant.runs; exit 0'
startsecs=0
autorestart=false

[program:short]
command=/bin/sh -c 'echo run >> {DIR}/short.runs; sleep 0.3; exit 1'
startsecs=3
startretries=1
autorestart=false

[program:zero]
command=/bin/sh -c 'echo run >> {DIR}/zero.runs; sleep 0.3; exit 0'
startsecs=3
startretries=1
autorestart=false

[program:long]
command=/bin/sh -c 'echo run >> {DIR}/long.runs; sleep 3; exit 0'
startsecs=1
autorestart=false
autostart=false

[program:late1]
command=/bin/sh -c 'echo run >> {DIR}/late1.runs; sleep 2; exit 1'
startsecs=1
autorestart=false
autostart=false

[program:killed]
command=/bin/sh -c 'echo run >> {DIR}/killed.runs; exec sleep 1000'
startsecs=1
autorestart=false

[program:missing]
command=/nonexistent/cmd
startretries=1
autorestart=false

[program:ones]
command=/bin/sh -c 'echo run >> {DIR}/ones.runs; sleep 0.3; exit 1'
exitcodes=0,1
startsecs=3
startretries=1
`},
	steps: func(s *side) {
		s.wait("EXITED", "instant")
		s.wait("RUNNING", "killed")
		s.killProgram("killed")
		// EXITED, not STARTING or BACKOFF: no restart is coming
		s.wait("EXITED", "killed")
		s.ctl("start", "long", "late1") // returns once both are RUNNING
		s.wait("EXITED", "long", "late1")
		s.wait("FATAL", "short", "zero", "missing", "ones")
		s.ctl("status")
		s.notef("runs: instant %d, short %d, zero %d, long %d, late1 %d, killed %d, ones %d", s.count("instant.runs"), s.count("short.runs"), s.count("zero.runs"), s.count("long.runs"), s.count("late1.runs"), s.count("killed.runs"), s.count("ones.runs"))
	},
}, {
	// Under autorestart=false, a death within startsecs by a signal is a
	// failed start, retried startretries times, then FATAL: here SIGUSR1,
	// a real-time signal, SIGTERM (a clean end for systemd), SIGKILL and
	// SIGSEGV, each a success in the unit's SuccessExitStatus=, so that
	// the startsecs step's verdict restarts it. The same end after
	// startsecs is EXITED, with no restart; so is a late core dump,
	// which systemd restarts whatever SuccessExitStatus= says and the
	// compatibility step refuses to start again (internal/shim).
	name: "startsecs-early-signal",
	cfg: fallbacktest.Config{Sections: `
[program:usr1]
command=/bin/sh -c 'echo run >> {DIR}/usr1.runs; sleep 0.3; kill -USR1 $$'
startsecs=3
startretries=1
autorestart=false

[program:rt]
command=/bin/sh -c 'echo run >> {DIR}/rt.runs; sleep 0.3; kill -s RTMIN $$'
startsecs=3
startretries=1
autorestart=false

[program:term]
command=/bin/sh -c 'echo run >> {DIR}/term.runs; sleep 0.3; kill -TERM $$'
startsecs=3
startretries=1
autorestart=false

[program:kill]
command=/bin/sh -c 'echo run >> {DIR}/kill.runs; sleep 0.3; kill -KILL $$'
startsecs=3
startretries=1
autorestart=false

[program:segv]
command=/bin/sh -c 'ulimit -c 0; echo run >> {DIR}/segv.runs; sleep 0.3; kill -SEGV $$'
startsecs=3
startretries=1
autorestart=false

[program:late]
command=/bin/sh -c 'echo run >> {DIR}/late.runs; sleep 1.6; kill -USR1 $$'
startsecs=1
autorestart=false

[program:latekill]
command=/bin/sh -c 'echo run >> {DIR}/latekill.runs; sleep 1.6; kill -KILL $$'
startsecs=1
autorestart=false

[program:dump]
command=/bin/sh -c 'ulimit -c unlimited 2>/dev/null; echo run >> {DIR}/dump.runs; sleep 1.6; kill -SEGV $$'
directory={DIR}
startsecs=1
autorestart=false
`},
	steps: func(s *side) {
		s.wait("FATAL", "usr1", "rt", "term", "kill", "segv")
		s.wait("EXITED", "late", "latekill", "dump")
		s.ctl("status")
		_, err := os.Stat(s.path("core"))
		s.notef("runs: usr1 %d, rt %d, term %d, kill %d, segv %d, late %d, latekill %d, dump %d; core dumped: %v", s.count("usr1.runs"), s.count("rt.runs"), s.count("term.runs"), s.count("kill.runs"), s.count("segv.runs"), s.count("late.runs"), s.count("latekill.runs"), s.count("dump.runs"), err == nil)
	},
}, {
	// A stop or restart whose stop signal makes the program dump core
	// (SIGQUIT, which sleep does not handle) under autorestart=false:
	// the core dump is no crash of the program's own, so the restart
	// starts it again and the stop leaves it STOPPED (the compatibility
	// step asks the manager for the unit's job before it marks a late
	// end).
	name: "stop-core-dump",
	cfg: fallbacktest.Config{Sections: `
[program:quit]
command=/bin/sh -c 'ulimit -c unlimited 2>/dev/null; echo run >> {DIR}/quit.runs; exec sleep 1000'
directory={DIR}
stopsignal=QUIT
startsecs=1
autorestart=false
`},
	steps: func(s *side) {
		s.wait("RUNNING", "quit")
		s.ctl("restart", "quit")
		s.wait("RUNNING", "quit")
		s.ctl("status")
		s.ctl("stop", "quit")
		s.ctl("status")
		_, err := os.Stat(s.path("core"))
		s.notef("runs: quit %d; core dumped: %v", s.count("quit.runs"), err == nil)
	},
}, {
	// Exit status 254 under autorestart=false, the one the compatibility
	// step keeps to give up with (docs/MAPPING.md): within startsecs
	// supervisord retries it startretries times, then FATAL (the unit
	// forces the program's 254 to restart); after startsecs it is EXITED,
	// not restarted (the forced restart is refused by the step).
	name: "startsecs-early-254",
	cfg: fallbacktest.Config{Sections: `
[program:exit254]
command=/bin/sh -c 'echo run >> {DIR}/exit254.runs; sleep 0.3; exit 254'
startsecs=3
startretries=1
autorestart=false

[program:late254]
command=/bin/sh -c 'echo run >> {DIR}/late254.runs; sleep 1.2; exit 254'
startsecs=1
autorestart=false
`},
	steps: func(s *side) {
		s.wait("FATAL", "exit254")
		s.wait("EXITED", "late254")
		s.ctl("status")
		s.notef("runs: exit254 %d, late254 %d", s.count("exit254.runs"), s.count("late254.runs"))
	},
}, {
	// Each stopsignal reaches the program, which exits on it; a program
	// that ignores it gets SIGKILL after stopwaitsecs.
	name: "stop-signals",
	cfg: fallbacktest.Config{
		Files: map[string]string{"trap.sh": `#!/bin/sh
for sig in TERM INT HUP QUIT USR1 USR2; do
	trap "echo $1 got $sig >> {DIR}/signals; kill \$child; exit 0" $sig
done
sleep 1000 &
child=$!
wait
`},
		Sections: `
[program:term]
command={DIR}/trap.sh %(program_name)s
startsecs=0
stopasgroup=true

[program:int]
command={DIR}/trap.sh %(program_name)s
stopsignal=INT
startsecs=0
stopasgroup=true

[program:hup]
command={DIR}/trap.sh %(program_name)s
stopsignal=HUP
startsecs=0
stopasgroup=true

[program:usr2]
command={DIR}/trap.sh %(program_name)s
stopsignal=USR2
startsecs=0
stopasgroup=true

[program:stubborn]
command=/bin/sh -c "trap '' TERM; exec sleep 1000"
startsecs=0
stopwaitsecs=1
`},
	steps: func(s *side) {
		names := []string{"term", "int", "hup", "usr2"}
		s.wait("RUNNING", append(names, "stubborn")...)
		for _, name := range names {
			s.ctl("stop", name)
		}
		s.notef("signals received: %v", s.lines("signals"))
		pid := s.pidOf("stubborn")
		p := s.proc(pid)
		start := time.Now()
		s.ctl("stop", "stubborn")
		s.gone("stubborn", pid, p.StartTime)
		s.notef("stubborn took stopwaitsecs to die: %v", time.Since(start) >= 900*time.Millisecond)
		s.ctl("status")
	},
}, {
	// stopasgroup signals the whole process group, so a grandchild dies
	// with the program, also when killasgroup's SIGKILL is needed;
	// without it the grandchild survives the program under supervisord.
	name: "stopasgroup-grandchildren",
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
		pid, start := s.readPID("plain.gc")
		s.ctl("stop", "plain")
		s.notef("plain's grandchild alive after stop: %v", fallbacktest.Alive(pid, start))
		s.killOwn(pid, start, syscall.SIGKILL)
		s.gone("plain's grandchild", pid, start)
	},
}, {
	// Priorities order the start (ascending), and stop all.
	name: "priority-order",
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
			return func() bool { return strings.Count(s.readFile("order"), "start ") >= n }
		}
		s.waitFor("three starts", starts(3))
		s.notef("spawned in order %v", spawnOrder(s.lines("order")))
		s.wait("RUNNING", "zeta", "mid", "alpha")
		s.ctl("avail")
		s.truncate("order")
		s.ctlSorted("stop", "all")
		s.notef("%d stops recorded", strings.Count(s.readFile("order"), "stop "))
		s.truncate("order")
		s.ctlSorted("start", "all")
		s.waitFor("three starts", starts(3))
		s.notef("spawned in order %v", spawnOrder(s.lines("order")))
	},
}, {
	// autostart=false: STOPPED until started, then as any program.
	name: "autostart-false",
	cfg: fallbacktest.Config{Sections: `
[program:manual]
command=/bin/sh -c 'echo run >> {DIR}/manual.runs; exec sleep 1000'
autostart=false
startsecs=0

[program:auto]
command=sleep 1000
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "auto")
		s.ctl("status")
		s.notef("manual ran %d times", s.count("manual.runs"))
		s.ctl("start", "manual")
		s.ctl("status", "manual")
		s.ctl("stop", "manual")
		s.ctl("status", "manual")
		s.notef("manual ran %d times", s.count("manual.runs"))
	},
}, {
	// A long-running program killed with SIGKILL again and again comes
	// back every time: it was up longer than startsecs, so each death is
	// an exit, not a failed start, however many there are.
	name: "repeated-sigkill",
	cfg: fallbacktest.Config{Sections: `
[program:victim]
command=/bin/sh -c 'echo run >> {DIR}/victim.runs; exec sleep 1000'
startsecs=1
startretries=1

[program:dead]
command=sleep 1000
startsecs=0
autorestart=false
`},
	steps: func(s *side) {
		s.wait("RUNNING", "victim", "dead")
		for i := 0; i < 4; i++ {
			s.waitRestarted("victim", s.killProgram("victim"))
		}
		s.killProgram("dead")
		s.wait("EXITED", "dead")
		s.notef("victim ran %d times", s.count("victim.runs"))
		s.ctl("status")
	},
}}
