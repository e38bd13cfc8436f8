package logread

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// ReadBytes and TailBytes answer as Read and Tail do on a file with the
// same bytes (those are checked against Supervisor's own code above).
func TestBytesMatchFiles(t *testing.T) {
	d := t.TempDir()
	for _, content := range []string{"", "x", "hello world\n", "0123456789abcdefghijklmnopqrstuvwxyz\nThe quick brown fox.\n"} {
		path := filepath.Join(d, "log")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, off := range []int64{-1000, -12, -5, -1, 0, 1, 2, 5, 11, 12, 13, 40, 100} {
			for _, ln := range []int64{-1, 0, 1, 2, 5, 12, 100} {
				want, werr := Read(path, off, ln)
				got, gerr := ReadBytes([]byte(content), off, ln)
				if !bytes.Equal(got, want) || !errors.Is(gerr, werr) || (gerr == nil) != (werr == nil) {
					t.Errorf("ReadBytes(%q, %d, %d) = %q, %v; Read %q, %v", content, off, ln, got, gerr, want, werr)
				}
				wd, wn, wo := Tail(path, off, ln)
				gd, gn, gOver := TailBytes([]byte(content), off, ln)
				if !bytes.Equal(gd, wd) || gn != wn || gOver != wo {
					t.Errorf("TailBytes(%q, %d, %d) = %q %d %v; Tail %q %d %v", content, off, ln, gd, gn, gOver, wd, wn, wo)
				}
			}
		}
	}
}
