package oracle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

// The differential test: what supersede understands of a config must be
// what Supervisor 4.2.5 understands, as the oracle script prints it.

// fixedEnv is the environment of shared/oracle/regen-cases.sh.
var fixedEnv = []string{
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=/home/oracle",
	"LANG=C.UTF-8",
	"ORACLE_GREETING=hello",
	"ORACLE_PRIO=42",
}

// divergence is a listed, reasoned difference from Supervisor.
type divergence struct {
	name   string
	reason string
	used   bool
}

// loadDivergences reads testdata/divergences.txt of the repository:
// "NAME<TAB>reason" lines, # comments.
func loadDivergences(t *testing.T) map[string]*divergence {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "divergences.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the list of deliberate divergences: %v", err)
	}
	out := map[string]*divergence{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: want NAME<TAB>reason", path, n)
		}
		out[name] = &divergence{name: name, reason: strings.TrimSpace(reason)}
	}
	return out
}

// render runs supersede's parser as the oracle runs Supervisor's and
// returns the same JSON text.
func render(path string, o Options, here string) string {
	opts := translate.Options{Environ: o.Environ, Dir: o.Dir, Lenient: o.Lenient}
	cfg, err := translate.Load(path, opts)
	var doc Object
	if err != nil {
		doc = ErrorDocument(err, cfg, o.Lenient)
	} else {
		doc = Document(cfg, o)
	}
	return string(Marshal(Portable(doc, here, o.Dir)))
}

// compare reports a difference unless it is a listed divergence.
func compare(t *testing.T, name, want, got string, divs map[string]*divergence) {
	t.Helper()
	want = strings.TrimRight(want, "\n")
	d, listed := divs[name]
	if want == got {
		if listed {
			t.Errorf("%s is listed in testdata/divergences.txt but now equals the oracle: remove the entry", name)
			d.used = true
		}
		return
	}
	if listed {
		d.used = true
		t.Logf("deliberate divergence: %s", d.reason)
		return
	}
	t.Errorf("differs from the oracle:\n%s", lineDiff(want, got))
}

// lineDiff shows the first differing lines of two texts with context.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	var out strings.Builder
	from := max(0, i-3)
	for k := from; k < i; k++ {
		out.WriteString("  " + a[k] + "\n")
	}
	for k := i; k < min(len(a), i+6); k++ {
		out.WriteString("- " + a[k] + "\n")
	}
	for k := i; k < min(len(b), i+6); k++ {
		out.WriteString("+ " + b[k] + "\n")
	}
	return out.String()
}

func TestOracleCases(t *testing.T) {
	shared := testreal.Shared(t)
	compareCases(t, filepath.Join(shared, "oracle", "cases"), "cases/", "")
}

// compareCases compares supersede with the stored oracle output of every
// NAME.conf in dir: NAME.json, made strict with --portable, the fixed
// environment and cwd = dir. A NAME.lenient.conf is compared in lenient
// mode (the oracle's --lenient --portable --no-exec). Names in the
// divergence list are prefix+NAME; hint says how to remake a golden.
func compareCases(t *testing.T, dir, prefix, hint string) {
	divs := loadDivergences(t)
	confs, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	if len(confs) == 0 {
		t.Fatalf("no cases in %s", dir)
	}
	for _, conf := range confs {
		name := strings.TrimSuffix(filepath.Base(conf), ".conf")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(conf, ".conf") + ".json")
			if err != nil {
				t.Fatalf("%v%s", err, hint)
			}
			o := Options{Exec: true, Environ: fixedEnv, Dir: dir}
			if strings.HasSuffix(name, ".lenient") {
				o = Options{Lenient: true, Environ: fixedEnv, Dir: dir}
			}
			got := render(filepath.Base(conf), o, dir)
			compare(t, prefix+name, string(want), got, divs)
		})
	}
}

func TestOracleCorpus(t *testing.T) {
	shared := testreal.Shared(t)
	dir := filepath.Join(shared, "corpus", "real")
	divs := loadDivergences(t)
	goldens, _ := filepath.Glob(filepath.Join(dir, "oracle", "*.json"))
	if len(goldens) == 0 {
		t.Fatalf("no goldens in %s/oracle", dir)
	}
	for _, golden := range goldens {
		file := strings.TrimSuffix(filepath.Base(golden), ".json")
		t.Run(file, func(t *testing.T) {
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			var head struct {
				Placeholders map[string]string `json:"placeholders"`
			}
			if err := json.Unmarshal(want, &head); err != nil {
				t.Fatal(err)
			}
			env := append([]string(nil), fixedEnv...)
			names := make([]string, 0, len(head.Placeholders))
			for k := range head.Placeholders {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				env = append(env, k+"="+head.Placeholders[k])
			}
			o := Options{Lenient: true, Environ: env, Dir: dir}
			got := render(file, o, dir)
			// the golden was made without these variables set: its
			// placeholders are what our run must report, not {}
			got = restorePlaceholders(t, got, want)
			compare(t, "corpus/"+file, string(want), got, divs)
		})
	}
}

// restorePlaceholders puts the golden's "placeholders" object into got:
// the golden was made with the names unset (so it lists them), our run
// had them set (so it lists none). Everything else must be equal.
func restorePlaceholders(t *testing.T, got string, want []byte) string {
	t.Helper()
	start := func(s string) (int, int) {
		i := strings.Index(s, "\n \"placeholders\": ")
		if i < 0 {
			return -1, -1
		}
		j := i + len("\n \"placeholders\": ")
		if strings.HasPrefix(s[j:], "{}") {
			return i, j + 2
		}
		k := strings.Index(s[j:], "\n }")
		return i, j + k + 3
	}
	wi, wj := start(string(want))
	gi, gj := start(got)
	if wi < 0 || gi < 0 {
		return got
	}
	if got[gi:gj] != "\n \"placeholders\": {}" {
		t.Errorf("with the golden's placeholders set, supersede still invented placeholders: %s", got[gi:gj])
	}
	return got[:gi] + string(want[wi:wj]) + got[gj:]
}

// TestOracleLive runs the real Supervisor on every case, so that a stale
// golden cannot hide a difference.
func TestOracleLive(t *testing.T) {
	shared := testreal.Shared(t)
	script := filepath.Join(shared, "oracle", "supervisor-parse.py")
	testreal.RequireSupervisor(t)
	dir := filepath.Join(shared, "oracle", "cases")
	divs := loadDivergences(t)
	confs, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	for _, conf := range confs {
		name := strings.TrimSuffix(filepath.Base(conf), ".conf")
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(testreal.Python, script, "--portable", filepath.Base(conf))
			cmd.Dir = dir
			cmd.Env = fixedEnv
			out, err := cmd.Output()
			if err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
					t.Fatalf("oracle: %v", err)
				}
			}
			golden, _ := os.ReadFile(strings.TrimSuffix(conf, ".conf") + ".json")
			if strings.TrimRight(string(out), "\n") != strings.TrimRight(string(golden), "\n") {
				t.Errorf("the stored golden is stale; the live oracle says:\n%s", lineDiff(string(golden), string(out)))
			}
			o := Options{Exec: true, Environ: fixedEnv, Dir: dir}
			got := render(filepath.Base(conf), o, dir)
			compare(t, "cases/"+name, string(out), got, divs)
		})
	}
}
