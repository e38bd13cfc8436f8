package difftest

import (
	"strings"
	"testing"

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

func TestStatusCommand(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: programs + `
[program:a_really_long_program_name_over_thirty]
command=sleep 1000
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", running...)
			s.wait("RUNNING", "a_really_long_program_name_over_thirty")
			s.ctl("status")
			s.ctl("status", "sleeper")
			s.ctl("status", "nosuch")
			s.ctl("status", "nosuch", "manual")
			s.ctl("status", "grp")
			s.ctl("status", "nogroup:*")
			s.ctl("status", "nump:*")
			s.ctl("status", "grp:nosuch")
		},
	})
}

func TestStartStopCommands(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: programs},
		steps: func(s *side) {
			s.wait("RUNNING", running...)
			s.ctl("start", "manual")
			s.ctl("start", "manual")
			s.ctl("start", "nosuch")
			s.ctl("start", "nogroup:*")
			s.ctl("stop", "manual")
			s.ctl("stop", "manual")
			s.ctl("stop", "nosuch")
			s.ctl("stop", "nogroup:*")
			s.ctl("restart", "sleeper")
			s.ctlSorted("stop", "grp:*")
			s.ctl("status", "grp:*")
			s.ctlSorted("start", "grp:*")
			s.ctlSorted("restart", "grp:*")
			s.ctlSorted("start", "all")
			s.ctlSorted("stop", "all")
			s.ctl("status")
			s.ctlSorted("start", "all")
			s.ctlSorted("restart", "all")
			s.ctl("stop", "manual", "nosuch", "sleeper")
		},
	})
}

const sigRecorder = `#!/bin/sh
# Appends the name of each HUP or USR1 it receives to sig.NAME.
trap 'echo HUP >> {DIR}/sig.$1' HUP
trap 'echo USR1 >> {DIR}/sig.$1' USR1
echo $$ > {DIR}/ready.$1
sleep 1000 &
while kill -0 $! 2>/dev/null; do wait $!; done
`

func TestSignalPidCommands(t *testing.T) {
	diffTest(t, scenario{
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

[program:manual]
command=sleep 1000
autostart=false
`},
		steps: func(s *side) {
			s.wait("RUNNING", "sig", "sg:s1", "sg:s2")
			for _, n := range []string{"sig", "s1", "s2"} {
				s.readPID("ready." + n)
			}
			got := func(name string, n int) {
				s.waitFor(name+" signalled", func() bool { return s.count("sig."+name) >= n })
			}
			s.ctl("signal", "HUP", "sig")
			got("sig", 1)
			s.ctlSorted("signal", "USR1", "sg:*")
			got("s1", 1)
			got("s2", 1)
			s.ctl("signal", "1", "sig")
			got("sig", 2)
			s.ctl("signal", "sigusr1", "sg:s2")
			got("s2", 2)
			s.ctlSorted("signal", "HUP", "all")
			got("sig", 3)
			got("s1", 2)
			got("s2", 3)
			for _, n := range []string{"sig", "s1", "s2"} {
				s.notef("%s received %v", n, s.lines("sig."+n))
			}
			s.ctl("signal", "BOGUS", "sig")
			s.ctl("signal", "99", "sig")
			s.ctl("signal", "HUP", "manual")
			s.ctl("signal", "HUP", "nosuch")
			s.ctl("signal", "HUP", "nogroup:*")
			s.ctl("pid")
			s.ctl("pid", "sig")
			s.ctl("pid", "manual")
			s.ctl("pid", "nosuch")
			s.ctl("pid", "sg:*")
			s.ctl("pid", "all")
		},
	})
}

func TestTailCommands(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:talker]
command=/bin/sh -c "printf 'out1\nout2\n'; printf 'err1\n' >&2; exec sleep 1000"
stdout_logfile={DIR}/talker.out
stderr_logfile={DIR}/talker.err
startsecs=0

[program:nolog]
command=sleep 1000
stdout_logfile=NONE
startsecs=0

