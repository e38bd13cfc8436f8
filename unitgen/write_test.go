package unitgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/supersede/supersede/translate"
)

func loadConf(t *testing.T, dir, conf string) *translate.Config {
	t.Helper()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(path, translate.Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func generate(t *testing.T, cfg *translate.Config) *Result {
	t.Helper()
	res, err := Generate(cfg, Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestWriteDirCreatesUpdatesPrunes(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	cfg := loadConf(t, src, "[supervisord]\n[program:a]\ncommand=/bin/sleep 1\n[program:b]\ncommand=/bin/sleep 2\n")
	changes, err := WriteDir(out, generate(t, cfg), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listDir(t, out), " "); got != "a.service b.service supersede.target" {
		t.Fatalf("files: %s", got)
	}
	for _, c := range changes {
		if c.Action != Create {
			t.Errorf("%s: %v, want create", c.Path, c.Action)
		}
	}
	// A foreign file beside ours is left alone by --prune.
	foreign := filepath.Join(out, "other.service")
	os.WriteFile(foreign, []byte("[Service]\nExecStart=/bin/true\n"), 0o644)

	// b goes, a changes.
	cfg = loadConf(t, src, "[supervisord]\n[program:a]\ncommand=/bin/sleep 3\n")
	changes, err = WriteDir(out, generate(t, cfg), WriteOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]Action{}
	for _, c := range changes {
		actions[filepath.Base(c.Path)] = c.Action
	}
	if actions["a.service"] != Update || actions["b.service"] != Remove || actions["supersede.target"] != Update {
		t.Errorf("actions %v", actions)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("prune removed a foreign unit: %v", err)
	}
	if got := strings.Join(listDir(t, out), " "); got != "a.service other.service supersede.target" {
		t.Fatalf("files after prune: %s", got)
	}
	// Writing again changes nothing.
	changes, err = WriteDir(out, generate(t, cfg), WriteOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Action != Unchanged {
			t.Errorf("second write: %s %v", c.Path, c.Action)
		}
	}
}

func TestWriteDirNeverClobbersForeign(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	cfg := loadConf(t, src, "[supervisord]\n[program:a]\ncommand=/bin/sleep 1\n[program:nginx]\ncommand=/bin/sleep 1\n")
	mine := []byte("[Service]\nExecStart=/usr/sbin/nginx\n")
	os.WriteFile(filepath.Join(out, "nginx.service"), mine, 0o644)
	_, err := WriteDir(out, generate(t, cfg), WriteOptions{})
	if !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), "nginx.service") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want ErrForeign naming nginx.service and --force", err)
	}
	// Nothing at all was written: the check comes first.
	if got := strings.Join(listDir(t, out), " "); got != "nginx.service" {
		t.Errorf("files after refusal: %s", got)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "nginx.service")); string(data) != string(mine) {
		t.Error("foreign unit changed")
	}
	// A symlink (say, to /dev/null: a masked unit) is foreign too.
	os.Remove(filepath.Join(out, "nginx.service"))
	os.Symlink("/dev/null", filepath.Join(out, "nginx.service"))
	if _, err := WriteDir(out, generate(t, cfg), WriteOptions{}); !errors.Is(err, ErrForeign) {
		t.Fatalf("masked unit: err = %v, want ErrForeign", err)
	}
	// --force replaces it.
	if _, err := WriteDir(out, generate(t, cfg), WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(out, "nginx.service"))
	if !IsGenerated(data) {
		t.Error("--force did not replace the foreign unit")
	}
}

func TestWriteDirDryRunAndWants(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	cfg := loadConf(t, src, "[supervisord]\n[program:a]\ncommand=/bin/sleep 1\n[program:b]\ncommand=/bin/sleep 1\nautostart=false\n")
	res := generate(t, cfg)
	if _, err := WriteDir(out, res, WriteOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, out); len(got) != 0 {
		t.Fatalf("dry run wrote %v", got)
	}
	if _, err := WriteDir(out, res, WriteOptions{Wants: true}); err != nil {
		t.Fatal(err)
	}
	// One link enables the anchor, which wants the autostart units.
	link, err := os.Readlink(filepath.Join(out, "multi-user.target.wants", "supersede.target"))
	if err != nil || link != "../supersede.target" {
		t.Errorf("wants link: %q, %v", link, err)
	}
	if got := strings.Join(listDir(t, filepath.Join(out, "multi-user.target.wants")), " "); got != "supersede.target" {
		t.Errorf("links: %s", got)
	}
	anchor, _ := os.ReadFile(filepath.Join(out, "supersede.target"))
	if !strings.Contains(string(anchor), "\nWants=a.service\n") || strings.Contains(string(anchor), "Wants=a.service b.service") {
		t.Errorf("the anchor should want a.service (autostart) and not b.service:\n%s", anchor)
	}
	// No temporary files are left behind.
	for _, f := range listDir(t, out) {
		if strings.Contains(f, ".tmp") {
			t.Errorf("left over: %s", f)
		}
	}
}

