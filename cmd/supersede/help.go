package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/internal/clidoc"
	"github.com/supersede/supersede/internal/ctl"
	"github.com/supersede/supersede/translate"
)

// The help texts: `supersede help NAME` prints a command's synopsis
// (generated from its flags), its about text and its flags; the man
// pages and the shell completion are generated from the same (docs.go).

const aboutSupersede = `supersede retires Supervisor (supervisord and supervisorctl). It reads supervisord.conf exactly as Supervisor 4.2.5 does, includes, %(here)s, %(program_name)s, %(process_num)02d, %(ENV_X)s, numprocs and defaults, so that an existing configuration keeps its meaning.

show prints what Supervisor would understand of a configuration; convert turns it into equivalent systemd units, and the systemd generator keeps those units in step with the file; ctl is supervisorctl on top of systemd; migrate moves a running supervisord's programs onto the units, group by group, with a way back; run supervises the programs itself, as supervisord does, where systemd is not running.

Invoked as supervisorctl (a symlink), supersede is supersede ctl; as supervisord, supersede run; as echo_supervisord_conf, supersede sample-config; as supersede-generator, supersede generator.

Exit status: 0 on success, 1 on a runtime error, 2 on a configuration or usage error (configuration errors are printed to stderr as file:line: message lines, every problem found, the one supervisord itself would report first). ctl exits as supervisorctl does; run also exits 3 after --exit-on-fatal.`

const aboutShow = `Prints what Supervisor 4.2.5 would understand of a supervisord.conf and its includes: a summary for people, or with --json one JSON document of everything Supervisor would read (the document supersede's tests compare with the one Supervisor's own parser gives, so that any difference is a diff). Without -c the file is searched for where supervisord searches (PREFIX/etc/supervisord.conf and PREFIX/supervisord.conf for an executable in PREFIX/bin, ./supervisord.conf, ./etc/supervisord.conf, /etc/supervisord.conf, /etc/supervisor/supervisord.conf).

Configuration errors go to stderr as file:line: message lines, every problem found, each with what to do; without --json, show also notes what Supervisor silently ignores and is probably a mistake (an unknown key, a section it does not read). --lenient reads a configuration written for another host: no user or directory checks, placeholders for unset %(ENV_X)s, a conf.d snippet loads as if included.

Exit status: 0 the configuration is valid; 1 a runtime error; 2 a configuration or usage error.`

const aboutConvert = `Turns the configuration into systemd units that behave as Supervisor did: a NAME.service for each process (G@NAME.service in a group), a G.target for each group, NAME.socket for an fcgi-program, and supersede.target, which stands for supervisord: it wants every autostart program. Without -o the units are printed; with -o DIR they are written there (for example /etc/systemd/system, or ~/.config/systemd/user with --user), each atomically, and a unit supersede did not write is never replaced without --force.

Where no systemd directive does what Supervisor does (its 1 s, 2 s, 3 s backoff between failed starts, startsecs, the chdir error, the C.UTF-8 locale), the units run supersede's compatibility step before and after the program (--shim PATH, this supersede by default; docs/MAPPING.md). What cannot be mapped exactly is a warning on stderr naming file:line and what differs; --strict makes warnings errors. A command supervisord cannot spawn fails only its own unit. After writing, enable the units with systemctl daemon-reload and systemctl enable --now supersede.target.

Exit status: 0 written (or printed); 1 a runtime error, such as a unit of the same name that supersede did not write (then nothing is written); 2 a configuration or usage error, or a warning under --strict (nothing is written).`

const aboutGenerator = `The systemd generator: systemd runs it at boot and on every daemon-reload (installed as /usr/lib/systemd/system-generators/supersede-generator), and it writes the units of the supervisord.conf into LATE-DIR, so that the configuration stays the source of truth. It reads $SUPERSEDE_CONFIG, else the file supervisord would find; under a user manager $XDG_CONFIG_HOME/supervisor/supervisord.conf. With one directory (by hand), it writes there.

On a configuration error it writes no unit, logs each error with its file:line to the kernel log (stderr when run by hand) and exits 1.`

const aboutCtl = `supervisorctl 4.2.5 (installed as supervisorctl, a symlink, it is that command): the same actions with the same arguments, output and exit codes, and the supervisor> shell with line editing, history and Tab completion. Under systemd (--user, --system, or a host booted with systemd and no -s URL) the program names of the configuration are mapped to the units convert wrote, and each action becomes D-Bus calls to the manager; otherwise ctl talks XML-RPC to the server of -s or [supervisorctl] serverurl: supersede run or a real supervisord.

Actions: add, avail, clear, exit, fg, help, maintail, open, pid, quit, reload, remove, reread, restart, shutdown, signal, start, status, stop, tail, update, version; "help ACTION" explains one.

Exit status: as supervisorctl: 0, 1, 2 (usage), 3 (a process is not running, for status), 4, 7 (no server).`

