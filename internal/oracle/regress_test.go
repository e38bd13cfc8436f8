package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegressCases compares supersede with the stored oracle output of
// the minimal reproducers in testdata/regress/, each a divergence that
// TestRandomAgainstOracle once found. The goldens are the oracle's strict
// output (--portable, fixed environment, cwd = testdata/regress); rewrite
// them with testdata/regress/regen.sh. NAME.lenient.conf is a divergence
// of lenient mode: its golden is the oracle's --lenient --no-exec output.
// Names in the divergence list are "regress/NAME" (NAME without .conf).
func TestRegressCases(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "regress"))
	if err != nil {
		t.Fatal(err)
	}
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
				t.Fatalf("%v (run testdata/regress/regen.sh)", err)
			}
			o := Options{Exec: true, Environ: fixedEnv, Dir: dir}
			if strings.HasSuffix(name, ".lenient") {
				o = Options{Lenient: true, Environ: fixedEnv, Dir: dir}
			}
			got := render(filepath.Base(conf), o, dir)
			compare(t, "regress/"+name, string(want), got, divs)
		})
	}
}