func TestWriteAtomicCleansUpOnError(t *testing.T) {
	dir := t.TempDir()
	// The rename fails: a non-empty directory stands where the unit goes.
	path := filepath.Join(dir, "x.service")
	os.MkdirAll(filepath.Join(path, "inside"), 0o755)
	if err := writeAtomic(path, []byte("new"), true); err == nil {
		t.Fatal("no error")
	}
	if got := strings.Join(listDir(t, dir), " "); got != "x.service x.service/inside" {
		t.Errorf("left behind: %s", got)
	}
}

// TestFreshWriter: units handed to a FreshWriter as Generate makes them
// (Options.Emit) are the files WriteDir writes into a fresh directory,
// and Discard leaves the directory as it was.
func TestFreshWriter(t *testing.T) {
	src := t.TempDir()
	var conf strings.Builder
	conf.WriteString("[supervisord]\n")
	for i := range 100 { // more than one batch
		fmt.Fprintf(&conf, "[program:p%03d]\ncommand=/bin/sleep %d\nautostart=%v\n", i, i+1, i%3 != 0)
	}
	cfg := loadConf(t, src, conf.String())
	want, streamed := t.TempDir(), t.TempDir()
	res := generate(t, cfg)
	if _, err := WriteDir(want, res, WriteOptions{Fresh: true, Wants: true}); err != nil {
		t.Fatal(err)
	}
	fw, err := NewFreshWriter(streamed, true)
	if err != nil {
		t.Fatal(err)
	}
	var emitted []string
	res2, err := Generate(cfg, Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: src, Emit: func(u Unit) {
		emitted = append(emitted, u.Name)
		fw.Add(u)
	}})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(emitted) != len(res2.Units) || len(changes) != len(res2.Units)+1 {
		t.Fatalf("%d units emitted, %d changes, for %d units", len(emitted), len(changes), len(res2.Units))
	}
	slices.Sort(emitted)
	for i, u := range res2.Units {
		if emitted[i] != u.Name {
			t.Fatalf("emitted %s where the result has %s", emitted[i], u.Name)
		}
	}
	wantFiles, gotFiles := listDir(t, want), listDir(t, streamed)
	if !slices.Equal(wantFiles, gotFiles) {
		t.Fatalf("files: %v\nwant %v", gotFiles, wantFiles)
	}
	for _, f := range wantFiles {
		a, _ := os.ReadFile(filepath.Join(want, f))
		b, _ := os.ReadFile(filepath.Join(streamed, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", f)
		}
	}

	// Discard removes all it wrote, and only that.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "other.service"), []byte("x"), 0o644)
	fw, err = NewFreshWriter(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Units {
		fw.Add(u)
	}
	if err := fw.Discard(); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"other.service"}) {
		t.Fatalf("after Discard: %v", got)
	}

	// A unit that exists already is an error, as with WriteDir.
	fw, _ = NewFreshWriter(dir, false)
	fw.Add(Unit{Name: "other.service", Data: []byte("y")})
	if _, err := fw.Close(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Close over an existing file: %v", err)
	}
}

// TestMaxWarnings: with Options.MaxWarnings the first warnings are those
// of a full run, and the rest are counted.
func TestMaxWarnings(t *testing.T) {
	src := t.TempDir()
	var conf strings.Builder
	conf.WriteString("[supervisord]\n")
	for i := range 20 {
		fmt.Fprintf(&conf, "[program:p%02d]\ncommand=/no/such/program-%d\n", i, i)
	}
	cfg := loadConf(t, src, conf.String())
	all := generate(t, cfg)
	if len(all.Warnings) < 20 || all.MoreWarnings != 0 {
		t.Fatalf("%d warnings, %d more: want 20 or more, and none counted", len(all.Warnings), all.MoreWarnings)
	}
	some, err := Generate(cfg, Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: t.TempDir(), MaxWarnings: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(some.Warnings, all.Warnings[:5]) || some.MoreWarnings != len(all.Warnings)-5 {
		t.Fatalf("kept %v and counted %d; want %v and %d", some.Warnings, some.MoreWarnings, all.Warnings[:5], len(all.Warnings)-5)
	}
}
