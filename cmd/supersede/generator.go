package main

import (
	"context"

	"github.com/supersede/supersede/internal/generator"
)

// runGenerator is `supersede generator NORMAL [EARLY LATE]`, the same
// program as cmd/supersede-generator (which links less; install that one
// where boot time matters).
func runGenerator(_ context.Context, e *env) error {
	if len(e.args) == 1 && (e.args[0] == "-h" || e.args[0] == "--help") {
		e.stderr.Write([]byte("usage: supersede generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n\nThe systemd generator: writes units for the supervisord.conf ($" + generator.ConfigEnv + ", else where supervisord looks) into LATE-DIR.\n"))
		return nil
	}
	stop := generator.Watchdog(e.stderr)
	defer stop()
	// Run by hand, it talks to the terminal; run by systemd (under the
	// name supersede-generator), it logs to the kernel log.
	log, closeLog := generator.Plain(e.stderr), func() {}
	if isGeneratorName(e.exe) {
		log, closeLog = generator.Log(e.stderr, e.environ)
	}
	defer closeLog()
	if code := generator.Main(e.args, generator.Options{Exe: e.exe, Environ: e.environ, Log: log, Shim: selfPath(e.exe)}); code != 0 {
		return &exitCode{code}
	}
	return nil
}
