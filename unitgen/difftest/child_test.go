package difftest

import (
	"syscall"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// systemdVars are the variables systemd sets for every service (which the
// units unset: unitgen.SystemdServiceVars), and those the user manager's
// own environment has (from the host's user environment generators),
// which supervisord gets too, started with the manager's environment
// (side.managerEnv); the scenario env-systemd-vars shows them, the
// others leave them out.
const systemdVars = `INVOCATION_ID|JOURNAL_STREAM|SYSTEMD_EXEC_PID|MANAGERPID|NOTIFY_SOCKET|DBUS_SESSION_BUS_ADDRESS|QT_ACCESSIBILITY`

// setupReporter writes what the program was started with into
// setup.NAME: arguments, directory, umask, user, the values of the
// variables Supervisor sets or the configuration names, the locale and
// PATH, and the names of the others (not HOME and XDG_*, which the test's
// manager points into its own directory). Then it writes its pid to
// pid.NAME and execs sleep, whose signal dispositions are what the
// program got.
const setupReporter = `#!/bin/sh
out={DIR}/setup.$1
{
	echo "argv: $*"
	echo "cwd: $(pwd)"
	echo "umask: $(umask)"
	echo "user: $(id -un) group: $(id -gn)"
	env | grep -E '^(SUPERVISOR_|CUSTOM|PATH=|USER=|LOGNAME=|SHELL=)' | sort
	echo "env names: $(env | sed -n 's/=.*//p' | grep -vE '^(SUPERVISOR_|CUSTOM|LANG$|LC_|PATH$|USER$|LOGNAME$|SHELL$|HOME$|XDG_|PWD$|_$|SHLVL$|OLDPWD$|` + systemdVars + `)' | sort | tr '\n' ' ')"
} > $out.tmp
mv $out.tmp $out
echo $$ > {DIR}/pid.$1
exec sleep 1000
`

var childScenarios = []*scenario{{
	// What a program starts with: argv, directory, umask, user,
	// environment, blocked signals and its own process group.
	name: "child-setup",
	cfg: fallbacktest.Config{
		Files:       map[string]string{"setup.sh": setupReporter},
		Supervisord: "environment=CUSTOM_D=\"from supervisord\"\n",
		Sections: `
[program:plain]
command={DIR}/setup.sh %(program_name)s "two words" 'it''s' $HOME %%
startsecs=0

[program:tuned]
command={DIR}/setup.sh %(program_name)s
directory=/tmp
umask=077
user=root
environment=CUSTOM_P="from program",CUSTOM_D="overridden"
redirect_stderr=true
startsecs=0

[group:grp]
programs=member

[program:member]
command={DIR}/setup.sh %(program_name)s
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "plain", "tuned", "grp:member")
		for _, name := range []string{"plain", "tuned", "member"} {
			pid, _ := s.readPID("pid." + name)
			p := s.proc(pid)
			s.notef("%s: own process group %v", name, p.PGID == p.PID)
			for _, l := range s.lines("setup." + name) {
				s.notef("%s: %s", name, s.norm(l))
			}
			s.waitFor(name+" to exec sleep", func() bool {
				p, err := fallbacktest.ReadProc(pid)
				return err == nil && p.Comm == "sleep"
			})
			for _, l := range procStatus(pid, "SigBlk") {
				s.notef("%s: %s", name, l)
			}
		}
	},
}, {
	// The signals a program starts with ignored, blocked and caught:
	// one exec'd by a shell, and the program itself (ctl's pid: the
	// unit's main process is the program, not the step that execs it).
	name: "signal-dispositions",
	cfg: fallbacktest.Config{Sections: `
[program:sig]
command=/bin/sh -c 'echo $$ > {DIR}/pid; exec sleep 1000'
startsecs=0

[program:direct]
command=sleep 1000
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "sig", "direct")
		pid, _ := s.readPID("pid")
		s.waitFor("sleep", func() bool {
			p, err := fallbacktest.ReadProc(pid)
			return err == nil && p.Comm == "sleep"
		})
		s.notef("%v", procStatus(pid, "SigBlk", "SigIgn", "SigCgt"))
		// The step execs within moments of the unit's start: the pid
		// is the program's once it has (never another process's)
		pid = s.pidOf("direct")
		s.waitFor("direct to be sleep", func() bool {
			p, err := fallbacktest.ReadProc(pid)
			return err == nil && p.Comm == "sleep"
		})
		s.notef("direct: %v", procStatus(pid, "SigBlk", "SigIgn", "SigCgt"))
	},
}, {
	// The variables a service gets from systemd itself (none reach the
	// program) and from its manager's environment (as supervisord's
	// programs get supervisord's, started by the same manager).
	name: "env-systemd-vars",
	cfg: fallbacktest.Config{
		Sections: `
[program:env]
command=/bin/sh -c 'env | sed -n "s/=.*//p" | grep -E "^(` + systemdVars + `)$" | sort > {DIR}/names.tmp; mv {DIR}/names.tmp {DIR}/names; exec sleep 1000'
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "env")
		s.waitFor("names", func() bool { return exists(s.path("names")) })
		s.notef("systemd's variables: %v", s.lines("names"))
	},
}, {
	// What tail shows: stdout, stderr, both with redirect_stderr, and
	// no log at all with NONE.
	name: "redirect-stderr-none",
	cfg: fallbacktest.Config{Sections: `
[program:split]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
startsecs=0

[program:joined]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
redirect_stderr=true
startsecs=0

[program:quiet]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
stdout_logfile=NONE
stderr_logfile=NONE
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "split", "joined", "quiet")
		s.waitTail("to stdout", "split")
		s.waitTail("to stderr", "split", "stderr")
		s.waitTail("to stderr", "joined")
		s.ctl("tail", "joined", "stderr")
		s.ctl("tail", "quiet")
		s.ctl("tail", "quiet", "stderr")
	},
}, {
	// The same with --log-files: Supervisor's log files instead of the
	// journal.
	name:     "redirect-stderr-log-files",
	logFiles: true,
	cfg: fallbacktest.Config{Sections: `
[program:split]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
startsecs=0
stdout_logfile={DIR}/log/split.out
stderr_logfile={DIR}/log/split.err

[program:joined]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
redirect_stderr=true
startsecs=0
stdout_logfile={DIR}/log/joined.out

[program:quiet]
command=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
stdout_logfile=NONE
stderr_logfile=NONE
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "split", "joined", "quiet")
		s.waitTail("to stdout", "split")
		s.waitTail("to stderr", "split", "stderr")
		s.waitTail("to stderr", "joined")
		s.ctl("tail", "joined", "stderr")
		s.ctl("tail", "quiet")
		s.ctl("tail", "quiet", "stderr")
		s.ctl("clear", "split")
		s.ctl("tail", "split")
	},
}, {
	// tail, tail -N (bytes) and tail -f of a program's output.
	name: "tail",
	cfg: fallbacktest.Config{Sections: `
[program:talker]
command=/bin/sh -c 'for i in 1 2 3; do echo line $i; done; exec sleep 1000'
startsecs=0

[program:silent]
command=sleep 1000
startsecs=0
`},
	steps: func(s *side) {
		s.wait("RUNNING", "talker", "silent")
		s.waitTail("line 3", "talker")
		s.ctl("tail", "-7", "talker")
		s.ctl("tail", "silent")
		s.ctl("tail", "nosuch")
		s.follow("line 3", syscall.SIGINT, "tail", "-f", "talker")
	},
}}
