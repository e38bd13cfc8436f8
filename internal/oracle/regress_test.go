package oracle

import (
	"path/filepath"
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
	compareCases(t, dir, "regress/", " (run testdata/regress/regen.sh)")
}
