package difftest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// setupReporter writes what the program was started with into
// setup.NAME: arguments, directory, umask, limits and environment (values
// only for the variables Supervisor sets or the configuration names; the
// rest by name). Then it writes its pid to pid.NAME and execs sleep,
// whose open files and signal dispositions are what the program got.
const setupReporter = `#!/bin/sh
out={DIR}/setup.$1
{
	echo "argv: $*"
	echo "cwd: $(pwd)"
	echo "umask: $(umask)"
	echo "nofile: $(ulimit -n) hard $(ulimit -Hn)"
	env | grep -E '^(SUPERVISOR_|CUSTOM|HOME=|USER=|LOGNAME=|SHELL=)' | sort
	echo "env names: $(env | sed -n 's/=.*//p' | grep -vE '^(SUPERVISOR_|CUSTOM|PWD$|_$|SHLVL$|OLDPWD$)' | sort | tr '\n' ' ')"
	echo "stdin: $(head -c 0 && echo open)"
} > $out.tmp
mv $out.tmp $out
echo $$ > {DIR}/pid.$1
exec sleep 1000
`

var inode = regexp.MustCompile(`(pipe|socket|anon_inode):\[\d+\]`)

// openFiles lists the open files of process pid as "fd N -> TARGET",
// pipes and sockets without their inode numbers.
func openFiles(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			target = err.Error()
		}
		out = append(out, fmt.Sprintf("fd %s -> %s", e.Name(), inode.ReplaceAllString(target, "$1")))
	}
	return out
}

// procStatus returns the lines of /proc/PID/status for the given keys.
func procStatus(pid int, keys ...string) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		k, _, _ := strings.Cut(line, ":")
		if slices.Contains(keys, k) {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return out
}

// The environment, directory, umask, limits, signal dispositions, open
// files, process group and session a child starts with. The daemon gets
// an extra inherited file, which supervisord does not pass on.
func TestChildSetup(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{
			Files:       map[string]string{"setup.sh": setupReporter},
			Supervisord: "environment=CUSTOM_D=\"from supervisord\"\n",
			Sections: `
[program:plain]
command={DIR}/setup.sh %(program_name)s "two words"
startsecs=0

[program:tuned]
command={DIR}/setup.sh %(program_name)s
directory=/tmp
umask=077
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
				p, err := fallbacktest.ReadProc(pid)
				if err != nil {
					s.fail(err)
				}
				s.notef("%s: own process group %v, daemon's session %v, daemon's child %v",
					name, p.PGID == p.PID, p.SID == s.d.PID(), p.PPID == s.d.PID())
				for _, l := range s.lines("setup." + name) {
					s.notef("%s: %s", name, s.d.Normalize(l))
				}
				s.waitFor(name+" to exec sleep", func() bool {
					p, err := fallbacktest.ReadProc(pid)
					return err == nil && p.Comm == "sleep"
				})
				for _, l := range procStatus(pid, "SigBlk", "SigIgn") {
					s.notef("%s: %s", name, l)
				}
				for _, l := range openFiles(pid) {
					s.notef("%s: %s", name, s.d.Normalize(l))
				}
			}
		},
	})
}

// A program killed by a signal counts as unexpected and restarts under
// autorestart=unexpected; the log says which signal.
func TestKilledChild(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:victim]
command=sleep 1000
startsecs=0

[program:dead]
command=sleep 1000
startsecs=0
autorestart=false
`},
		steps: func(s *side) {
			s.wait("RUNNING", "victim", "dead")
			for _, name := range []string{"victim", "dead"} {
				pid := s.pidOf(name)
				p, err := fallbacktest.ReadProc(pid)
				if err != nil || p.PPID != s.d.PID() {
					s.fail(err)
				}
				s.killOwn(pid, p.StartTime)
			}
			s.wait("EXITED", "dead")
			s.waitFor("victim restarted", func() bool {
				return len(s.mainLog(`spawned: 'victim'`)) >= 2
			})
			s.wait("RUNNING", "victim")
			s.ctl("status")
			s.noteLog(`exited: victim`)
			s.noteLog(`exited: dead`)
		},
	})
}
