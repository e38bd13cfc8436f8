package difftest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// listener is an event listener that appends each event it gets, header
// and payload, to the file named by its argument, and accepts it.
const listener = `#!/usr/bin/python3
import sys
out = open(sys.argv[1], "a")
while True:
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    header = sys.stdin.readline()
    if not header:
        break
    fields = dict(f.split(":", 1) for f in header.split())
    payload = sys.stdin.read(int(fields["len"]))
    out.write(header + payload + "\n")
    out.flush()
    sys.stdout.write("RESULT 2\nOK")
    sys.stdout.flush()
`

var eventNumbers = regexp.MustCompile(`\b(pid|len):\d+`)

// Process state events reach a listener, in order, with Supervisor's
// headers and payloads.
func TestEventListener(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{
			Files: map[string]string{"listener.py": listener},
			Sections: `
[eventlistener:listener]
command={DIR}/listener.py {DIR}/events
events=PROCESS_STATE
startsecs=0

[program:a]
command=sleep 1000
autostart=false
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "listener")
			s.ctl("start", "a")
			s.ctl("stop", "a")
			s.waitFor("a's STOPPED event", func() bool {
				return strings.Contains(s.d.ReadFile("events"), "from_state:STOPPING")
			})
			s.ctl("status")
			s.notef("events:")
			for _, l := range s.lines("events") {
				s.notef("  %s", eventNumbers.ReplaceAllString(l, "$1:N"))
			}
		},
	})
}

// The child log keeps stdout_logfile_backups files of about
// stdout_logfile_maxbytes each, the newest output last, none lost
// between the files kept.
func TestLogRotation(t *testing.T) {
	var stream strings.Builder
	for i := 10; i < 50; i++ {
		fmt.Fprintf(&stream, "line %d %s\n", i, strings.Repeat("x", 90))
	}
	stream.WriteString("done\n")
	diffTest(t, scenario{
		cfg: fallbacktest.Config{Sections: `
[program:rot]
command=/bin/sh -c 'for i in $(seq 10 49); do printf "line %%d " $i; printf "%%090d\n" 0 | tr 0 x; sleep 0.01; done; echo done; exec sleep 1000'
stdout_logfile={DIR}/rot.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=2
startsecs=0
`},
		steps: func(s *side) {
			s.wait("RUNNING", "rot")
			s.waitFor("done in rot.log", func() bool { return strings.HasSuffix(s.d.ReadFile("rot.log"), "done\n") })
			var kept, names []string
			for _, name := range []string{"rot.log.3", "rot.log.2", "rot.log.1", "rot.log"} {
				if !exists(s.d.Path(name)) {
					continue
				}
				names = append(names, name)
				kept = append(kept, s.d.ReadFile(name))
				if name != "rot.log" {
					s.notef("%s holds at least 1 KB: %v", name, len(kept[len(kept)-1]) >= 1024)
				}
			}
			s.notef("files: %v", names)
			s.notef("the kept files end the output, nothing lost between them: %v",
				strings.HasSuffix(stream.String(), strings.Join(kept, "")))
			s.ctl("tail", "-5", "rot")
		},
	})
}

// talker prints "tick" on its stdout for each SIGUSR1.
const talker = `#!/bin/sh
trap 'echo tick' USR1
echo started
sleep 1000 &
while kill -0 $! 2>/dev/null; do wait $!; done
`

// The daemon's own signals: SIGUSR2 reopens the logs, SIGHUP restarts,
// SIGTERM shuts down in order and exits 0.
func TestDaemonSignals(t *testing.T) {
	diffTest(t, scenario{
		cfg: fallbacktest.Config{
			Files: map[string]string{"talker.sh": talker},
			Sections: `
[program:talker]
command={DIR}/talker.sh
stdout_logfile={DIR}/talker.out
startsecs=0
stopasgroup=true
`},
		steps: func(s *side) {
			s.wait("RUNNING", "talker")
			s.waitFor("talker's first line", func() bool { return s.d.ReadFile("talker.out") == "started\n" })
			for _, name := range []string{"supervisord.log", "talker.out"} {
				if err := os.Rename(s.d.Path(name), s.d.Path(name+".old")); err != nil {
					s.fail(err)
				}
			}
			s.signal(syscall.SIGUSR2)
			s.waitFor("the log reopen", func() bool {
				return strings.Contains(s.d.ReadFile("supervisord.log.old"), "logreopen")
			})
			s.notef("new main log: %v", exists(s.d.Path("supervisord.log")))
			s.ctl("signal", "USR1", "talker")
			s.waitFor("tick in the reopened talker.out", func() bool { return exists(s.d.Path("talker.out")) && s.d.ReadFile("talker.out") == "tick\n" })
			s.notef("talker.out.old: %q", s.d.ReadFile("talker.out.old"))
			s.noteFile("supervisord.log.old", `SIGUSR2|logreopen`)
			s.noteLog(`.`)
			s.signal(syscall.SIGHUP)
			s.waitFor("the restart", func() bool {
				return len(s.mainLog(`spawned: 'talker'`)) > 0
			})
			s.ready()
			s.wait("RUNNING", "talker")
			s.notef("pid after SIGHUP is the daemon's: %v", strings.TrimSpace(s.d.Ctl("pid").Stdout) == itoa(s.d.PID()))
			s.signal(syscall.SIGTERM)
			s.waitExit()
			s.noteLog(`.`)
		},
	})
}
