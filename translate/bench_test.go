package translate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/genconf"
	"github.com/supersede/supersede/translate"
)

// BenchmarkLoad parses and expands the generated 5000-program config
// (6500 processes, 21 files) that bench/parse.sh also gives Supervisor.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100, 5000} {
		b.Run(benchName(n), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := genconf.Write(dir, n, 0.4); err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, "supervisord.conf")
			opts := translate.Options{Environ: os.Environ(), Dir: dir}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := translate.Load(path, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchName(n int) string {
	if n == 5000 {
		return "programs=5000"
	}
	return "programs=100"
}

// BenchmarkCtlRead is what `supersede ctl status` reads before it asks
// systemd anything: supervisorctl's [supervisorctl] (LoadCtl) and the
// whole configuration (Load), of the 1000-program file bench/ctl gives
// both supervisorctl and ctl.
func BenchmarkCtlRead(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.Mkdir(filepath.Join(dir, "log"), 0o755); err != nil {
		b.Fatal(err)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s/log\nminfds=8192\n", dir)
	fmt.Fprintf(&s, "\n[unix_http_server]\nfile=%[1]s/s.sock\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n[supervisorctl]\nserverurl=unix://%[1]s/s.sock\n", dir)
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&s, "\n[program:prog_%04d]\ncommand=/bin/sleep infinity\nstartsecs=1\n", i)
	}
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := translate.Options{Environ: os.Environ(), Dir: dir}
	b.ReportAllocs()
	for b.Loop() {
		c, err := translate.LoadCtl(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		o := opts
		o.Main, o.NoKeyPos = c, true // as ctl status reads it
		if _, err := translate.Load(path, o); err != nil {
			b.Fatal(err)
		}
	}
}
