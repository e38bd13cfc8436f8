package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/internal/clidoc"
	"github.com/supersede/supersede/internal/daemon"
)

// version is set with -ldflags "-X main.version=..."; it falls back to
// the module version from the build info.
var version string

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "dev"
}

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitConfig  = 2 // configuration or usage error
)

// usageError is a problem with the command line; it exits 2 and may carry
// a hint.
type usageError struct {
	err     error
	hint    string
	flagErr bool // pflag's message about the command line
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// configError is a configuration the user must fix; it exits 2. Its
// messages were printed already.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// env is the process environment given to a command.
type env struct {
	args    []string // after the command name
	environ []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	exe     string // argv[0]

	// describe, if not nil, receives the command's flag set: parseFlags
	// stores it there and ends the command with errDescribed (help.go).
	describe **pflag.FlagSet
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env) error
	pflags  bool   // run defines its flags with flagSet and calls parseFlags before anything else
	args    string // the positional arguments in its usage line
	about   string // what help NAME and the man page say about it
	hidden  bool   // left out of the list of commands, man pages and completion
}

var commands []command

func init() {
	commands = []command{
		{name: "show", summary: "print what Supervisor would understand of a supervisord.conf", run: runShow, pflags: true, about: aboutShow},
		{name: "convert", summary: "write systemd units equivalent to a supervisord.conf", run: runConvert, pflags: true, about: aboutConvert},
		{name: "ctl", summary: "control the programs as supervisorctl does, through systemd (or supersede run)", run: runCtl, args: "[action [arguments]]", about: aboutCtl},
		{name: "run", summary: "supervise the programs of a supervisord.conf, as supervisord", run: runDaemon, pflags: true, about: aboutRun},
		{name: "serve", summary: "serve supervisord's XML-RPC API for the units of a supervisord.conf", run: runServe, pflags: true, about: aboutServe},
		{name: "migrate", summary: "move a live host from supervisord to systemd, group by group, with a way back", run: runMigrate, pflags: true, about: aboutMigrate},
		{name: "generator", summary: "the systemd generator: write units for the config at boot", run: runGenerator, args: "NORMAL-DIR [EARLY-DIR LATE-DIR]", about: aboutGenerator},
		{name: "shim", summary: "the compatibility step that converted units run (docs/MAPPING.md)", run: runShim, args: "STEP ARGS", hidden: true},
		{name: "sample-config", summary: "print Supervisor's sample supervisord.conf (echo_supervisord_conf)", run: runSampleConfig, pflags: true, about: aboutSampleConfig},
		{name: "completion", summary: "print the shell completion script for bash, zsh or fish", run: runCompletion, pflags: true, args: "SHELL", about: aboutCompletion},
		{name: "version", summary: "print the version (also -v, --version)", run: func(_ context.Context, e *env) error {
			fmt.Fprintln(e.stdout, "supersede", buildVersion())
			return nil
		}},
		{name: "help", summary: "show help for a command", run: runHelp, args: "[COMMAND]"},
		{name: clidoc.CompleteCommand, summary: "the completion scripts' callback", run: runComplete(clidoc.CompleteCommand), hidden: true},
		{name: clidoc.CompleteNoDescCommand, summary: "the completion scripts' callback, without descriptions", run: runComplete(clidoc.CompleteNoDescCommand), hidden: true},
	}
	commands = append(commands, manCommands...)
}

// run dispatches argv, prints an error once and maps it to an exit code.
func run(ctx context.Context, argv, environ []string, stdout, stderr io.Writer) int {
	if len(argv) == 0 {
		argv = []string{"supersede"}
	}
	e := &env{environ: environ, stdin: os.Stdin, stdout: stdout, stderr: stderr, exe: argv[0]}
	args := argv[1:]
	// Invoked by another name (a symlink), supersede is that program.
	if name, ok := invocationNames[filepath.Base(argv[0])]; ok {
		args = append([]string{name}, args...)
	}
	if len(args) == 0 {
		usage(stderr)
		return exitConfig
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		usage(stdout)
		return exitOK
	}
	if name == "--version" || name == "-v" {
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			e.args = args[1:]
			return report(c.run(ctx, e), stderr, styleOf(argv[0], name))
		}
	}
	return report(&usageError{err: fmt.Errorf("unknown command %q", name), hint: "run 'supersede help' for the list"}, stderr, errorStyle{prefix: "supersede"})
}

// errorStyle is how a command's errors are printed: after its name as
// invoked ("supersede run: ..."), or as supervisord prints its own when
// supersede is invoked under that name.
type errorStyle struct {
	prefix string
	// supervisord, when not empty, is the path supervisord names in its
	// "For help, use PATH -h": errors are printed as supervisord's
	// ("Error: ...").
	supervisord string
}

