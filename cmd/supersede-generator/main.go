// Command supersede-generator is supersede's systemd generator: install it
// (or a symlink to it) in /usr/lib/systemd/system-generators/ and systemd
// runs it at boot and on every daemon-reload, so supervisord.conf stays
// the source of truth for the units. `supersede generator` is the same
// program.
//
// Usage (by systemd): supersede-generator NORMAL-DIR [EARLY-DIR LATE-DIR]
//
// It logs to the kernel log (stderr with SYSTEMD_LOG_TARGET=console). It
// reads $SUPERSEDE_CONFIG, else the file named at build time with
// -ldflags "-X main.config=/etc/supervisor/supervisord.conf", else the
// file supervisord would find, and writes units into LATE-DIR. It links
// neither D-Bus nor HTTP (internal/depcheck).
package main

import (
	"os"
	"runtime/debug"

	"github.com/supersede/supersede/internal/generator"
)

// config is a config file named at build time.
var config string

func main() {
	// A run allocates some tens of MB and exits: collecting garbage would
	// only cost time at boot. The memory limit turns the collector back on
	// should a huge config need it. $GOGC still wins. All that memory is
	// fresh from the kernel: in huge pages it costs far fewer faults.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
		generator.HugeHeap()
	}
	log, closeLog := generator.Log(os.Stderr, os.Environ())
	stop := generator.Watchdog(log)
	code := generator.Main(os.Args[1:], generator.Options{Exe: os.Args[0], Environ: os.Environ(), Log: log, Config: config})
	stop()
	closeLog()
	os.Exit(code)
}
