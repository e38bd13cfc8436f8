// Package generator is supersede's systemd generator (systemd.generator(7),
// reference/systemd.md §3): at boot and on every daemon-reload it reads
// the supervisord.conf and writes units for it into the late generator
// directory, so an admin's own unit of the same name always wins, and
// enables autostart programs with <target>.wants/ symlinks.
//
// It only reads the config and writes files: no D-Bus, no network, no
// child processes (a dependency test in cmd/supersede-generator keeps it
// so), and a watchdog ends it long before systemd's 90 s timeout.
//
// A config error writes no unit at all, logs every error with its
// file:line (to /dev/kmsg when writable, else stderr) and exits 1:
// systemd logs the failure and the reload goes on; programs already
// running keep running, and `supersede show` or `supersede convert`
// explain the error.
package generator

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Name is how the generator names itself in its messages.
const Name = "supersede-generator"

// ConfigEnv names the environment variable that points the generator at
// a config file; it wins over the built-in choice.
const ConfigEnv = "SUPERSEDE_CONFIG"

// Timeout is how long the generator may run before it gives up.
const Timeout = 20 * time.Second

// maxWarnings is how many warnings are logged one by one at each run.
const maxWarnings = 10

// Options are the generator's inputs besides its arguments.
type Options struct {
	Exe     string   // argv[0], for Supervisor's config search
	Environ []string // the manager's environment
	Log     io.Writer
	Config  string // a config named at install time (ldflags); "" means search
	// Shim is the supersede binary the units run as their compatibility
	// step; "" means the supersede beside the generator's own executable
	// (make install puts them side by side), if there is one.
	Shim string
}

// FindShim is the supersede binary beside exe (after symlinks), or "" if
// there is none.
func FindShim(exe string) string {
	p, err := os.Executable()
	if err != nil {
		p = exe
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	shim := filepath.Join(filepath.Dir(p), "supersede")
	if fi, err := os.Stat(shim); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return ""
	}
	return shim
}

// Main runs the generator with args (NORMAL [EARLY LATE]) and returns the
// exit code.
func Main(args []string, opts Options) int {
	lg := &logger{w: opts.Log}
	if len(args) != 1 && len(args) != 3 {
		lg.printf(3, "usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR]", Name)
		return 2
	}
	late := args[len(args)-1]
	user := getenv(opts.Environ, "SYSTEMD_SCOPE") == "user"

	path, err := configPath(opts, user)
	if err != nil {
		lg.printf(3, "%v", err)
		return 1
	}
	if path == "" {
		return 0 // no config: nothing to generate
	}
	cfg, err := translate.Load(path, translate.Options{Environ: opts.Environ, Dir: "/"})
	if err == nil {
		err = generate(cfg, path, late, user, opts, lg)
		if err == nil {
			return 0
		}
	}
	var list translate.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			lg.printf(3, "%s", e)
		}
		lg.printf(3, "no units written for %s: fix it, then run 'systemctl daemon-reload'", path)
		return 1
	}
	lg.printf(3, "%s: %v", path, err)
	return 1
}

// generate maps cfg and writes its units into late. The units are
// written as they are made, from another goroutine, so that the kernel's
// time creating the files overlaps with the mapping; should the mapping
// fail, what was written is removed.
func generate(cfg *translate.Config, path, late string, user bool, opts Options, lg *logger) error {
	shim := opts.Shim
	if shim == "" {
		shim = FindShim(opts.Exe)
	}
	fw, err := unitgen.NewFreshWriter(late, true)
	if err != nil {
		return err
	}
	res, err := unitgen.Generate(cfg, unitgen.Options{User: user, Environ: opts.Environ, Dir: "/", Shim: shim,
		Serve: serveExecutable(opts.Exe), Emit: fw.Add, MaxWarnings: maxWarnings})
	if err != nil {
		if derr := fw.Discard(); derr != nil {
			lg.printf(3, "removing the units written before the error: %v", derr)
		}
		return err
	}
	if shim == "" {
		lg.printf(4, "warning: no supersede binary beside the generator: the units restart without Supervisor's backoff and startsecs (make install puts both into PREFIX/bin)")
	}
	for _, w := range res.Warnings {
		lg.printf(4, "warning: %s", w)
	}
	if res.MoreWarnings > 0 {
		lg.printf(4, "%d more warnings: run 'supersede convert -c %s' to see them all", res.MoreWarnings, path)
	}
	_, err = fw.Close()
	return err
}

// configPath is the config to read: $SUPERSEDE_CONFIG, the one named at
// install time, or (system manager) where supervisord looks, or (user
// manager) $XDG_CONFIG_HOME/supervisor/supervisord.conf. "" means none
// exists, which is not an error.
func configPath(opts Options, user bool) (string, error) {
	if p := getenv(opts.Environ, ConfigEnv); p != "" {
		return p, nil
	}
	if opts.Config != "" {
		return opts.Config, nil
	}
	if user {
		dir := getenv(opts.Environ, "XDG_CONFIG_HOME")
		if dir == "" {
			home := getenv(opts.Environ, "HOME")
			if home == "" {
				return "", nil
			}
			dir = filepath.Join(home, ".config")
		}
		p := filepath.Join(dir, "supervisor", "supervisord.conf")
		if _, err := os.Stat(p); err != nil {
			return "", nil
		}
		return p, nil
	}
	p, err := translate.FindConfig(opts.Exe, "/")
	if errors.Is(err, translate.ErrNoConfig) {
		return "", nil
	}
	return p, err
}

func getenv(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// logger writes kmsg-style lines: "<3>supersede-generator: msg".
type logger struct{ w io.Writer }

func (l *logger) printf(level int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(l.w, "<%d>%s: %s\n", level, Name, line)
	}
}

// Log returns where the generator should log, and a function to close
// it. Like systemd's own generators it honours $SYSTEMD_LOG_TARGET:
// "console" (or "console-prefixed") is stderr; otherwise the kernel log
// (/dev/kmsg, systemd.generator(7)) when it can be written, else stderr.
func Log(stderr io.Writer, environ []string) (io.Writer, func()) {
	switch getenv(environ, "SYSTEMD_LOG_TARGET") {
	case "console", "console-prefixed":
		return Plain(stderr), func() {}
	}
	if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
		return f, func() { f.Close() }
	}
	return Plain(stderr), func() {}
}

// Plain is w without the kmsg level prefixes, for a terminal or a log
// file.
func Plain(w io.Writer) io.Writer { return &stripLevel{w} }

// stripLevel drops the "<N>" kmsg prefix for a plain stderr.
type stripLevel struct{ w io.Writer }

func (s *stripLevel) Write(p []byte) (int, error) {
	q := p
	if len(q) > 3 && q[0] == '<' && q[2] == '>' {
		q = q[3:]
	}
	if _, err := s.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Watchdog ends the process with exit code 1 if it runs longer than
// Timeout: a generator must never hang the boot. It returns a stop
// function.
func Watchdog(log io.Writer) func() {
	t := time.AfterFunc(Timeout, func() {
		(&logger{w: log}).printf(3, "gave up after %s (is the config on a file system that does not answer?)", Timeout)
		os.Exit(1)
	})
	return func() { t.Stop() }
}
