package shim

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStepCost is the cost of the compatibility step per start
// (backoff --locale, then startsecs with startsecs=0; and exec --state,
// which runs /bin/true here, next to /bin/true run directly, as
// ExecStart= without the step would) and per death (exited), interleaved in one loop
// so that the load of the machine weighs on all alike. It builds the real
// supersede (CGO_ENABLED=0, as make build). Metrics are µs per run.
func BenchmarkStepCost(b *testing.B) {
	dir := b.TempDir()
	exe := filepath.Join(dir, "supersede")
	build := exec.Command("go", "build", "-trimpath", "-o", exe, "github.com/supersede/supersede/cmd/supersede")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "MAINPID="+strconv.Itoa(os.Getpid()))
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		begin := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %v: %v", name, args, err)
		}
		return time.Since(begin)
	}
	var tTrue, tExec, tBackoff, tStartsecs, tExited time.Duration
	for b.Loop() {
		os.Remove(filepath.Join(dir, CountFile))
		os.Remove(filepath.Join(dir, LocaleFile))
		tTrue += run("/bin/true")
		tExec += run(exe, "shim", "exec", "--state", dir, "/bin/true", "true")
		tBackoff += run(exe, "shim", "backoff", dir, "3", "--locale")
		tStartsecs += run(exe, "shim", "startsecs", dir, "0")
		tExited += run(exe, "shim", "exited", dir)
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(us(tTrue), "µs/true")
	b.ReportMetric(us(tExec), "µs/exec-true")
	b.ReportMetric(us(tExec-tTrue), "µs-added/exec")
	b.ReportMetric(us(tBackoff), "µs/backoff")
	b.ReportMetric(us(tStartsecs), "µs/startsecs")
	b.ReportMetric(us(tExited), "µs/exited")
	b.ReportMetric(us(tBackoff+tStartsecs-2*tTrue), "µs-added/start")
}
