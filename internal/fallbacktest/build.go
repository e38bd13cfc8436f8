package fallbacktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// The real Supervisor's programs, from Debian's supervisor package.
const (
	SupervisordPath   = "/usr/bin/supervisord"
	SupervisorctlPath = "/usr/bin/supervisorctl"
)

// supersedePackage is what Supersede builds.
const supersedePackage = "github.com/supersede/supersede/cmd/supersede"

var build struct {
	sync.Mutex
	inMain bool   // Main is running the tests
	dir    string // holds the binary; removed by Main
	path   string
	err    error
	done   bool
}

// Main runs the tests of a package that uses this harness and removes
// what the harness built. Call it from TestMain:
//
//	func TestMain(m *testing.M) { fallbacktest.Main(m) }
func Main(m *testing.M) {
	build.Lock()
	build.inMain = true
	build.Unlock()
	code := m.Run()
	build.Lock()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	build.Unlock()
	os.Exit(code)
}

// RequireSupervisor stops the test (skip, or fail under CI=true) unless
// the real supervisord and supervisorctl are installed.
func RequireSupervisor(t testing.TB) {
	t.Helper()
	testreal.RequireSupervisor(t)
	for _, p := range []string{SupervisordPath, SupervisorctlPath} {
		if _, err := os.Stat(p); err != nil {
			testreal.Missing(t, p+" is not installed (make deps)")
		}
	}
}

// RequireSupersede returns the supersede binary, built from this module with
// `go build` the first time a test of the process asks for it. The test
// stops (skip, or fail under CI=true) when there is no go command; a
// build error fails it.
func RequireSupersede(t testing.TB) string {
	t.Helper()
	build.Lock()
	defer build.Unlock()
	if !build.inMain {
		t.Fatal("fallbacktest: call fallbacktest.Main(m) from TestMain to use supersede")
	}
	if !build.done {
		build.done = true
		build.path, build.err = buildSupersede()
	}
	if build.err != nil {
		if _, ok := build.err.(*exec.Error); ok {
			testreal.Missing(t, fmt.Sprintf("cannot build supersede: %v", build.err))
		}
		t.Fatalf("fallbacktest: %v", build.err)
	}
	return build.path
}

// buildSupersede builds cmd/supersede into a new temporary directory
// (recorded in build.dir). The caller holds build's lock.
func buildSupersede() (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "fallbacktest-bin-")
	if err != nil {
		return "", err
	}
	build.dir = dir
	path := filepath.Join(dir, "supersede")
	cmd := exec.Command(gobin, "build", "-o", path, supersedePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", supersedePackage, err, out)
	}
	return path, nil
}
