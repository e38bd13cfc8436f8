package generator

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/internal/genconf"
)

// BenchmarkMain runs the whole generator on 1000 programs into fresh
// directories on a tmpfs where there is one (/dev/shm), as under systemd.
func BenchmarkMain(b *testing.B) {
	src := b.TempDir()
	if _, err := genconf.Write(src, 1000, 0.4); err != nil {
		b.Fatal(err)
	}
	conf := filepath.Join(src, "supervisord.conf")
	base := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	out, err := os.MkdirTemp(base, "supersede-genbench")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(out)
	environ := []string{ConfigEnv + "=" + conf, "PATH=/usr/bin:/bin"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		os.RemoveAll(out)
		dirs := []string{filepath.Join(out, "n"), filepath.Join(out, "e"), filepath.Join(out, "l")}
		for _, d := range dirs {
			os.MkdirAll(d, 0o755)
		}
		b.StartTimer()
		if code := Main(dirs, Options{Environ: environ, Log: io.Discard}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
