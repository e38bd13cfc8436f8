package difftest

import (
	"strings"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// programs shared by the command scenarios: a plain program, one not
// started automatically, a [group:x] of two, and numprocs.
const programs = `
[program:sleeper]
command=sleep 1000
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[group:grp]
programs=g1,g2

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
startsecs=0

[program:nump]
command=sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0
`

var running = []string{"sleeper", "grp:g1", "grp:g2", "nump:nump_0", "nump:nump_1"}

// sigRecorder appends the name of each HUP or USR1 it receives to
// sig.NAME.
const sigRecorder = `#!/bin/sh
trap 'echo HUP >> {DIR}/sig.$1' HUP
trap 'echo USR1 >> {DIR}/sig.$1' USR1
echo $$ > {DIR}/ready.$1
sleep 1000 &
while kill -0 $! 2>/dev/null; do wait $!; done
`

// after is the programs with sleeper changed, manual gone and fresh
// added: the configuration of the reread and update scenarios.
var after = strings.Replace(strings.Replace(programs, `
[program:manual]
command=sleep 1000
autostart=false
startsecs=0
`, "", 1), "[program:sleeper]\ncommand=sleep 1000", "[program:sleeper]\ncommand=sleep 1001", 1) + `
[program:fresh]
command=sleep 1000
startsecs=0
`

var commandScenarios = []*scenario{{
	// status of everything, one, a group, unknown names.
	name: "numprocs-groups-status",
	cfg:  fallbacktest.Config{Sections: programs},
	steps: func(s *side) {
		s.wait("RUNNING", running...)
		s.ctl("status")
		s.ctl("status", "sleeper")
		s.ctl("status", "nosuch")
		s.ctl("status", "nosuch", "manual")
		s.ctl("status", "grp")
		s.ctl("status", "grp:*")
		s.ctl("status", "nogroup:*")
		s.ctl("status", "nump:*")
		s.ctl("status", "nump:nump_1")
		s.ctl("status", "grp:nosuch")
		s.ctl("avail")
	},
}, {
	// start, stop and restart with every kind of namespec.
	name: "numprocs-groups-start-stop",
	cfg:  fallbacktest.Config{Sections: programs},
	steps: func(s *side) {
		s.wait("RUNNING", running...)
		s.ctl("start", "manual")
		s.ctl("start", "manual")
		s.ctl("start", "nosuch")
		s.ctl("start", "nogroup:*")
		s.ctl("stop", "manual")
		s.ctl("stop", "manual")
		s.ctl("stop", "nosuch")
		s.ctl("restart", "sleeper")
		s.ctlSorted("stop", "grp:*")
		s.ctl("status", "grp:*")
		s.ctlSorted("start", "grp:*")
		s.ctlSorted("restart", "nump:*")
		s.ctl("stop", "nump:nump_0")
		s.ctl("status", "nump:*")
		s.ctlSorted("start", "all")
		s.ctlSorted("stop", "all")
		s.ctl("status")
		s.ctlSorted("start", "all")
		s.ctl("stop", "manual", "nosuch", "sleeper")
		s.ctl("start")
	},
}, {
	// signal and pid.
	name: "signal-pid",
	cfg: fallbacktest.Config{
		Files: map[string]string{"sig.sh": sigRecorder},
		Sections: `
[program:sig]
command={DIR}/sig.sh %(program_name)s
startsecs=0
stopasgroup=true

[group:sg]
programs=s1,s2

[program:s1]
command={DIR}/sig.sh %(program_name)s
startsecs=0
stopasgroup=true

[program:s2]
command={DIR}/sig.sh %(program_name)s
startsecs=0
stopasgroup=true

[program:off]
command=sleep 1000
autostart=false
`},
	steps: func(s *side) {
		s.wait("RUNNING", "sig", "sg:s1", "sg:s2")
		for _, n := range []string{"sig", "s1", "s2"} {
			s.readPID("ready." + n)
		}
		s.ctl("signal", "HUP", "sig")
		s.waitFor("sig's HUP", func() bool { return s.count("sig.sig") >= 1 })
		s.ctlSorted("signal", "USR1", "sg:*")
		s.waitFor("the group's USR1", func() bool { return s.count("sig.s1") >= 1 && s.count("sig.s2") >= 1 })
		s.ctl("signal", "BOGUS", "sig")
		s.ctl("signal", "HUP", "off")
		s.ctl("signal", "HUP", "nosuch")
		s.ctl("signal", "HUP")
		s.notef("sig got %v, s1 got %v, s2 got %v", s.lines("sig.sig"), s.lines("sig.s1"), s.lines("sig.s2"))
		s.ctl("pid", "sig")
		s.ctl("pid", "off")
		s.ctl("pid", "nosuch")
		s.ctl("status", "sig")
	},
}, {
	// reread and update after a change: one program changed, one gone,
	// one new; then remove and add.
	name: "reread-update-add-remove",
	cfg:  fallbacktest.Config{Sections: programs},
	steps: func(s *side) {
		s.wait("RUNNING", running...)
		g1 := s.pidOf("grp:g1")
		s.ctl("reread")
		s.rewrite(fallbacktest.Config{Sections: after})
		s.ctl("reread")
		s.ctl("avail")
		s.ctl("update")
		s.wait("RUNNING", "fresh", "sleeper")
		s.notef("grp:g1 kept its process: %v", s.pidOf("grp:g1") == g1)
		s.ctl("status")
		s.ctl("reread")
		s.ctl("remove", "fresh")
		s.ctl("stop", "fresh")
		s.ctl("remove", "fresh")
		s.ctl("avail")
		s.ctl("add", "fresh")
		s.ctl("add", "fresh")
		s.wait("RUNNING", "fresh")
		s.ctl("add", "nosuch")
		s.ctl("remove", "nosuch")
		s.ctl("update", "nosuch")
		s.ctl("status")
	},
}, {
	// A program's group keeps its name while its processes change: p
	// gains numprocs (p becomes p_0, p_1), and prog leaves [group:grp],
	// which keeps another member. supervisord says both groups changed,
	// and update stops the old processes and starts the new ones.
	name: "update-group-members",
	cfg: fallbacktest.Config{Sections: `
[program:p]
command=/bin/sleep 1000
startsecs=0

[program:prog]
command=/bin/sleep 1000
startsecs=0

[program:other]
command=/bin/sleep 1000
startsecs=0

[group:grp]
programs=prog,other
`},
	steps: func(s *side) {
		s.wait("RUNNING", "p", "grp:prog", "grp:other")
		old := s.pidOf("p")
		start := s.proc(old).StartTime
		oldProg := s.pidOf("grp:prog")
		progStart := s.proc(oldProg).StartTime
		s.rewrite(fallbacktest.Config{Sections: `
[program:p]
command=/bin/sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0

[program:prog]
command=/bin/sleep 1000
startsecs=0

[program:other]
command=/bin/sleep 1000
startsecs=0

[group:grp]
programs=other
`})
		s.ctl("status")
		s.ctl("reread")
		s.ctl("status")
		s.ctl("update")
		s.wait("RUNNING", "p:p_0", "p:p_1", "prog", "grp:other")
		s.gone("the old p", old, start)
		s.gone("the old grp:prog", oldProg, progStart)
		s.ctl("status")
	},
}, {
	// reload restarts every program: autostart ones run again, others
	// are stopped.
	name: "reload",
	cfg:  fallbacktest.Config{Sections: programs},
	steps: func(s *side) {
		s.wait("RUNNING", running...)
		old := s.pidOf("sleeper")
		s.ctl("start", "manual")
		s.ctl("reload")
		s.reloaded()
		s.wait("RUNNING", running...)
		s.notef("sleeper has a new process: %v", s.pidOf("sleeper") != old)
		s.ctl("status")
	},
}, {
	// reload after the configuration changed applies the new one.
	name: "reload-changed-config",
	cfg:  fallbacktest.Config{Sections: programs},
	steps: func(s *side) {
		s.wait("RUNNING", running...)
		s.rewrite(fallbacktest.Config{Sections: after})
		s.ctl("reload")
		s.reloaded()
		s.wait("RUNNING", "sleeper", "fresh", "grp:g1", "grp:g2", "nump:nump_0", "nump:nump_1")
		s.ctl("status")
	},
}}
