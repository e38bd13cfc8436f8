package generator

import (
	"os"
	"path/filepath"
	"testing"
)

// The serve units run the supersede installed beside the generator,
// found through the generator's symlinks as make install lays them out.
func TestServeExecutable(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "usr/local/bin")
	gens := filepath.Join(root, "usr/lib/systemd/system-generators")
	for _, d := range []string{bin, gens} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	supersede := filepath.Join(bin, "supersede")
	gen := filepath.Join(bin, "supersede-generator")
	for _, p := range []string{supersede, gen} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(gens, "supersede-generator")
	if err := os.Symlink(gen, link); err != nil {
		t.Fatal(err)
	}
	for exe, want := range map[string]string{
		link:      supersede, // systemd runs the link
		gen:       supersede,
		supersede: supersede, // supersede generator
		filepath.Join(root, "nowhere/supersede-generator"): "",
		"": "",
	} {
		if got := serveExecutable(exe); got != want {
			t.Errorf("serveExecutable(%q) = %q, want %q", exe, got, want)
		}
	}
}
