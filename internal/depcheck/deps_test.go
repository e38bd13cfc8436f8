package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/supersede/supersede"

// pkgInfo is what `go list` says of one package of the module.
type pkgInfo struct {
	imports, testImports []string
}

// list runs go list once over the module.
func list(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkgs[f[0]] = pkgInfo{imports: strings.Fields(f[1]), testImports: strings.Fields(f[2])}
	}
	return pkgs
}

// deps lists everything pkg depends on, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestOneHomePerLibrary: each library (an import path prefix) is
// imported by its home package alone, and by it for real (else the rule
// would prove nothing). testOnly libraries may not be imported by any
// package's code, only by its home's tests.
func TestOneHomePerLibrary(t *testing.T) {
	pkgs := list(t)
	for _, r := range []struct {
		libs     []string // import paths, or prefixes ending in "/"
		home     string
		why      string
		testOnly bool
	}{
		{[]string{"github.com/godbus/dbus/v5", "github.com/coreos/go-systemd/v22/dbus"}, "internal/sysd", "D-Bus belongs in internal/sysd", false},
		{[]string{"github.com/coreos/go-systemd/v22/activation"}, "internal/serve", "socket activation belongs in internal/serve", false},
		{[]string{"github.com/spf13/cobra"}, "internal/clidoc", "cobra belongs in internal/clidoc: the commands parse their own flags (pflag), only their documentation and completion go through cobra", false},
		{[]string{"github.com/chromedp/"}, "internal/webui", "the DevTools driver is the browser test's alone: no binary links it", true},
	} {
		matches := func(imp string) bool {
			for _, l := range r.libs {
				if imp == l || strings.HasSuffix(l, "/") && strings.HasPrefix(imp, l) || strings.HasPrefix(imp, l+"/") {
					return true
				}
			}
			return false
		}
		home := module + "/" + r.home
		seen := false
		for pkg, info := range pkgs {
			for _, imp := range info.imports {
				if !matches(imp) {
					continue
				}
				if pkg == home && !r.testOnly {
					seen = true
				} else {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
			for _, imp := range info.testImports {
				if r.testOnly && matches(imp) {
					if pkg == home {
						seen = true
					} else {
						t.Errorf("the tests of %s import %s: %s", pkg, imp, r.why)
					}
				}
			}
		}
		if !seen {
			t.Errorf("%s does not import %s: the rule would prove nothing", r.home, r.libs)
		}
	}
}

// TestLayers: the layers below a package do not depend on it or its
// library. The generator runs at boot and links neither D-Bus nor the
// documentation; the parser, the unit writer, the API and supersede
// run do not depend on systemd's bus.
func TestLayers(t *testing.T) {
	for _, r := range []struct {
		pkgs   []string
		banned []string // packages, or library prefixes ending in "/"
	}{
		{[]string{"cmd/supersede-generator"}, []string{module + "/internal/clidoc", "github.com/spf13/cobra", "github.com/godbus/dbus/v5"}},
		{[]string{"translate", "unitgen", "internal/status", "internal/xmlrpc", "internal/ctl", "fallback"}, []string{module + "/internal/sysd", "github.com/godbus/dbus/v5"}},
	} {
		for _, pkg := range r.pkgs {
			for _, dep := range deps(t, pkg) {
				for _, b := range r.banned {
					if dep == b || strings.HasPrefix(dep, b+"/") {
						t.Errorf("%s depends on %s", pkg, dep)
					}
				}
			}
		}
	}
}

// TestTestSupport: the packages that hold tests' machinery (real
// managers, real supervisord, hostile payloads) are linked by no binary
// supersede ships, and internal/hostile, the payloads the fault suites
// send to run and serve, depends on nothing of the module: the suites
// share no code with what they test.
func TestTestSupport(t *testing.T) {
	support := []string{"internal/hostile", "internal/testreal", "internal/sdtest", "internal/fallbacktest"}
	for _, bin := range []string{"cmd/supersede", "cmd/supersede-generator"} {
		for _, dep := range deps(t, bin) {
			for _, s := range support {
				if dep == module+"/"+s {
					t.Errorf("%s depends on %s, which is test support", bin, s)
				}
			}
		}
	}
	for _, dep := range deps(t, "internal/hostile") {
		if dep != module+"/internal/hostile" && strings.HasPrefix(dep, module+"/") {
			t.Errorf("internal/hostile depends on %s: the payloads must not share code with the servers they test", dep)
		}
	}
	// the rule proves something only while the suites use the corpus
	used := map[string]bool{}
	for pkg, info := range list(t) {
		if slices.Contains(info.testImports, module+"/internal/hostile") {
			used[strings.TrimPrefix(pkg, module+"/")] = true
		}
	}
	for _, want := range []string{"fallback/faults", "cmd/supersede"} {
		if !used[want] {
			t.Errorf("the tests of %s do not send internal/hostile's corpus", want)
		}
	}
}
