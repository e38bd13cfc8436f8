package faults

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// ctlRun runs the real `supervisorctl -c CONF ARGS...` against d within
// bound and returns its stdout, its run time and an error that says
// what went wrong.
func ctlRun(d *daemon, bound time.Duration, args ...string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, fallbacktest.SupervisorctlPath, append([]string{"-c", d.conf}, args...)...)
	cmd.Dir = d.dir
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	took := time.Since(t0)
	if err != nil {
		return stdout.Bytes(), took, fmt.Errorf("supervisorctl %v: %v (after %v); stderr: %.500s", args, err, took.Round(time.Millisecond), stderr.String())
	}
	return stdout.Bytes(), took, nil
}

// TestHugeLogReads: a log that nothing rotates (logfile_maxbytes=0) grows
// without end, and clients ask for all of it at once (`supervisorctl
// tail -BYTES`, readProcessStdoutLog NAME 0 0). Each answer is as
// Supervisor's, whole, and the daemon's memory does not grow with it:
// before, four reads of a 300 MB log took 3.3 GB of the daemon's memory
// at their peak and kept 1.8 GB after, enough for the kernel to kill a
// container's daemon. Meanwhile the owner's calls answer.
// (supervisord reads each answer whole into memory: not run here, it
// would only take seconds and gigabytes.)
func TestHugeLogReads(t *testing.T) {
	aloneSupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		// One reader is the real supervisorctl (Python takes seconds of
		// CPU over 6 MB), the others send readProcessStdoutLog as a
		// script does.
		const (
			size    = 6 << 20
			readers = 1
			raw     = 3
		)
		line := []byte("0123456789 <&> caf\xc3\xa9 the quick brown fox jumps over the lazy dog\n")
		content := bytes.Repeat(line, size/len(line)+1)[:size]
		d := newDaemon(t, impl, config{sections: `[program:big]
command=/bin/sleep 600
stdout_logfile={DIR}/big.log
stdout_logfile_maxbytes=0
`})
		if err := os.WriteFile(filepath.Join(d.dir, "big.log"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.start(); err != nil {
			t.Fatal(err)
		}
		mem := d.memory()
		// The owner's calls answer throughout (a hang fails them).
		ctx, cancel := context.WithCancel(context.Background())
		worstCh := make(chan time.Duration, 1)
		go func() { worstCh <- owner(ctx, t, d) }()

		// What supervisorctl prints: the text, decoded from the XML, so
		// "&lt;" is "<" again.
		var wg sync.WaitGroup
		for i := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, took, err := ctlRun(d, 120*time.Second, "tail", "-"+strconv.Itoa(size), "big")
				if err != nil {
					t.Errorf("%s: reader %d: %v", impl, i, err)
					return
				}
				if !bytes.Equal(out, append(content[:len(content):len(content)], '\n')) { // supervisorctl ends the output with a newline
					t.Errorf("%s: reader %d got %d bytes, not the log's %d and a newline", impl, i, len(out), len(content))
				}
				t.Logf("%s: reader %d: `supervisorctl tail -%d big` took %v", impl, i, size, took.Round(time.Millisecond))
			}()
		}
		// And raw readProcessStdoutLog NAME 0 0 calls, as a script sends.
		for range raw {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := d.call(120*time.Second, "supervisor.readProcessStdoutLog", "big", 0, 0)
				if err != nil {
					t.Errorf("%s: readProcessStdoutLog big 0 0: %v", impl, err)
					return
				}
				if s, _ := v.(string); s != string(content) {
					t.Errorf("%s: readProcessStdoutLog big 0 0: %d bytes, not the log's %d", impl, len(s), len(content))
				}
			}()
		}
		// And the owner's supervisorctl status, while they read.
		if _, took, err := ctlRun(d, time.Minute, "status"); err != nil {
			t.Errorf("%s: supervisorctl status during the reads: %v", impl, err)
		} else {
			t.Logf("%s: supervisorctl status during the reads: %v", impl, took.Round(time.Millisecond))
		}
		wg.Wait()
		cancel()
		worst := <-worstCh
		t.Logf("%s: slowest getAllProcessInfo during %d reads of %d MiB: %v; peak RSS %.1f MiB over %.1f MiB", impl,
			readers+raw, size>>20, worst.Round(time.Millisecond), float64(d.hwm()-mem.base)/mib, float64(mem.base)/mib)
		mem.check(t, "reading a huge log", 16*mib)
	})
}
