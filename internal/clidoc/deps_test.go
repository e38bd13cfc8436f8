package clidoc

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyClidocImportsCobra keeps cobra in one package: the commands
// parse their own flags (pflag), and only their documentation and
// completion go through cobra.
func TestOnlyClidocImportsCobra(t *testing.T) {
	const self = "github.com/supersede/supersede/internal/clidoc"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/supersede/supersede/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, "github.com/spf13/cobra") {
				continue
			}
			if f[0] == self {
				seen = true
			} else {
				t.Errorf("%s imports %s: cobra belongs in internal/clidoc", f[0], imp)
			}
		}
	}
	if !seen {
		t.Fatal("internal/clidoc imports no cobra package: the test would prove nothing")
	}
	// the generator, which runs at boot, links none of it
	out, err = exec.Command("go", "list", "-deps", "github.com/supersede/supersede/cmd/supersede-generator").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == self || strings.HasPrefix(dep, "github.com/spf13/cobra") {
			t.Errorf("supersede-generator depends on %s", dep)
		}
	}
}
