package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps keeps the generator small: it runs at boot before units are
// loaded, so it must not link D-Bus, HTTP, the fallback supervisor or the
// XML-RPC server.
func TestDeps(t *testing.T) {
	for _, pkg := range []string{".", "github.com/supersede/supersede/internal/generator"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/supersede/supersede/unitgen") {
			t.Fatalf("go list -deps %s does not list unitgen; the test would prove nothing", pkg)
		}
		for _, bad := range []string{
			"github.com/godbus/dbus/v5",
			"github.com/coreos/go-systemd/v22/dbus",
			"net/http",
			"net",
			"os/exec",
			"github.com/supersede/supersede/fallback",
			"github.com/supersede/supersede/internal/xmlrpc",
			"github.com/supersede/supersede/internal/sysd",
		} {
			if slices.Contains(deps, bad) {
				t.Errorf("%s must not depend on %s", pkg, bad)
			}
		}
	}
}
