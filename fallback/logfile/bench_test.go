package logfile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperWrite is a child that writes $LOGFILE_TEST_BYTES bytes of a
// pattern to its stdout in 1 MiB writes, as fast as it can.
func helperWrite() error {
	n, err := strconv.Atoi(os.Getenv("LOGFILE_TEST_BYTES"))
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for n > 0 {
		w, err := syscall.Write(1, buf[:min(n, len(buf))])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		n -= w
	}
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCapture: children together write 500 MB through the pump into
// logs with Supervisor's default rotation (50 MB) and enough backups to
// keep everything; reports throughput, the daemon's CPU time (this
// process: the pump; the children's is their own), and bytes lost.
func benchCapture(b *testing.B, children int, copyPath bool) {
	const total = 500 << 20
	warmOnce.Do(func() { warm(b) })
	dir := b.TempDir()
	p := startPump(b)
	var wall, cpu time.Duration
	var lost int64
	turns0 := p.turns.Load()
	for range b.N {
		closed := make(chan struct{}, children)
		var cmds []*exec.Cmd
		var files []*File
		c0, t0 := cpuTime(), time.Now()
		for i := range children {
			f, err := Open(filepath.Join(dir, fmt.Sprintf("child%d.log", i)), 50<<20, 20)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
			r, w, err := Pipe()
			if err != nil {
				b.Fatal(err)
			}
			o := Output{File: f, OnClose: func() { closed <- struct{}{} }, OnError: func(err error) { b.Error(err) }}
			if copyPath {
				o.OnData = func([]byte) {} // as with *_events_enabled or loglevel=debug
			}
			if _, err := p.Add(r, o); err != nil {
				b.Fatal(err)
			}
			wf := os.NewFile(uintptr(w), "w")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "LOGFILE_TEST_HELPER=write",
				"LOGFILE_TEST_BYTES="+strconv.Itoa(total/children), "GORACE=atexit_sleep_ms=0")
			cmd.Stdout = wf
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			wf.Close()
			cmds = append(cmds, cmd)
		}
		for range children {
			<-closed
		}
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		b.StopTimer()
		for _, c := range cmds {
			c.Wait()
		}
		var got int64
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "child") {
				got += fi.Size()
			}
			os.Remove(filepath.Join(dir, e.Name()))
		}
		lost += total/int64(children)*int64(children) - got
		for _, f := range files {
			f.Close()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total)*float64(b.N)/wall.Seconds()/1e6, "MB/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "daemon-cpu-s/op")
	b.ReportMetric(float64(lost)/float64(b.N), "lost-bytes/op")
	b.ReportMetric(float64(p.turns.Load()-turns0)/float64(b.N), "wakeups/op")
}

func BenchmarkCapture500MB(b *testing.B) {
	b.Run("1child", func(b *testing.B) { benchCapture(b, 1, false) })
	b.Run("10children", func(b *testing.B) { benchCapture(b, 10, false) })
	b.Run("1child-copy", func(b *testing.B) { benchCapture(b, 1, true) })
}

var warmOnce sync.Once

// warm writes and removes 600 MB once, so that the page cache the
// benchmark fills comes from memory the machine has already handed out:
// on a VM the first touch of guest memory costs far more than the copy
// (the first 500 MB here took 1.1 s of CPU, later ones 0.15 s).
func warm(b *testing.B) {
	f, err := os.CreateTemp(b.TempDir(), "warm")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for range 600 {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// rss is the process's resident set size (VmRSS) in bytes.
func rss(testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	panic("no VmRSS in /proc/self/status")
}

// BenchmarkIdlePipes: what 1000 programs' 2000 pipes cost the daemon
// when they are idle: heap and RSS per pipe (each with its own log file
// open) and epoll wake-ups per second.
func BenchmarkIdlePipes(b *testing.B) {
	const pipes = 2000
	for range b.N {
		dir := b.TempDir()
		p := startPump(b)
		debug.FreeOSMemory()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		r0 := rss(b)
		var writers []int
		var files []*File
		for i := range pipes {
			f, err := Open(filepath.Join(dir, fmt.Sprintf("p%d.log", i)), 50<<20, 10)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
			r, w, err := Pipe()
			if err != nil {
				b.Fatal(err)
			}
			writers = append(writers, w)
			if _, err := p.Add(r, Output{File: f}); err != nil {
				b.Fatal(err)
			}
		}
		debug.FreeOSMemory()
		runtime.ReadMemStats(&m1)
		r1 := rss(b)
		turns := p.turns.Load()
		time.Sleep(time.Second)
		b.ReportMetric(float64(p.turns.Load()-turns), "wakeups/s")
		b.ReportMetric(float64(int64(m1.HeapInuse)-int64(m0.HeapInuse))/pipes, "heap-B/pipe")
		b.ReportMetric(float64(r1-r0)/pipes, "rss-B/pipe")
		for _, w := range writers {
			syscall.Close(w)
		}
		for _, f := range files {
			f.Close()
		}
	}
}

// helperIdle is a process that does nothing but pump 2000 idle pipes,
// each into its own log file, and prints its VmRSS (bytes) before and
// after adding them.
func helperIdle() error {
	dir, err := os.MkdirTemp("", "logfile-idle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := NewPump()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	debug.FreeOSMemory()
	before := rss(nil)
	for i := range 2000 {
		f, err := Open(filepath.Join(dir, fmt.Sprintf("p%d.log", i)), 50<<20, 10)
		if err != nil {
			return err
		}
		r, _, err := Pipe()
		if err != nil {
			return err
		}
		if _, err := p.Add(r, Output{File: f}); err != nil {
			return err
		}
	}
	time.Sleep(100 * time.Millisecond)
	debug.FreeOSMemory()
	fmt.Println(before, rss(nil))
	return nil
}

// BenchmarkIdlePipesProcess: the resident memory of a whole process
// that runs only the pump, before and after 2000 idle pipes and their
// 2000 log files are added.
func BenchmarkIdlePipesProcess(b *testing.B) {
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGFILE_TEST_HELPER=idle", "GORACE=atexit_sleep_ms=0")
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		var before, after int64
		if _, err := fmt.Sscan(string(out), &before, &after); err != nil {
			b.Fatalf("%q: %v", out, err)
		}
		b.ReportMetric(float64(before)/(1<<20), "rss-MB-empty")
		b.ReportMetric(float64(after)/(1<<20), "rss-MB-2000pipes")
	}
}