const aboutRun = `Supervises the programs of the configuration itself, as supervisord 4.2.5 does, with supervisord's options (installed as supervisord, a symlink, it is that command): for hosts without systemd (containers, minimal hosts, CI images). It keeps Supervisor's state machine, log files and event listeners, and serves Supervisor's XML-RPC API on the configured sockets, so that supervisorctl (or supersede ctl) works unchanged. Command-line options override the [supervisord] section.

Exit status: 0 after an orderly stop (SIGTERM, SIGINT, SIGQUIT, the shutdown call); 1 a runtime error; 2 a usage or configuration error; 3 after --exit-on-fatal.`

const aboutSampleConfig = `Prints Supervisor 4.2.5's sample configuration, byte for byte what echo_supervisord_conf prints (invoked as echo_supervisord_conf, supersede is this command, and ignores its arguments as Supervisor's does). The tutorial's first step: supersede sample-config > supervisord.conf, then add a [program:x] section; show accepts the file as it is, and convert converts it without a warning.`

const aboutCompletion = `Prints the completion script for SHELL (bash, zsh or fish): subcommands, their flags, and for ctl the actions and the program names of the configuration (-c, or where supervisorctl looks), as the supervisor> shell completes them. make install installs all three. To load one by hand:

bash: source <(supersede completion bash)
zsh: supersede completion zsh > "${fpath[1]}/_supersede", then compinit
fish: supersede completion fish | source`

// errDescribed ends a command that was run only to learn its flags.
var errDescribed = errors.New("flags described")

// describeFlags returns the flag set of a command whose flags are pflags
// (command.pflags): it runs the command with e.describe set, so that
// parseFlags records the flag set and stops it before it does anything.
func describeFlags(c command) *pflag.FlagSet {
	if !c.pflags {
		return nil
	}
	var fs *pflag.FlagSet
	e := &env{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), exe: "supersede", describe: &fs}
	if err := c.run(context.Background(), e); !errors.Is(err, errDescribed) || fs == nil {
		panic(fmt.Sprintf("supersede %s: its flags could not be described (%v): it must call parseFlags first", c.name, err))
	}
	return fs
}

// synopsis is a command's usage line after its name: every flag that is
// not hidden, in its order, with its value's name (the `NAME` in its
// usage text), then the positional arguments.
func synopsis(fs *pflag.FlagSet, args string) string {
	var parts []string
	if fs != nil {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			name := "--" + f.Name
			if f.Shorthand != "" {
				name = "-" + f.Shorthand
			}
			varname, _ := pflag.UnquoteUsage(f)
			switch {
			case f.Value.Type() == "bool":
				parts = append(parts, "["+name+"]")
			case f.NoOptDefVal != "":
				parts = append(parts, "[--"+f.Name+"[="+varname+"]]")
			case strings.HasSuffix(f.Value.Type(), "Array") || strings.HasSuffix(f.Value.Type(), "Slice"):
				parts = append(parts, "["+name+" "+varname+"]...")
			default:
				parts = append(parts, "["+name+" "+varname+"]")
			}
		})
	}
	if args != "" {
		parts = append(parts, args)
	}
	return strings.Join(parts, " ")
}

// wrap folds text at width columns, keeping its line breaks.
func wrap(text string, width int) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		col := 0
		for j, w := range strings.Fields(line) {
			if j > 0 && col+1+len(w) > width {
				b.WriteByte('\n')
				col = 0
			} else if j > 0 {
				b.WriteByte(' ')
				col++
			}
			b.WriteString(w)
			col += len(w)
		}
	}
	return b.String()
}

// commandUsage prints `supersede help NAME`: the usage line, the about
// text and the flags.
func commandUsage(w io.Writer, c command, fs *pflag.FlagSet) {
	line := "usage: supersede " + c.name
	if s := synopsis(fs, c.args); s != "" {
		line += " " + s
	}
	fmt.Fprintln(w, line)
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(c.about, 78))
	}
	if fs != nil && fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// program describes supersede for man pages and completion.
func program(exe string) *clidoc.Program {
	root := pflag.NewFlagSet("supersede", pflag.ContinueOnError)
	root.BoolP("version", "v", false, "print the version and exit")
	root.BoolP("help", "h", false, "print the list of commands and exit")
	p := &clidoc.Program{Name: "supersede", Summary: "retire Supervisor: supervisord.conf read as Supervisor does, on systemd or without it",
		About: aboutSupersede, Version: buildVersion(), Flags: root}
	for _, c := range commands {
		if c.hidden {
			continue
		}
		fs := describeFlags(c)
		d := clidoc.Command{Name: c.name, Summary: c.summary, About: c.about, Flags: fs,
			Synopsis: synopsis(fs, c.args)}
		switch c.name {
		case "convert":
			d.DirFlags = []string{"output"}
		case "migrate":
			d.DirFlags = []string{"output", "link-dir"}
		case "run":
			d.DirFlags = []string{"directory", "childlogdir"}
		case "generator":
			d.Synopsis, d.DirFlags = c.args, nil
		case "ctl":
			d.Flags, d.FlagsFirst = ctlFlags(), true
			d.Synopsis = synopsis(d.Flags, c.args)
			d.Args = func(fs *pflag.FlagSet, args []string, toComplete string) []string {
				return completeCtl(exe, fs, args, toComplete)
			}
		case "help":
			d.Args = func(_ *pflag.FlagSet, args []string, toComplete string) []string {
				var out []string
				for _, c := range commands {
					if len(args) == 0 && !c.hidden && c.name != "help" && strings.HasPrefix(c.name, toComplete) {
						out = append(out, c.name)
					}
				}
				return out
			}
		case "completion":
			d.Args = func(_ *pflag.FlagSet, args []string, toComplete string) []string {
				var out []string
				for _, sh := range clidoc.Shells {
					if len(args) == 0 && strings.HasPrefix(sh, toComplete) {
						out = append(out, sh)
					}
				}
				return out
			}
		case "version", "sample-config":
			d.Args = func(*pflag.FlagSet, []string, string) []string { return nil }
		}
		p.Commands = append(p.Commands, d)
	}
	return p
}

