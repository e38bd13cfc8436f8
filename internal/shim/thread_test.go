package shim

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The steps that exec a program lock main to the first thread; the
// others, and every other command, do not.
func TestExecStep(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"supersede", "shim", "exec", "--state", "S", "/bin/true", "true"}, true},
		{[]string{"supersede", "shim", "listen", "--user", "S", "/bin/true", "true"}, true},
		{[]string{"supersede", "shim", "hold-stdin", "/bin/true", "true"}, true},
		{[]string{"supersede", "shim", "startsecs", "S", "1"}, false},
		{[]string{"supersede", "shim", "backoff", "S", "3"}, false},
		{[]string{"supersede", "shim"}, false},
		{[]string{"supersede", "ctl", "exec"}, false},
		{[]string{"supersede", "exec", "shim"}, false},
		{[]string{"supersede"}, false},
		{nil, false},
	} {
		if got := execStep(c.args); got != c.want {
			t.Errorf("execStep(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// The real supersede's exec step execs from the process's first thread:
// watched from the start to the exec, the process never reads as a
// zombie (from another thread, the first one is one until the exec takes
// its pid: about half of the execs showed it on a 2-core machine).
func TestExecOnFirstThread(t *testing.T) {
	t.Parallel()
	exe := filepath.Join(t.TempDir(), "supersede")
	build := exec.Command("go", "build", "-o", exe, "github.com/supersede/supersede/cmd/supersede")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const n = 60
	seen := 0
	for range n {
		cmd := exec.Command(exe, "shim", "exec", "/bin/sleep", "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stat := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat"
		zombie, execd := false, false
		for deadline := time.Now().Add(30 * time.Second); !execd && time.Now().Before(deadline); {
			b, err := os.ReadFile(stat)
			if err != nil {
				break
			}
			i := bytes.LastIndexByte(b, ')')
			zombie = zombie || i > 0 && i+2 < len(b) && b[i+2] == 'Z'
			execd = bytes.Contains(b, []byte("(sleep)"))
		}
		cmd.Process.Kill()
		cmd.Wait()
		if !execd {
			t.Fatalf("the exec step did not exec sleep")
		}
		if zombie {
			seen++
		}
	}
	if seen > 0 {
		t.Errorf("the process read as a zombie during %d of %d execs: the exec ran on another thread than the first", seen, n)
	}
}
