// Command supersede-generator is supersede's systemd generator: install it
// (or a symlink to it) in /usr/lib/systemd/system-generators/ and systemd
// runs it at boot and on every daemon-reload, so supervisord.conf stays
// the source of truth for the units. `supersede generator` is the same
// program.
//
// Usage (by systemd): supersede-generator NORMAL-DIR [EARLY-DIR LATE-DIR]
//
// It reads $SUPERSEDE_CONFIG, else the file named at build time with
// -ldflags "-X main.config=/etc/supervisor/supervisord.conf", else the
// file supervisord would find, and writes units into LATE-DIR. It links
// neither D-Bus nor HTTP (see deps_test.go).
package main

import (
	"os"

	"github.com/supersede/supersede/internal/generator"
)

// config is a config file named at build time.
var config string

func main() {
	log, closeLog := generator.Log(os.Stderr)
	stop := generator.Watchdog(log)
	code := generator.Main(os.Args[1:], generator.Options{Exe: os.Args[0], Environ: os.Environ(), Log: log, Config: config})
	stop()
	closeLog()
	os.Exit(code)
}
