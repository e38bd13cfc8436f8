package fallback

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// openFDs lists the test process's open descriptors and what they are.
func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		out = append(out, e.Name()+" "+target)
	}
	return out
}

// A batch forks from threads with descriptor tables of their own, which
// make the children's pipes and send our ends back: the children still
// get exactly their stdin, stdout and stderr, the daemon reads and
// writes the other ends, and no descriptor is left behind.
func TestBatchForkPipes(t *testing.T) {
	testBatchForkPipes(t)
}

// Where a thread may not have a descriptor table of its own, a batch
// forks from the process's.
func TestBatchForkSharedTable(t *testing.T) {
	defer func(f func() error) { unshareFiles = f }(unshareFiles)
	unshareFiles = func() error { return syscall.EPERM }
	testBatchForkPipes(t)
}

func testBatchForkPipes(t *testing.T) {
	before := openFDs(t)
	const n = 6
	var conf strings.Builder
	for i := range n {
		fmt.Fprintf(&conf, "[program:p%d]\ncommand=sh -c 'echo err >&2; read x; echo \"$x\"; exec sleep 1000'\nstartsecs=0\n", i)
	}
	conf.WriteString("[program:joined]\ncommand=sh -c 'echo out; echo err >&2; exec sleep 1000'\nredirect_stderr=true\nstartsecs=0\n")
	h := start(t, conf.String(), Options{})
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		h.waitState(name, status.Running)
		if err := h.s.WriteStdin(ctx, name, name, []byte(name+"-in\n")); err != nil {
			t.Fatalf("WriteStdin(%s): %v", name, err)
		}
	}
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		p := h.proc(name)
		if got := waitFile(t, p.StdoutLog, name+"-in\n"); got != name+"-in\n" {
			t.Errorf("%s's stdout log %q", name, got)
		}
		if got := waitFile(t, p.StderrLog, "err\n"); got != "err\n" {
			t.Errorf("%s's stderr log %q", name, got)
		}
		// The shell's redirections and the dynamic loader hold a
		// descriptor for a moment; an inherited one stays.
		if got := waitFDs(p.PID, "0 1 2"); got != "0 1 2" {
			t.Errorf("%s's descriptors %v, want 0 1 2", name, got)
		}
	}
	h.waitState("joined", status.Running)
	if got := waitFile(t, h.proc("joined").StdoutLog, "out\nerr\n"); got != "out\nerr\n" {
		t.Errorf("joined's stdout log %q", got)
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if after := openFDs(t); !slices.Equal(before, after) {
		t.Errorf("descriptors before the daemon ran:\n%s\nafter it stopped:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// waitFDs waits until pid's open descriptors are want ("0 1 2") and
// returns them.
func waitFDs(pid int, want string) string {
	deadline := time.Now().Add(waitFor)
	for {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		var names []string
		for _, fd := range fds {
			names = append(names, fd.Name())
		}
		got := strings.Join(names, " ")
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A process that dies is forked again before the main-log lines of its
// exit and spawn are written; they still come in Supervisor's order.
func TestRestartLogOrder(t *testing.T) {
	h := start(t, "[program:s]\ncommand=sleep 1000\nstartsecs=0\n", Options{})
	first := h.waitState("s", status.Running)
	syscall.Kill(first.PID, syscall.SIGKILL)
	h.log.waitLines(t, "success: s entered RUNNING state", 2)
	second := h.proc("s")
	lines := h.log.all()
	i := slices.Index(lines, "exited: s (terminated by SIGKILL; not expected)")
	want := []string{
		"exited: s (terminated by SIGKILL; not expected)",
		fmt.Sprintf("spawned: 's' with pid %d", second.PID),
		"success: s entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)",
	}
	if i < 0 || len(lines) < i+3 || !slices.Equal(lines[i:i+3], want) {
		t.Errorf("main log:\n%s\nwant, in a row:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
