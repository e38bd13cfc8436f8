package oracle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/internal/genconf"
	"github.com/supersede/supersede/translate"
)

// BenchmarkDocument renders the 5000-program config of bench/parse.sh as
// show --json --no-exec does.
func BenchmarkDocument(b *testing.B) {
	dir := b.TempDir()
	if _, err := genconf.Write(dir, 5000, 0.4); err != nil {
		b.Fatal(err)
	}
	cfg, err := translate.Load(filepath.Join(dir, "supervisord.conf"), translate.Options{Environ: os.Environ(), Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var n countWriter
		if err := Write(&n, Document(cfg, Options{})); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(n))
	}
}

// countWriter counts what is written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
