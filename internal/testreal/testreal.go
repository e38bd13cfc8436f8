// Package testreal serves tests that need a real part of the system:
// Debian's python3 with Supervisor 4.2.5, and the shared/ directory of
// oracle cases and corpus beside the repository. Without the part a test
// skips and says why; under CI=true it fails instead, because .ci/run
// installs everything, so a CI run cannot pass without running them.
package testreal

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Python is the interpreter that runs supervisord on Debian.
const Python = "/usr/bin/python3"

// SupervisorPackage is where Debian's supervisor package installs Supervisor.
const SupervisorPackage = "/usr/lib/python3/dist-packages/supervisor"

// InCI reports whether missing parts must fail tests rather than skip them.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with why, or fails it under CI=true.
func Missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: required)", why)
	}
	t.Skip(why)
}

// RequirePython returns Python, or stops the test if it is not installed.
func RequirePython(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		Missing(t, Python+" is not installed (apt-get install python3)")
	}
	return Python
}

// RequireSupervisor stops the test unless Debian's supervisor is installed.
func RequireSupervisor(t testing.TB) {
	t.Helper()
	RequirePython(t)
	if _, err := os.Stat(filepath.Join(SupervisorPackage, "options.py")); err != nil {
		Missing(t, "Debian's supervisor package is not installed (make deps)")
	}
}

// RunPython runs script with Python, its standard input the JSON of in,
// and decodes its standard output as JSON into out.
func RunPython(t testing.TB, script string, in, out any) {
	t.Helper()
	py := RequirePython(t)
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8", "PYTHONUTF8=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", py, err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("decoding the output of %s: %v", py, err)
	}
}

// Shared returns the shared/ directory: $SUPERSEDE_SHARED, or shared/
// beside the repository that holds the current directory.
func Shared(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SUPERSEDE_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(filepath.Join(shared, "oracle", "cases")); err == nil {
				return shared
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	Missing(t, "shared/ (oracle cases and corpus) is not beside the repository; set SUPERSEDE_SHARED")
	return ""
}
