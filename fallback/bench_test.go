package fallback

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// BenchmarkStartStop starts 200 `sleep` programs (startsecs=0, no logs)
// until all are RUNNING, then stops them all with SIGTERM until Run
// returns. It reports the two phases per program.
func BenchmarkStartStop(b *testing.B) {
	const n = 200
	dir := b.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "[supervisord]\nlogfile=%s/main.log\nchildlogdir=%s\n", dir, dir)
	for i := range n {
		fmt.Fprintf(&conf, "[program:p%d]\ncommand=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n", i)
	}
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := translate.Load(path, translate.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	var start, stop time.Duration
	for b.Loop() {
		sig := make(chan os.Signal, 1)
		s, err := New(cfg, Options{Dir: dir, Signals: sig, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		done := make(chan error, 1)
		go func() { done <- s.Run(context.Background()) }()
		for {
			ps, err := s.Processes(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			running := 0
			for _, p := range ps {
				if p.State == status.Running {
					running++
				}
			}
			if running == n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		t1 := time.Now()
		sig <- syscall.SIGTERM
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		start += t1.Sub(t0)
		stop += time.Since(t1)
	}
	b.ReportMetric(float64(start.Microseconds())/float64(b.N*n), "µs-start/prog")
	b.ReportMetric(float64(stop.Microseconds())/float64(b.N*n), "µs-stop/prog")
}
