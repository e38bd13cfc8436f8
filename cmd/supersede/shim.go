package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/supersede/supersede/internal/shim"
)

// runShim is `supersede shim STEP ARGS`, the compatibility step that
// converted units run around a program (internal/shim). systemd stops a
// unit waiting in a step with SIGTERM, which must end it as it would any
// program: main's handler is taken off first.
func runShim(_ context.Context, e *env) error {
	signal.Reset(syscall.SIGTERM, syscall.SIGINT)
	if code := shim.Main(e.args, e.environ, e.stderr); code != 0 {
		return &exitCode{code}
	}
	return nil
}

// selfPath is the absolute path of the running supersede, which units
// run as their compatibility step; "" if it cannot be told.
func selfPath() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return exe
}
