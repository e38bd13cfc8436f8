package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// TestStdoutNotRead: in the foreground the daemon copies its log to its
// standard output, and programs write there too (stdout_logfile=
// /dev/stdout), as in a container; when nobody reads that pipe (the
// runtime's log reader stalls, a terminal paused with Ctrl-S), the
// daemon must go on answering, restarting and stopping, and say how
// many lines it dropped once the pipe is read again. (supervisord blocks
// in its next log write for good, and so did supersede: not run here.)
func TestStdoutNotRead(t *testing.T) {
	aloneSupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		const programs = 4
		var sections strings.Builder
		for i := range programs {
			fmt.Fprintf(&sections, "[program:crash%d]\ncommand=/bin/false\nautorestart=true\nstartsecs=0\nstopwaitsecs=2\n\n", i)
		}
		sections.WriteString("[program:chatty]\ncommand=/usr/bin/yes hello\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nstopwaitsecs=2\n")
		d := newDaemon(t, impl, config{
			sections: sections.String(),
			// Standard output and error: a FIFO the test holds open
			// and does not read.
			wrap: []string{"/bin/sh", "-c", `exec "$0" "$@" > {DIR}/out.fifo 2>&1`},
		})
		fifo := filepath.Join(d.dir, "out.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		rfd, err := syscall.Open(fifo, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := os.NewFile(uintptr(rfd), fifo)
		defer r.Close()
		if err := d.start(); err != nil {
			t.Fatal(err)
		}
		mem := d.memory()

		// The pipe fills at once (yes); then the storm goes on logging.
		var worst time.Duration
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			info, took, err := d.processInfo(answerBound + 3*time.Second)
			if err != nil {
				t.Fatalf("getAllProcessInfo with standard output not read: %v (after %v)", err, took.Round(time.Millisecond))
			}
			if len(info) != programs+1 {
				t.Fatalf("getAllProcessInfo lists %v", info)
			}
			worst = max(worst, took)
		}
		t.Logf("slowest getAllProcessInfo with standard output not read: %v", worst.Round(time.Millisecond))
		if _, took, err := ctlRun(d, time.Minute, "status"); err != nil {
			t.Errorf("supervisorctl status with standard output not read: %v", err)
		} else {
			t.Logf("supervisorctl status with standard output not read: %v", took.Round(time.Millisecond))
		}
		if n := count(d.mainLog(), `INFO spawned: 'crash\d'`); n < 2*programs {
			t.Errorf("%d spawns: the storm stopped?", n)
		}
		mem.check(t, "with standard output not read", 16*mib)

		// Read again: the lines dropped meanwhile are reported.
		if _, err := d.call(answerBound, "supervisor.stopProcess", "chatty", true); err != nil {
			t.Fatal(err)
		}
		r.SetReadDeadline(time.Now().Add(readyBound))
		var got strings.Builder
		buf := make([]byte, 64<<10)
		for !strings.Contains(got.String(), "log lines were dropped here: this output was not read") {
			n, err := r.Read(buf)
			if err != nil {
				t.Fatalf("reading the daemon's standard output: %v; no line reports the dropped lines", err)
			}
			// Keep the daemon's lines only; the program's are many.
			for line := range strings.Lines(string(buf[:n])) {
				if !strings.HasPrefix(line, "hello") {
					got.WriteString(line)
				}
			}
		}
		// Draining on, in the background, SIGTERM ends it all in time.
		go func() {
			for {
				if _, err := r.Read(buf); err != nil {
					return
				}
			}
		}()
		d.signal(syscall.SIGTERM)
		if code, err := d.waitExit(2*time.Second + exitMargin); err != nil || code != 0 {
			t.Errorf("SIGTERM: status %d, %v", code, err)
		}
	})
}
