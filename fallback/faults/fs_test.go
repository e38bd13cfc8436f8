package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/testreal"
)

// TestFullLogFS: the main log and a program's log on a file system that
// is full (a 1 MiB tmpfs, mounted in a private mount namespace that
// only the daemon and its programs see, gone with them). The program
// writes 2 MiB, then a line every 50 ms. The daemon keeps answering and
// does not hold what it cannot write; once clearProcessLogs frees the
// space, the program's new lines reach its log again.
func TestFullLogFS(t *testing.T) {
	if os.Getuid() != 0 {
		testreal.Missing(t, "mounting a tmpfs in a private mount namespace needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		testreal.Missing(t, "unshare (util-linux) is not installed")
	}
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := newDaemon(t, impl, config{
			supervisord: "logfile={DIR}/full/supervisord.log",
			sections: `[program:spew]
command={HELPER} 2097152
environment=FAULTS_HELPER="spew"
stdout_logfile={DIR}/full/spew.log
startsecs=0
`,
			// unshare execs sh, sh execs the daemon: one PID throughout.
			wrap: []string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
				`mount -t tmpfs -o size=1m,mode=0755 faults-full "$0" && exec "$@"`, "{DIR}/full"},
		})
		if err := os.Mkdir(filepath.Join(d.dir, "full"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := d.start(); err != nil {
			t.Fatal(err)
		}
		mem := d.memory()
		// The tmpfs as the daemon sees it.
		full := fmt.Sprintf("/proc/%d/root%s/full", d.pid, d.dir)
		waitFor(t, string(impl)+": the tmpfs full", 15*time.Second, func() bool {
			var st syscall.Statfs_t
			return syscall.Statfs(full, &st) == nil && st.Type == tmpfsMagic && st.Bavail == 0
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		worst := owner(ctx, t, d)
		t.Logf("%s: the slowest getAllProcessInfo with the log file system full: %v", impl, worst.Round(time.Microsecond))
		latency(t, impl, "getAllProcessInfo with the log file system full", worst, answerBound)
		mem.check(t, "the log file system full", 20*mib)

		// The operator makes room: the program's new lines reach its log.
		spewLog := filepath.Join(full, "spew.log")
		if err := os.Truncate(spewLog, 0); err != nil {
			t.Fatal(err)
		}
		ticked := func(what string) {
			waitFor(t, string(impl)+": new lines in spew.log after "+what, 5*time.Second, func() bool {
				data, _ := os.ReadFile(spewLog)
				return strings.Contains(string(data), "tick ")
			})
		}
		ticked("truncating it")
		// Filled again, and cleared through the API.
		if err := os.WriteFile(filepath.Join(full, "filler"), make([]byte, 2<<20), 0o644); err == nil {
			t.Fatalf("%s: 2 MiB written to the 1 MiB tmpfs", impl)
		}
		v, took, err := d.callTimed(answerBound+3*time.Second, "supervisor.clearProcessLogs", "spew")
		switch {
		case impl == fallbacktest.Supervisord && err != nil:
			// Closing the log flushes what Python buffered: ENOSPC, and
			// the call fails.
			t.Logf("%s: clearProcessLogs on the full file system: %v, as expected of supervisord", impl, err)
		case err != nil || v != true:
			t.Fatalf("%s: clearProcessLogs(spew) on the full file system = %v, %v", impl, v, err)
		default:
			latency(t, impl, "clearProcessLogs on the full file system", took, answerBound)
			os.Remove(filepath.Join(full, "filler"))
			ticked("clearProcessLogs")
		}
		info, _, err := d.processInfo(answerBound)
		if err != nil || info["spew"] != "RUNNING" {
			t.Errorf("%s: spew after the full file system: %v, %v", impl, info, err)
		}
	})
}

// tmpfsMagic is TMPFS_MAGIC (statfs(2)).
const tmpfsMagic = 0x01021994
