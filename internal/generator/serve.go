package generator

import (
	"os"
	"path/filepath"
)

// serveExecutable finds the supersede program for the ExecStart= of the
// serve units: the generator itself when it is supersede (`supersede
// generator`), else the supersede installed beside it, following the
// generator's symlinks one at a time (make install links
// system-generators/supersede-generator to PREFIX/bin/supersede-generator,
// next to PREFIX/bin/supersede). "" when there is none: then no serve
// units are written.
func serveExecutable(exe string) string {
	if exe == "" {
		return ""
	}
	p := exe
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return ""
		}
		p = abs
	}
	for range 8 {
		if filepath.Base(p) == "supersede" && isExecutable(p) {
			return p
		}
		if beside := filepath.Join(filepath.Dir(p), "supersede"); isExecutable(beside) {
			return beside
		}
		target, err := os.Readlink(p)
		if err != nil {
			return ""
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
