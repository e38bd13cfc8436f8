package translate_test

import (
	"os"
	"path/filepath"
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
