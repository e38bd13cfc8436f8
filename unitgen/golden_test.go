package unitgen

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/supersede/supersede/translate"
)

var update = flag.Bool("update", false, "rewrite testdata/golden with the current output")

// TestGolden runs each testdata/golden/*.txtar: supervisord.conf (and any
// other files it includes) in, then one file per unit, plus "warnings" or
// "error". An "options" file sets Options, one per line: prefix=P, user,
// log-files, systemd-version=N, shim=PATH. The temporary directory shows as $DIR.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in, want []txtar.File
			for _, f := range ar.Files {
				if f.Name == "options" || strings.HasSuffix(f.Name, ".conf") || strings.HasPrefix(f.Name, "conf.d/") || strings.HasPrefix(f.Name, "bin/") || strings.HasPrefix(f.Name, "logs/") {
					in = append(in, f)
				} else {
					want = append(want, f)
				}
			}
			got := generateGolden(t, in)
			if *update {
				ar.Files = append(in, got...)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(got) != len(want) {
				t.Errorf("got files %s, want %s (to accept: go test ./unitgen -run TestGolden -update)", fileNames(got), fileNames(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i].Name != want[i].Name || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Errorf("%s: got\n-- %s --\n%s\nwant\n-- %s --\n%s\n(to accept: go test ./unitgen -run TestGolden -update)", file, got[i].Name, got[i].Data, want[i].Name, want[i].Data)
				}
			}
		})
	}
}

func fileNames(fs []txtar.File) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, " ")
}

func generateGolden(t *testing.T, in []txtar.File) []txtar.File {
	dir := t.TempDir()
	var opts Options
	for _, f := range in {
		if f.Name == "options" {
			for _, line := range strings.Fields(string(f.Data)) {
				k, v, _ := strings.Cut(line, "=")
				switch k {
				case "prefix":
					opts.Prefix = v
				case "user":
					opts.User = true
				case "log-files":
					opts.LogFiles = true
				case "systemd-version":
					opts.SystemdVersion, _ = strconv.Atoi(v)
				case "shim":
					opts.Shim = v
				default:
					t.Fatalf("unknown option %q", line)
				}
			}
			continue
		}
		path := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(f.Name, "bin/") || strings.HasPrefix(f.Name, "logs/") {
			mode = 0o755
		}
		if err := os.WriteFile(path, f.Data, mode); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin", "HOME=/root"}
	opts.Environ, opts.Dir = environ, dir
	norm := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(dir), []byte("$DIR")) }
	cfg, err := translate.Load(filepath.Join(dir, "supervisord.conf"), translate.Options{Environ: environ, Dir: dir, Hostname: "host"})
	if err != nil {
		return []txtar.File{{Name: "error", Data: norm([]byte(err.Error() + "\n"))}}
	}
	res, err := Generate(cfg, opts)
	if err != nil {
		return []txtar.File{{Name: "error", Data: norm([]byte(err.Error() + "\n"))}}
	}
	var out []txtar.File
	for _, u := range res.Units {
		if _, err := parseUnit(u.Data); err != nil {
			t.Errorf("%s does not read back: %v", u.Name, err)
		}
		data := norm(u.Data)
		if len(u.WantedBy) > 0 {
			data = append(data, fmt.Sprintf("# (enabled from %s)\n", strings.Join(u.WantedBy, " "))...)
		}
		out = append(out, txtar.File{Name: u.Name, Data: data})
	}
	if len(res.Warnings) > 0 {
		var b bytes.Buffer
		for _, w := range res.Warnings {
			fmt.Fprintln(&b, w)
		}
		out = append(out, txtar.File{Name: "warnings", Data: norm(b.Bytes())})
	}
	return out
}
