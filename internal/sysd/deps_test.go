package sysd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlySysdSpeaksDBus keeps D-Bus in one package (STYLE.md §1): no
// other package of the module imports godbus or go-systemd's dbus, and
// the layers below sysd do not depend on it.
func TestOnlySysdSpeaksDBus(t *testing.T) {
	const self = "github.com/supersede/supersede/internal/sysd"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/supersede/supersede/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		for _, imp := range imports {
			dbus := imp == "github.com/godbus/dbus/v5" || imp == "github.com/coreos/go-systemd/v22/dbus"
			if dbus && pkg == self {
				seen = true
			}
			if dbus && pkg != self {
				t.Errorf("%s imports %s: D-Bus belongs in internal/sysd", pkg, imp)
			}
		}
	}
	if !seen {
		t.Fatal("internal/sysd imports no D-Bus package: the test would prove nothing")
	}
	for _, pkg := range []string{"translate", "unitgen", "internal/status", "internal/xmlrpc", "internal/ctl", "fallback"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/supersede/supersede/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == self || dep == "github.com/godbus/dbus/v5" {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
