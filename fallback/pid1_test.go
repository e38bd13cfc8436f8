package fallback

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
)

// pid1Env makes the test binary run TestPID1's inside part: it is then
// PID 1 of a new PID namespace.
const pid1Env = "FALLBACK_TEST_PID1"

// TestPID1 runs a Supervisor as PID 1 of a fresh PID namespace (as in a
// container) and checks that orphaned grandchildren are reaped, leaving
// no zombie, and that a stop leaves no process but itself.
func TestPID1(t *testing.T) {
	if os.Getenv(pid1Env) == "1" {
		pid1Inside(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		testreal.Missing(t, "unshare(1) is not installed (util-linux)")
	}
	if os.Getuid() != 0 {
		testreal.Missing(t, "TestPID1 needs root for a PID namespace")
	}
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run=^TestPID1$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), pid1Env+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("PID 1 run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "--- PASS: TestPID1") {
		t.Fatalf("the PID 1 run did not pass:\n%s", out.String())
	}
}

func pid1Inside(t *testing.T) {
	if os.Getpid() != 1 {
		t.Fatalf("pid %d, want 1", os.Getpid())
	}
	h := start(t, `
[program:forker]
command=sh -c 'sh -c "sleep 0.2 &"; sh -c "sleep 0.1 &"; exec sleep 1000'
startsecs=0
`, Options{})
	h.waitState("forker", status.Running)
	h.log.waitLines(t, "reaped unknown pid", 2)
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies: %v", z)
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if left := children(1); len(left) > 0 {
		t.Errorf("processes left after the stop: %v", left)
	}
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies: %v", z)
	}
}

// zombies lists the zombie processes /proc shows.
func zombies() []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && exists(pid) && !alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}
