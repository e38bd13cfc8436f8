package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/supersede/supersede/internal/shim"
	"github.com/supersede/supersede/internal/sysd"
)

// runShim is `supersede shim STEP ARGS`, the compatibility step that
// converted units run around a program (internal/shim). systemd stops a
// unit waiting in a step with SIGTERM, which must end it as it would any
// program: main's handler is taken off first.
func runShim(_ context.Context, e *env) error {
	signal.Reset(syscall.SIGTERM, syscall.SIGINT)
	shim.UnitJob = sysd.StepUnitJob
	if code := shim.Main(e.args, e.environ, e.stderr); code != 0 {
		return &exitCode{code}
	}
	return nil
}

// selfPath is the absolute path of the running supersede as it was
// invoked (argv[0]: the installed /usr/local/bin/supersede rather than
// the file a symlink leads to, so units keep working across upgrades),
// which units run as their compatibility step; invoked as supervisorctl
// or supervisord (or supersede-generator), the supersede beside that
// name. "" if there is none: the units then do without the step. go
// run's build counts as none: the go tool removes it when it exits, and
// units running it would fail every start.
func selfPath(argv0 string) string {
	var candidates []string
	if strings.Contains(argv0, "/") {
		candidates = append(candidates, argv0)
	} else if lp, err := exec.LookPath(argv0); err == nil {
		candidates = append(candidates, lp)
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, exe)
	}
	for _, p := range candidates {
		p, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if filepath.Base(p) != "supersede" {
			p = filepath.Join(filepath.Dir(p), "supersede")
		}
		if goRunBuild(p) {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// goRunBuild tells whether p is a binary go run built: the go tool links
// it as $GOTMPDIR/go-buildNNN/bNNN/exe/NAME and removes it when the
// program exits (cmd/go/internal/work: the work directory's "exe").
func goRunBuild(p string) bool {
	exe := filepath.Dir(p)
	b := filepath.Dir(exe)
	return filepath.Base(exe) == "exe" && strings.HasPrefix(filepath.Base(b), "b") &&
		strings.HasPrefix(filepath.Base(filepath.Dir(b)), "go-build")
}

// noSelfReason says why selfPath found no supersede for argv0, for the
// warnings of convert and migrate.
func noSelfReason(argv0 string) string {
	if p, err := os.Executable(); err == nil && goRunBuild(p) {
		return "this is a binary of go run, which the go tool removes when it exits"
	}
	return "this binary is not named supersede and has no supersede beside it"
}