// styleOf is the error style of the command name run through argv0.
func styleOf(argv0, name string) errorStyle {
	switch {
	case name == "run" && isSupervisordName(argv0):
		return errorStyle{supervisord: supervisordPath(argv0)}
	case name == "run":
		return errorStyle{prefix: "supersede run"}
	}
	return errorStyle{prefix: "supersede"}
}

func isSupervisordName(exe string) bool { return invocationNames[filepath.Base(exe)] == "run" }

// supervisordPath is supervisord's sys.argv[0] for this invocation: the
// interpreter runs the script by the path the shell found it at.
func supervisordPath(argv0 string) string {
	if !strings.Contains(argv0, "/") {
		if p, err := exec.LookPath(argv0); err == nil {
			return p
		}
	}
	return argv0
}

// invocationNames maps the names supersede may be installed under to
// the command it then runs.
var invocationNames = map[string]string{
	"supersede-generator":   "generator",
	"supervisord":           "run",
	"supervisorctl":         "ctl",
	"echo_supervisord_conf": "sample-config",
}

func isGeneratorName(exe string) bool { return invocationNames[filepath.Base(exe)] == "generator" }

func isSampleName(exe string) bool { return invocationNames[filepath.Base(exe)] == "sample-config" }

// exitCode is a command's own exit code, already explained on stderr.
type exitCode struct{ code int }

func (e *exitCode) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func report(err error, stderr io.Writer, style errorStyle) int {
	if err == nil {
		return exitOK
	}
	say := func(err error) {
		if style.supervisord != "" {
			fmt.Fprintf(stderr, "Error: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", style.prefix, err)
		}
	}
	var ec *exitCode
	if errors.As(err, &ec) {
		return ec.code
	}
	var xe *exitError
	if errors.As(err, &xe) {
		say(xe.err)
		return xe.code
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	var de *daemon.UsageError
	switch {
	case style.supervisord != "" && (errors.As(err, &ue) || errors.As(err, &de)):
		// supervisord's usage(): no hint of ours, its pointer to -h
		msg := err.Error()
		if ue != nil && ue.flagErr {
			msg = getoptMessage(msg)
		}
		fmt.Fprintf(stderr, "Error: %s\nFor help, use %s -h\n", msg, style.supervisord)
		return exitConfig
	case errors.As(err, &ue):
		say(ue.err)
		if ue.hint != "" {
			fmt.Fprintf(stderr, "%s\n", ue.hint)
		}
		return exitConfig
	case errors.As(err, &de):
		say(de)
		return exitConfig
	}
	var ce *configError
	if errors.As(err, &ce) {
		return exitConfig
	}
	say(err)
	return exitRuntime
}

// getoptMessage is Python getopt's message, as supervisord prints it,
// for a flag error of pflag's.
func getoptMessage(msg string) string {
	if f, ok := strings.CutPrefix(msg, "unknown flag: "); ok {
		return "option " + f + " not recognized"
	}
	if rest, ok := strings.CutPrefix(msg, "unknown shorthand flag: "); ok {
		if _, f, ok := strings.Cut(rest, " in "); ok {
			return "option " + f + " not recognized"
		}
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		if _, f, ok := strings.Cut(rest, " in "); ok {
			rest = f
		}
		return "option " + rest + " requires argument"
	}
	return msg
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: supersede COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "run 'supersede help COMMAND' for its flags, or see man supersede-COMMAND")
}

func runHelp(ctx context.Context, e *env) error {
	if len(e.args) == 0 {
		usage(e.stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == e.args[0] && !c.hidden {
			if c.name == "ctl" {
				// supervisorctl's own usage text, as ctl -h prints it
				e2 := *e
				e2.args = []string{"--help"}
				e2.stderr = e.stdout
				return c.run(ctx, &e2)
			}
			commandUsage(e.stdout, c, describeFlags(c))
			return nil
		}
	}
	return &usageError{err: fmt.Errorf("unknown command %q", e.args[0])}
}

// flagSet makes a subcommand's flag set, printing to e.stderr; its
// --help prints what help NAME prints (help.go).
func flagSet(e *env, name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		for _, c := range commands {
			if c.name == name {
				commandUsage(e.stderr, c, fs)
			}
		}
	}
	if e.describe != nil {
		*e.describe = fs
		describing.Store(fs, true)
	}
	return fs
}

// describing holds the flag sets of commands run only to be described.
var describing sync.Map

// parseFlags parses args and turns a flag error into a usage error. When
// the command is only being described (env.describe), it ends it with
// errDescribed instead.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if _, ok := describing.LoadAndDelete(fs); ok {
		return errDescribed
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &usageError{err: err, hint: "run 'supersede help " + fs.Name() + "'", flagErr: true}
	}
	return nil
}
