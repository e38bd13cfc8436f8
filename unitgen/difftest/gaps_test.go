package difftest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// The gaps of issue 10, one scenario each (gap-N-...), as a new user
// would meet them moving from supervisord to the units.

// slowStopRecorder is recorder whose stop takes $2 seconds: with it, a
// stop that does not wait for one program before the next shows.
const slowStopRecorder = `#!/bin/sh
echo "start $1 $$" >> {DIR}/order
trap 'sleep $2; echo "stop $1" >> {DIR}/order; exit 0' TERM
sleep 1000 &
wait
`

// idleListener is an event listener that says READY and then waits for
// events (TICK_60: none comes within the scenario).
const idleListener = `#!/bin/sh
echo READY
while read -r header; do
	echo "RESULT 2"
	printf OK
done
echo "listener: end of input" >&2
exit 1
`

var notePos = regexp.MustCompile(`supervisord\.conf:\d+: .*`)

// migrationNotes records what the user is told, at the move, about a
// configuration's likely mistakes that Supervisor silently ignores. The
// reference is the specified outcome, the notes `supersede show` prints
// (supervisord itself says nothing); the systemd side records the notes
// `convert` printed. Each is recorded from its file:line on.
func (s *side) migrationNotes() {
	var text string
	if s.systemd() {
		text = s.convert.Stdout + s.convert.Stderr
	} else {
		for line := range strings.Lines(s.run(exec.Command(s.bin, "show", "-c", s.conf), "show").Stdout) {
			if strings.HasPrefix(line, "note: ") {
				text += line
			}
		}
	}
	s.notef("notes at the move:")
	for _, m := range notePos.FindAllString(text, -1) {
		s.notef("  %s", s.norm(m))
	}
}

