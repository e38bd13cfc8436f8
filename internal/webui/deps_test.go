package webui_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestChromedpOnlyInBrowserTest keeps the DevTools driver where it is
// used: the browser test of this package. No package of the module
// imports it outside its tests, so no binary links it.
func TestChromedpOnlyInBrowserTest(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`, "github.com/supersede/supersede/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkg, imports, tests := f[0], strings.Fields(f[1]), strings.Fields(f[2])
		for _, imp := range imports {
			if strings.HasPrefix(imp, "github.com/chromedp/") {
				t.Errorf("%s imports %s: only tests may", pkg, imp)
			}
		}
		for _, imp := range tests {
			if strings.HasPrefix(imp, "github.com/chromedp/") {
				if pkg == "github.com/supersede/supersede/internal/webui" {
					seen = true
				} else {
					t.Errorf("the tests of %s import %s: the browser test is internal/webui's", pkg, imp)
				}
			}
		}
	}
	if !seen {
		t.Fatal("internal/webui's tests import no chromedp package: the test would prove nothing")
	}
}