// ctlOptionRE matches an option line of supervisorctl's usage text
// ("-c/--configuration FILENAME -- configuration file path ...") and of
// supersede's additions ("--user -- control the units ...").
var ctlOptionRE = regexp.MustCompile(`^(?:-(\w)/)?--([\w-]+)(?: (\w+))? -- (.*)$`)

// ctlFlags are ctl's options for man pages and completion, read from the
// usage text `supersede ctl -h` prints (internal/ctl parses them as
// supervisorctl's getopt does, not with pflag).
func ctlFlags() *pflag.FlagSet {
	var out bytes.Buffer
	if _, code := ctl.ParseArgs("supersede ctl", []string{"-h"}, []string{}, &out, io.Discard); code != 0 {
		panic("supersede ctl -h failed")
	}
	fs := pflag.NewFlagSet("ctl", pflag.ContinueOnError)
	fs.SortFlags = false
	var last *pflag.Flag
	for line := range strings.Lines(out.String()) {
		line = strings.TrimRight(line, "\n")
		m := ctlOptionRE.FindStringSubmatch(line)
		if m == nil {
			if last != nil && strings.HasPrefix(line, "     ") {
				last.Usage += " " + strings.TrimSpace(line)
			} else {
				last = nil
			}
			continue
		}
		short, long, arg, help := m[1], m[2], m[3], m[4]
		if long == "history-file" {
			// supervisorctl's text says --history-file, but its getopt
			// takes --history_file (and -r) with a file name
			long, arg = "history_file", "FILE"
		}
		if arg == "" {
			fs.BoolP(long, short, false, help)
		} else {
			fs.StringP(long, short, "", "`"+arg+"`: "+help)
		}
		last = fs.Lookup(long)
	}
	return fs
}

// completeCtl completes what follows `supersede ctl [options]`: the
// action, then its arguments (program or group names from the
// configuration), as the supervisor> shell completes them.
func completeCtl(exe string, fs *pflag.FlagSet, args []string, toComplete string) []string {
	var procs [][2]string
	if len(args) > 0 {
		procs = configProcesses(exe, fs)
	}
	line := strings.Join(append(append([]string(nil), args...), toComplete), " ")
	var out []string
	for _, c := range ctl.Complete(line, toComplete, procs) {
		out = append(out, strings.TrimSuffix(c, " "))
	}
	return out
}

// configProcesses lists the [group, name] of every process of the
// configuration ctl would read, leniently: completion must not fail on
// what belongs to another host.
func configProcesses(exe string, fs *pflag.FlagSet) [][2]string {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	path, _ := fs.GetString("configuration")
	if path == "" {
		if path, err = translate.FindConfig(exe, wd); err != nil {
			return nil
		}
	}
	cfg, _ := translate.Load(path, translate.Options{Environ: os.Environ(), Dir: wd, Lenient: true})
	if cfg == nil {
		return nil
	}
	var procs [][2]string
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			procs = append(procs, [2]string{g.Name, p.Name})
		}
	}
	return procs
}

// runCompletion is `supersede completion SHELL`.
func runCompletion(_ context.Context, e *env) error {
	fs := flagSet(e, "completion")
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(clidoc.Shells, fs.Arg(0)) {
		return &usageError{err: fmt.Errorf("completion takes one argument, the shell: %s", strings.Join(clidoc.Shells, ", ")), hint: "run 'supersede completion bash' (or zsh, or fish)"}
	}
	return clidoc.WriteCompletion(program(e.exe), fs.Arg(0), e.stdout)
}

// runComplete serves the completion scripts: `supersede __complete ARGS`.
func runComplete(how string) func(context.Context, *env) error {
	return func(_ context.Context, e *env) error {
		return clidoc.Complete(program(e.exe), how, e.args, e.stdout)
	}
}

// runSampleConfig is `supersede sample-config`, and echo_supervisord_conf.
func runSampleConfig(_ context.Context, e *env) error {
	if !isSampleName(e.exe) {
		fs := flagSet(e, "sample-config")
		if err := parseFlags(fs, e.args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return &usageError{err: fmt.Errorf("sample-config takes no arguments, got %q", fs.Args()), hint: "redirect its output: supersede sample-config > supervisord.conf"}
		}
	}
	_, err := io.WriteString(e.stdout, translate.Sample)
	return err
}