var gapScenarios = []*scenario{{
	// A program whose dependency appears 2.5 s after its first start:
	// Supervisor's backoff (1 s, 2 s, 3 s) waits long enough for it.
	// The reference is the specified outcome, `supersede run` (RUNNING
	// after 3 runs, at 0 s, 1 s and 3 s): the real supervisord reaches
	// RUNNING too, but notices each exit only at its 1 s poll, so it
	// runs the program 3 or 4 times from one run to the next. The
	// dependency is the program's own clock (2.5 s after its first
	// start's stamp), not a file the test makes: a loaded machine that
	// delays the test past the third start (at 3 s) would otherwise make
	// one side run it 4 times.
	name: "gap1-late-dependency",
	ref:  fallbacktest.Supersede,
	cfg: fallbacktest.Config{Sections: `
[program:needy]
command=/bin/sh -c 'date +%%s%%N >> {DIR}/needy.runs; first=$(head -n 1 {DIR}/needy.runs); [ $(($(date +%%s%%N) - first)) -ge 2500000000 ] || exit 1; exec sleep 1000'
startsecs=1
`},
	steps: func(s *side) {
		s.waitNote("RUNNING|FATAL", "needy")
		s.notef("needy ran %d times", s.count("needy.runs"))
	},
}, {
	// A program that exits 0 within startsecs has not started: it is
	// retried startretries times, then FATAL. (startsecs=3: with 1, a
	// loaded machine can delay supervisord's loop past startsecs, and it
	// then counts the instant exit as one after RUNNING.) Not EXITED at
	// any point: the state first seen after STARTING is noted only as
	// EXITED or not, since at a load of 27 a supervisorctl slower than
	// the 1 s and 2 s waits saw supervisord's FATAL before any BACKOFF
	// (the runs and the end say the retries).
	name: "gap2-exit0-within-startsecs",
	cfg: fallbacktest.Config{Sections: `
[program:quick]
command=/bin/sh -c 'echo run >> {DIR}/quick.runs; exit 0'
startsecs=3
startretries=2
`},
	steps: func(s *side) {
		out, err := s.waitState("quick", "BACKOFF", "EXITED", "FATAL")
		if err != nil {
			s.fail(err)
		}
		s.notef("first after STARTING: EXITED %v", strings.Contains(out, " EXITED "))
		s.wait("FATAL|EXITED", "quick")
		s.ctl("status")
		s.notef("quick ran %d times", s.count("quick.runs"))
	},
}, {
	// The same with startsecs=1, the case as it comes: an instant exit
	// is noticed by supervisord's loop, which turns about once a second,
	// sometimes only after startsecs, when it counts as an exit after
	// RUNNING. The reference is the specified outcome, `supersede run`.
	name: "gap2-exit0-startsecs-1",
	ref:  fallbacktest.Supersede,
	cfg: fallbacktest.Config{Sections: `
[program:quick]
command=/bin/sh -c 'echo run >> {DIR}/quick.runs; exit 0'
startsecs=1
startretries=2
`},
	steps: func(s *side) {
		s.wait("FATAL|EXITED", "quick")
		s.ctl("status")
		s.notef("quick ran %d times", s.count("quick.runs"))
	},
}, {
	// shutdown stops the highest priority first and waits for each
	// program to die before the next.
	name: "gap3-shutdown-priority",
	cfg: fallbacktest.Config{
		Files: map[string]string{"rec.sh": slowStopRecorder},
		Sections: `
[program:base]
command={DIR}/rec.sh %(program_name)s 0
priority=1
startsecs=0
stopasgroup=true

[program:app]
command={DIR}/rec.sh %(program_name)s 0
priority=2
startsecs=0
stopasgroup=true

[program:front]
command={DIR}/rec.sh %(program_name)s 0.7
priority=3
startsecs=0
stopasgroup=true
`},
	steps: func(s *side) {
		s.wait("RUNNING", "base", "app", "front")
		s.truncate("order")
		s.ctl("shutdown")
		s.waitFor("three stops", func() bool { return strings.Count(s.readFile("order"), "stop ") >= 3 })
		s.notef("stopped in order %v", s.lines("order"))
	},
}, {
	// stop of a program in BACKOFF: STOPPED, under autorestart=false
	// too (any death within startsecs is a failed start, retried).
	// once's startsecs=3: a loaded machine can delay supervisord's loop
	// past a shorter one, and it then takes the exit 0 for one after
	// RUNNING (EXITED).
	name: "gap4-stop-in-backoff",
	cfg: fallbacktest.Config{Sections: `
[program:crashy]
command=/bin/sh -c 'exit 1'
startsecs=1
startretries=5
autostart=false

[program:once]
command=/bin/sh -c 'exit 0'
startsecs=3
startretries=5
autostart=false
autorestart=false
`},
	steps: func(s *side) {
		for _, name := range []string{"crashy", "once"} {
			s.ctl("start", name) // returns as it enters its first BACKOFF
			s.waitNote("BACKOFF", name)
			s.ctl("stop", name)
			s.ctl("status", name)
		}
	},
}, {
	// Spawn errors: a missing directory and a missing command are FATAL
	// and say why, in tail and in status.
	name: "gap5-spawn-errors",
	cfg: fallbacktest.Config{Sections: `
[program:nodir]
command=sleep 1000
directory=/nonexistent/dir
startretries=0

[program:nocmd]
command=/nonexistent/cmd
startretries=0

[program:fine]
command=sleep 1000
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "fine")
		s.wait("FATAL", "nodir", "nocmd")
		s.ctl("status")
		// Supervisor's two lines. How many starts wrote them varies on
		// both sides from run to run (one or two pairs: seen on the real
		// supervisord as on the units), so the lines are compared, not
		// their count.
		s.tailLines("child process was not spawned", "nodir", "stderr")
		s.ctl("tail", "nocmd", "stderr")
	},
}, {
	// The locale a program gets when supervisord started without one:
	// Python's locale coercion sets LC_CTYPE=C.UTF-8.
	name: "gap6-locale",
	cfg: fallbacktest.Config{Sections: `
[program:loc]
command=/bin/sh -c 'env | grep -E "^(LANG|LANGUAGE|LC_[A-Z]+)=" | sort > {DIR}/locale.tmp; mv {DIR}/locale.tmp {DIR}/locale; exec sleep 1000'
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "loc")
		s.waitFor("locale", func() bool { return exists(s.path("locale")) })
		s.notef("locale: %v", s.lines("locale"))
	},
}, {
	// An event listener waiting for events that do not come stays RUNNING.
	name: "gap7-eventlistener",
	cfg: fallbacktest.Config{
		Files: map[string]string{"listener.sh": idleListener},
		Sections: `
[eventlistener:listener]
command={DIR}/listener.sh
events=TICK_60
startsecs=1
startretries=1
`},
	steps: func(s *side) {
		s.waitNote("RUNNING|FATAL", "listener")
		hold(1500 * time.Millisecond) // it must stay up
		s.ctl("status")
	},
}, {
	// Adding a program with a lower priority changes nothing about the
	// others: update adds it and restarts none of them.
	name: "gap8-update-adds-only",
	cfg: fallbacktest.Config{Sections: `
[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sleep 1001
startsecs=0
priority=500
`},
	steps: func(s *side) {
		s.wait("RUNNING", "a", "b")
		a, b := s.pidOf("a"), s.pidOf("b")
		s.rewrite(fallbacktest.Config{Sections: `
[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sleep 1001
startsecs=0
priority=500

[program:c]
command=sleep 1002
startsecs=0
priority=1
`})
		s.ctl("reread")
		s.ctl("update")
		s.wait("RUNNING", "c")
		s.notef("a kept its process: %v, b kept its process: %v", s.pidOf("a") == a, s.pidOf("b") == b)
		s.ctl("status")
	},
}, {
	// Removing a program whose file left the included directory, as
	// Ansible's supervisorctl module does for state=absent.
	name: "gap9-remove-gone-file",
	cfg: fallbacktest.Config{
		Files: map[string]string{
			"keep.ini": "[program:keep]\ncommand=sleep 1000\nstartsecs=0\n",
			"gone.ini": "[program:gone]\ncommand=sleep 1001\nstartsecs=0\n",
		},
		Sections: "[include]\nfiles={DIR}/*.ini\n",
	},
	steps: func(s *side) {
		s.wait("RUNNING", "keep", "gone")
		if err := os.Remove(s.path("gone.ini")); err != nil {
			s.fail(err)
		}
		s.ctl("reread")
		s.ctl("status", "gone")
		s.ctl("stop", "gone")
		s.ctl("remove", "gone")
		s.ctl("status")
	},
}, {
	// A command supervisord cannot split, or an empty one, fails only
	// that program, at spawn; the others start.
	name: "gap10-one-bad-command",
	cfg: fallbacktest.Config{Sections: `
[program:good]
command=sleep 1000
startsecs=0

[program:quote]
command=/bin/sh -c 'echo
startretries=0

[program:empty]
command =
startretries=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "good")
		s.wait("FATAL", "quote", "empty")
		s.ctl("status")
	},
}, {
	// A misspelt key and a section Supervisor does not read are pointed
	// out at the move.
	name: "gap11-convert-notes",
	cfg: fallbacktest.Config{Sections: `
[program:typo]
command=sleep 1000
autorstart=false
startsecs=0

[Program:ignored]
command=sleep 1001
`},
	steps: func(s *side) {
		s.wait("RUNNING", "typo")
		s.ctl("status")
		s.migrationNotes()
	},
}, {
	// During the move a supervisorctl link must keep driving the live
	// supervisord that runs the programs (its serverurl), also on a host
	// that runs systemd.
	name:      "gap12-ctl-during-migration",
	migration: true,
	cfg: fallbacktest.Config{Sections: `
[program:live]
command=sleep 1000
startsecs=0

[program:later]
command=sleep 1000
startsecs=0
autostart=false
`},
	steps: func(s *side) {
		s.wait("RUNNING", "live")
		s.ctl("status")
		s.ctl("start", "later")
		s.ctl("stop", "live")
		s.ctl("status")
	},
}, {
	// tail -f ends on SIGTERM, as timeout(1) sends.
	name: "gap13-tail-f-sigterm",
	cfg: fallbacktest.Config{Sections: `
[program:talker]
command=/bin/sh -c 'echo hello; exec sleep 1000'
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "talker")
		s.waitTail("hello", "talker")
		s.follow("hello", syscall.SIGTERM, "tail", "-f", "talker")
	},
}}