[program:merged]
command=/bin/sh -c "printf 'm-out\n'; printf 'm-err\n' >&2; exec sleep 1000"
redirect_stderr=true
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "talker", "nolog", "merged")
			s.waitFor("talker's output", func() bool {
				return s.d.ReadFile("talker.out") == "out1\nout2\n" && s.d.ReadFile("talker.err") == "err1\n"
			})
			s.waitFor("merged's output", func() bool {
				return strings.Contains(s.ctlQuiet("tail", "merged").Stdout, "m-err")
			})
			s.ctl("tail", "talker")
			s.ctl("tail", "talker", "stderr")
			s.ctl("tail", "-5", "talker")
			s.ctl("tail", "-100", "talker", "stderr")
			s.ctl("tail", "merged")
			s.ctl("tail", "merged", "stderr")
			s.ctl("tail", "nolog")
			s.ctl("tail", "nolog", "stderr")
			s.ctl("tail", "nosuch")
			s.follow("out2", "tail", "-f", "talker")
			s.follow("err1", "tail", "-f", "talker", "stderr")
			s.ctl("clear", "talker")
			s.ctl("tail", "talker")
			s.ctl("clear", "nosuch")
			s.ctlSorted("clear", "all")
			s.ctl("tail", "merged")
		},
	})
}

func TestMaintailCommand(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:one]
command=sleep 1000
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "one")
			s.waitFor("the success line in the main log", func() bool {
				return len(s.mainLog(`success: one`)) > 0
			})
			s.ctl("maintail")
			// bytes counted before normalising: a pid's digits
			// become one N, and the two sides' pids differ in length
			raw := s.d.Ctl("maintail", "-200")
			r := s.d.NormalizeResult(raw)
			s.notef("maintail -200: %d bytes, ends with %q", len(raw.Stdout), lastLine(r.Stdout))
			s.follow("success: one", "maintail", "-f")
		},
	})
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestConfigCommands(t *testing.T) {
	base := `
[program:keep]
command=sleep 1000
startsecs=0

[program:change]
command=sleep 1000
startsecs=0

[program:gone]
command=sleep 1000
startsecs=0
`
	changed := `
[program:keep]
command=sleep 1000
startsecs=0

[program:change]
command=sleep 999
startsecs=0

[program:new]
command=sleep 1000
startsecs=0

[program:newmanual]
command=sleep 1000
autostart=false
`
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: base},
		steps: func(s *side) {
			s.wait("RUNNING", "keep", "change", "gone")
			s.ctl("avail")
			s.ctl("reread")
			s.rewrite(fallbacktest.Config{Sections: changed})
			s.ctl("reread")
			s.ctl("avail")
			s.ctl("add", "new")
			s.ctl("add", "new")
			s.ctl("add", "nosuch")
			s.wait("RUNNING", "new")
			s.ctl("remove", "keep")
			s.ctl("remove", "nosuch")
			s.ctl("update", "gone")
			s.ctl("update", "nosuch")
			s.ctl("update")
			s.wait("RUNNING", "change")
			s.ctl("status")
			s.ctl("update")
			s.ctl("stop", "keep")
			s.ctl("remove", "keep")
			s.ctl("reread")
			s.ctl("add", "keep")
			s.wait("RUNNING", "keep")
			s.ctl("stop", "newmanual")
			s.ctl("remove", "newmanual")
			s.ctl("update", "all")
			s.ctl("status")
			s.rewrite(fallbacktest.Config{Sections: changed + "\n[program:bad]\ncommand=sleep 1\nautostart=maybe\n"})
			s.ctl("reread")
			s.ctl("update")
			s.ctl("add", "bad")
			s.ctl("avail")
		},
	})
}

// reload and shutdown, their errors while the daemon stops, and every
// command's error once it is gone. slowstop ignores SIGTERM and has a
// long stopwaitsecs, so it holds a reload or shutdown in progress until
// the steps kill it.
func TestLifecycleCommands(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:sleeper]
command=sleep 1000
startsecs=0

[program:slowstop]
command=/bin/sh -c "trap '' TERM; exec sleep 1000"
startsecs=0
stopwaitsecs=120
`},
		steps: func(s *side) {
			s.wait("RUNNING", "sleeper", "slowstop")
			s.ctl("version")
			s.notef("pid is the daemon's: %v", strings.TrimSpace(s.d.Ctl("pid").Stdout) == itoa(s.d.PID()))
			release := s.holder("slowstop")
			s.ctl("reload")
			s.ctl("status")
			s.ctl("reload")
			s.ctl("shutdown")
			s.ctl("start", "sleeper")
			release()
			s.ready()
			s.wait("RUNNING", "sleeper", "slowstop")
			s.notef("pid after reload is the daemon's: %v", strings.TrimSpace(s.d.Ctl("pid").Stdout) == itoa(s.d.PID()))
			s.ctl("status")
			release = s.holder("slowstop")
			s.ctl("shutdown")
			s.ctl("shutdown")
			s.ctl("status")
			s.ctl("reload")
			s.ctl("stop", "all")
			release()
			s.waitExit()
			s.notef("socket left behind: %v", exists(s.d.Sock))
			s.ctl("shutdown")
			s.ctl("status")
		},
	})
}
