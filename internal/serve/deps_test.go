package serve

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyServeActivates keeps go-systemd's activation package in this
// package (STYLE.md §1: a third-party library in one package), and D-Bus
// out of it (internal/sysd speaks D-Bus).
func TestOnlyServeActivates(t *testing.T) {
	const self = "github.com/supersede/supersede/internal/serve"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/supersede/supersede/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			switch {
			case imp == "github.com/coreos/go-systemd/v22/activation" && f[0] == self:
				seen = true
			case imp == "github.com/coreos/go-systemd/v22/activation":
				t.Errorf("%s imports %s: socket activation belongs in internal/serve", f[0], imp)
			case f[0] == self && (imp == "github.com/godbus/dbus/v5" || imp == "github.com/coreos/go-systemd/v22/dbus"):
				t.Errorf("internal/serve imports %s: D-Bus belongs in internal/sysd", imp)
			}
		}
	}
	if !seen {
		t.Fatal("internal/serve does not import go-systemd's activation: the test would prove nothing")
	}
}
