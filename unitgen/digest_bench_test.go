package unitgen

import (
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/internal/genconf"
	"github.com/supersede/supersede/translate"
)

// BenchmarkDigests sets the digests' cost against the whole mapping,
// side by side on the generator benchmark's config (1000 programs, 1300
// processes): "generate" is Generate, digests included; "digests" the
// digests alone, as Generate makes them.
func BenchmarkDigests(b *testing.B) {
	dir := b.TempDir()
	if _, err := genconf.Write(dir, 1000, 0.4); err != nil {
		b.Fatal(err)
	}
	conf := filepath.Join(dir, "supervisord.conf")
	cfg, err := translate.Load(conf, translate.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}, Shim: "/usr/local/bin/supersede"}
	b.Run("generate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Generate(cfg, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("digests", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := &generator{cfg: cfg}
			for _, grp := range cfg.Groups {
				g.groupDigest(grp)
				for _, p := range grp.Processes {
					g.programDigest(&planned{p: p, g: grp})
				}
			}
		}
	})
}
