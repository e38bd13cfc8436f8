package faults

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// rssBelow fails t if the daemon's resident memory is over bound
// (supersede), or logs it (supervisord).
func rssBelow(t *testing.T, d *daemon, what string, bound int64) {
	t.Helper()
	rss := d.rss()
	if d.impl != fallbacktest.Supersede {
		t.Logf("%s: %s: RSS %.1f MiB (supersede's bound: %d MiB)", d.impl, what, float64(rss)/mib, bound/mib)
		return
	}
	if rss > bound {
		t.Errorf("%s: %s: RSS %.1f MiB, more than %d MiB", d.impl, what, float64(rss)/mib, bound/mib)
	}
}

// pidOf is the pid getProcessInfo gives for name.
func pidOf(t *testing.T, d *daemon, name string) int {
	t.Helper()
	v, err := d.call(answerBound+3*time.Second, "supervisor.getProcessInfo", name)
	if err != nil {
		t.Fatalf("%s: getProcessInfo(%s): %v", d.impl, name, err)
	}
	m, _ := v.(map[string]any)
	pid, _ := m["pid"].(int)
	if state, _ := m["statename"].(string); state != "RUNNING" || pid == 0 {
		t.Fatalf("%s: getProcessInfo(%s) = %v, want RUNNING", d.impl, name, v)
	}
	return pid
}

// TestKilledAndRestarted: the daemon is SIGKILLed, leaving its socket
// file and pidfile behind (and its program running, orphaned, as
// supervisord does), and is started again on the same configuration:
// it takes the stale socket over, writes its own pid, and starts the
// program again.
func TestKilledAndRestarted(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		d := startDaemon(t, impl, config{sections: "[program:p]\ncommand=sleep 1000\nstartsecs=0\n"})
		waitFor(t, string(impl)+": p RUNNING", readyBound, func() bool {
			info, _, err := d.processInfo(answerBound)
			return err == nil && info["p"] == "RUNNING"
		})
		old := pidOf(t, d, "p")
		oldDaemon := d.pid
		d.signal(syscall.SIGKILL)
		if _, err := d.waitExit(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		pidfile := filepath.Join(d.dir, "supervisord.pid")
		for _, stale := range []string{d.sock, pidfile} {
			if _, err := os.Lstat(stale); err != nil {
				t.Fatalf("%s: after SIGKILL: %v (the case needs it stale)", impl, err)
			}
		}

		t0 := time.Now()
		if err := d.start(); err != nil {
			t.Fatalf("%s: started again over the stale socket and pidfile: %v", impl, err)
		}
		t.Logf("%s: started again over the stale socket in %v", impl, time.Since(t0).Round(time.Millisecond))
		latency(t, impl, "starting again over the stale socket", time.Since(t0), 10*time.Second)
		data, err := os.ReadFile(pidfile)
		if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(d.pid) {
			t.Errorf("%s: pidfile %q (%v), want the new daemon's pid %d (the old one was %d)", impl, data, err, d.pid, oldDaemon)
		}
		waitFor(t, string(impl)+": p RUNNING again", readyBound, func() bool {
			info, _, err := d.processInfo(answerBound)
			return err == nil && info["p"] == "RUNNING"
		})
		if pid := pidOf(t, d, "p"); pid == old {
			t.Errorf("%s: p has its old pid %d", impl, pid)
		}
		rssBelow(t, d, "started again", 64*mib)
	})
}

// TestReloadInvalidConfig: SIGHUP after the configuration was broken.
// The daemon stops its programs and exits 2 with the error, as
// supervisord does; its stdout and stderr are one file (`> daemon.out
// 2>&1`), and the error is written after the log, not over its start.
func TestReloadInvalidConfig(t *testing.T) {
	both(t, func(t *testing.T, impl fallbacktest.Impl) {
		const stopWait = 5
		sections := "[program:p]\ncommand=sleep 1000\nstartsecs=0\nstopwaitsecs=5\n"
		d := startDaemon(t, impl, config{sections: sections})
		waitFor(t, string(impl)+": p RUNNING", readyBound, func() bool {
			info, _, err := d.processInfo(answerBound)
			return err == nil && info["p"] == "RUNNING"
		})
		rssBelow(t, d, "running", 64*mib)
		d.writeConfig(sections + "\n[program:bad]\ncommand=sleep 1\nautostart=maybe\n")
		t0 := time.Now()
		d.signal(syscall.SIGHUP)
		code, err := d.waitExit(stopWait*time.Second + exitMargin)
		if err != nil {
			t.Fatalf("%s: SIGHUP with an invalid configuration: %v", impl, err)
		}
		t.Logf("%s: SIGHUP → exit %d in %v", impl, code, time.Since(t0).Round(time.Millisecond))
		if code != 2 {
			t.Errorf("%s: exit status %d, want 2", impl, code)
		}
		if left := d.waitGone(time.Second); len(left) > 0 {
			t.Errorf("%s: programs outlive the daemon: %v", impl, left)
		}
		out := d.output()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		hup := strings.Index(out, "received SIGHUP indicating restart request")
		bad := strings.Index(out, "not a valid boolean value: 'maybe'")
		switch {
		case !logLine.MatchString(lines[0]):
			t.Errorf("%s: the output does not start with a log line: its start was overwritten?\n%s", impl, out)
		case !strings.Contains(out, "INFO supervisord started with pid "+strconv.Itoa(d.pid)):
			t.Errorf("%s: the output lacks its start line\n%s", impl, out)
		case hup < 0 || bad < hup:
			t.Errorf("%s: the output lacks the SIGHUP line, or the error after it\n%s", impl, out)
		}
		for _, l := range lines {
			if !logLine.MatchString(l) && !strings.Contains(l, "maybe") && !strings.HasPrefix(l, "For help, use ") {
				t.Errorf("%s: a line neither the log's nor the error's: %q\n%s", impl, l, out)
			}
		}
	})
}
