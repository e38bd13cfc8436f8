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
//
// SHIM_BENCH_BASE=PATH runs the steps of another supersede binary (an
// earlier build) in the same loop, in a state directory of its own, for
// a side-by-side ratio (µs/base-*); SHIM_BENCH_DIR=DIR puts the state
// directories there (a tmpfs such as /dev/shm, as %t is on a host).
//
// The state directories are laid out as a unit's (%t/supersede/NAME,
// with the manager's invocation symlink in %t/systemd/units), so that
// the exec step records its run (RunPrefix) as under systemd: µs/exec-true
// includes the record, and µs/base-exec-true is the base build's exec
// step in the same loop.
func BenchmarkStepCost(b *testing.B) {
	rt, err := os.MkdirTemp(os.Getenv("SHIM_BENCH_DIR"), "shim-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(rt) })
	dir := filepath.Join(rt, "supersede", "shimbench")
	baseDir := filepath.Join(rt, "supersede", "base")
	links := filepath.Join(rt, "systemd", "units")
	for _, d := range []string{dir, baseDir, links} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for _, unit := range []string{"shimbench", "base"} {
		if err := os.Symlink("0123456789abcdef0123456789abcdef", filepath.Join(links, "invocation:"+unit+".service")); err != nil {
			b.Fatal(err)
		}
	}
	base := os.Getenv("SHIM_BENCH_BASE")
	exe := filepath.Join(rt, "supersede-build")
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
	var bExec, bBackoff, bStartsecs, bExited time.Duration
	steps := func() {
		os.Remove(filepath.Join(dir, CountFile))
		os.Remove(filepath.Join(dir, LocaleFile))
		tExec += run(exe, "shim", "exec", "--state", dir, "/bin/true", "true")
		tBackoff += run(exe, "shim", "backoff", dir, "3", "--locale")
		tStartsecs += run(exe, "shim", "startsecs", dir, "0")
		tExited += run(exe, "shim", "exited", dir)
	}
	baseSteps := func() {
		os.Remove(filepath.Join(baseDir, CountFile))
		os.Remove(filepath.Join(baseDir, LocaleFile))
		bExec += run(base, "shim", "exec", "--state", baseDir, "/bin/true", "true")
		bBackoff += run(base, "shim", "backoff", baseDir, "3", "--locale")
		bStartsecs += run(base, "shim", "startsecs", baseDir, "0")
		bExited += run(base, "shim", "exited", baseDir)
	}
	for i := 0; b.Loop(); i++ {
		tTrue += run("/bin/true")
		switch {
		case base == "":
			steps()
		case i%2 == 0: // each first in every other turn: no order favours one
			steps()
			baseSteps()
		default:
			baseSteps()
			steps()
		}
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(us(tTrue), "µs/true")
	b.ReportMetric(us(tExec), "µs/exec-true")
	b.ReportMetric(us(tExec-tTrue), "µs-added/exec")
	b.ReportMetric(us(tBackoff), "µs/backoff")
	b.ReportMetric(us(tStartsecs), "µs/startsecs")
	b.ReportMetric(us(tExited), "µs/exited")
	b.ReportMetric(us(tBackoff+tStartsecs-2*tTrue), "µs-added/start")
	if _, err := os.Readlink(RunPath(dir)); err != nil {
		b.Errorf("the exec step recorded no run: %v", err)
	}
	if base != "" {
		b.ReportMetric(us(bExec), "µs/base-exec-true")
		b.ReportMetric(us(bBackoff), "µs/base-backoff")
		b.ReportMetric(us(bStartsecs), "µs/base-startsecs")
		b.ReportMetric(us(bExited), "µs/base-exited")
	}
}
