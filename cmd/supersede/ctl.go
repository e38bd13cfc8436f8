package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/ctl"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

// The backends ctl and the XML-RPC server drive.
var (
	_ xmlrpc.Backend     = (*sysd.Manager)(nil)
	_ xmlrpc.GroupReader = (*sysd.Manager)(nil)
	_ ctl.Conn           = (*xmlrpc.Client)(nil)
	_ ctl.Conn           = (*systemdConn)(nil)
	_ ctl.StatusLister   = (*systemdConn)(nil)
)

// runCtl is `supersede ctl` and supersede invoked as supervisorctl: a
// supervisorctl (internal/ctl) on one of two transports.
//
//   - systemd, when --user or --system is given, or when the host runs
//     systemd and no -s URL was given: the processes of the config are
//     its units (names through unitgen.UnitName), driven over D-Bus by
//     internal/sysd, behind the XML-RPC server's own rules (xmlrpc.Local),
//     so every answer is the one supervisord would give.
//   - XML-RPC, otherwise: the serverurl of -s or of [supervisorctl], as
//     supervisorctl does, for `supersede run` or a real supervisord.
func runCtl(ctx context.Context, e *env) error {
	prog := "supersede ctl"
	if invocationNames[filepath.Base(e.exe)] == "ctl" {
		prog = e.exe
	}
	opts, code := ctl.ParseArgs(prog, e.args, e.environ, e.stdout, e.stderr)
	if code >= 0 {
		return &exitCode{code}
	}
	if !opts.Interactive {
		// One command and out: collect garbage only if the heap nears
		// 64 MiB (a long tail -f), not every few MB. A 1000-program
		// status allocates about 10 MB; collecting it cost a tenth of
		// the command's time (docs/PERFORMANCE.md).
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
	}
	// Ctrl-C is supervisorctl's KeyboardInterrupt (it ends tail -f and
	// returns to the prompt), not the end of the program.
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt)
	defer signal.Stop(intr)
	opts.Interrupt = intr
	ctx = context.WithoutCancel(ctx)
	// SIGTERM and SIGHUP end supervisorctl at once, killed by the signal
	// (Python leaves them at their default action): ctl puts the terminal
	// back and dies of the same signal. A journalctl that follows a log
	// for `tail -f` dies with it (sysd starts it with a parent-death
	// signal).
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(term)
	opts.Terminate = term
	opts.Kill = dieOf

	useSystemd := opts.User || opts.System || (!opts.ServerURLSet && sysd.IsRunning())
	var conn *systemdConn
	if useSystemd && !opts.User && !opts.System && !opts.MissingSection && serverAnswers(ctx, opts) {
		// A host that runs systemd, and a supervisord (or supersede run)
		// answers at the config's serverurl: during a migration, the
		// programs of a config that was not converted yet are still
		// that supervisord's, and supervisorctl, which this command may
		// be installed as, kept talking to it. systemd's only when the
		// config's units are loaded there (its anchor target came from
		// this config).
		c, err := newSystemdConn(ctx, opts, e, io.Discard)
		if err == nil && c.converted(ctx) {
			conn = c
		} else {
			if c != nil {
				c.Close()
			}
			useSystemd = false
		}
	}
	if !useSystemd {
		if opts.MissingSection {
			return &exitCode{opts.UsageError(e.stderr, ctl.MissingSectionError)}
		}
		opts.Dial = dialXMLRPC
		user, pass := opts.Credentials()
		c, err := xmlrpc.NewClient(opts.ServerURL, user, pass)
		if err != nil {
			// ctl reports a bad URL as supervisorctl does
			return ctlExit(ctl.Run(ctx, nil, opts, e.stdin, e.stdout, e.stderr))
		}
		defer c.Close()
		code = ctl.Run(ctx, c, opts, e.stdin, e.stdout, e.stderr)
		if code != 0 {
			serverHint(ctx, e, opts, c)
		}
		return ctlExit(code)
	}
	if conn == nil {
		c, err := newSystemdConn(ctx, opts, e, e.stderr)
		if err != nil {
			return err
		}
		conn = c
	}
	defer conn.Close()
	code = ctl.Run(ctx, conn, opts, e.stdin, e.stdout, e.stderr)
	unitsHint(ctx, e, opts, conn, code)
	return ctlExit(code)
}

// dieOf ends the process as sig's default action does: killed by it.
func dieOf(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		s = syscall.SIGTERM
	}
	signal.Reset(s)
	syscall.Kill(os.Getpid(), s)
	time.Sleep(time.Second) // the signal is delivered long before this ends
	os.Exit(128 + int(s))   // as a shell reports a death by s
}

func ctlExit(code int) error {
	if code == 0 {
		return nil
	}
	return &exitCode{code}
}

func dialXMLRPC(serverURL, username, password string) (ctl.Conn, error) {
	c, err := xmlrpc.NewClient(serverURL, username, password)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newSystemdConn reads the config (the names of the processes come from
// it) and prepares the systemd transport. It connects lazily: help and
// usage errors need no manager, and an unreachable one is reported by
// the command that needed it, as supervisorctl reports a dead server.
func newSystemdConn(ctx context.Context, opts *ctl.Options, e *env, stderr io.Writer) (*systemdConn, error) {
	if opts.ConfigFile == "" {
		return nil, &usageError{err: errors.New("no supervisord.conf found"),
			hint: "pass -c FILE: under systemd, ctl finds each program's unit through the config the units were converted from"}
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	scope := sysd.System
	if opts.User {
		scope = sysd.User
	}
	getenv := func(k string) string {
		for _, kv := range e.environ {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	// `status` of everything reads every unit: start that while the
	// config is parsed (sysd.Prefetch)
	var pf *sysd.Prefetch
	if statusOfAll(opts.Command) {
		pf = sysd.StartPrefetch(ctx, sysd.Options{Scope: scope, Prefix: opts.Prefix, Getenv: getenv})
	}
	lopts := translate.Options{Environ: e.environ, Dir: wd}
	first := lopts
	first.Main = opts.ConfigRead // parsed already for [supervisorctl]
	// status reports nothing at a key's line, and writes no unit (whose
	// contents some key positions decide): spare it a map per section
	first.NoKeyPos = len(opts.Command) > 0 && opts.Command[0] == "status"
	cfg, err := translate.Load(opts.ConfigFile, first)
	if err != nil {
		if pf != nil {
			pf.Close()
		}
		printConfigErrors(stderr, err)
		return nil, &configError{err}
	}
	c := &systemdConn{url: "systemd://" + scope.String(), pf: pf, stderr: e.stderr}
	c.connect = func() error {
		m, err := sysd.New(ctx, cfg, sysd.Options{Scope: scope, ConfigPath: opts.ConfigFile, Load: lopts,
			Prefix: opts.Prefix, LogFiles: opts.LogFiles, Getenv: getenv, Shim: selfPath(e.exe), Prefetch: pf})
		if err != nil {
			return err
		}
		c.m = m
		c.local = xmlrpc.NewLocal(m, xmlrpc.Options{}, c.url)
		return nil
	}
	return c, nil
}

// systemdConn is ctl's connection to systemd: the XML-RPC API served in
// process by xmlrpc.Local over internal/sysd, except that a process's
// output is read from the journal when its unit writes there (the
// default), where Supervisor read a log file.
type systemdConn struct {
	url     string
	pf      *sysd.Prefetch // nil, or started for status: connect takes it
	connect func() error
	err     error
	m       *sysd.Manager
	local   *xmlrpc.Local
	stderr  io.Writer // why a journal could not be read
}

func (c *systemdConn) ServerURL() string { return c.url }

// statusOfAll reports whether command is `status` of every process.
func statusOfAll(command []string) bool {
	if len(command) == 0 || command[0] != "status" {
		return false
	}
	return len(command) == 1 || slices.Contains(command[1:], "all")
}

// converted reports whether the config's units are loaded in the
// manager (false when it cannot be reached).
func (c *systemdConn) converted(ctx context.Context) bool {
	if err := c.ready(); err != nil {
		return false
	}
	ok, err := c.m.Converted(ctx)
	return err == nil && ok
}

// serverAnswers reports whether a supervisord (or supersede run) answers
// at opts.ServerURL: an XML-RPC answer, a fault, or a demand for a
// password. Nothing listening, or a socket file no server holds, answers
// at once with an error.
func serverAnswers(ctx context.Context, opts *ctl.Options) bool {
	user, pass := opts.Credentials()
	c, err := xmlrpc.NewClient(opts.ServerURL, user, pass)
	if err != nil {
		return false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = c.Call(ctx, "supervisor.getAPIVersion")
	var he *xmlrpc.HTTPError
	var f *xmlrpc.Fault
	return err == nil || errors.As(err, &f) || errors.As(err, &he) && he.StatusCode == 401
}

func (c *systemdConn) Close() error {
	if c.pf != nil {
		c.pf.Close() // its connection, unless connect took it
	}
	if c.m != nil {
		return c.m.Close()
	}
	return nil
}

func (c *systemdConn) ready() error {
	if c.local == nil && c.err == nil {
		c.err = c.connect()
	}
	return c.err
}

// Call serves method in process; log reads of journal-backed processes
// go to the journal.
func (c *systemdConn) Call(ctx context.Context, method string, args ...any) (any, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	switch method {
	case "supervisor.readProcessStdoutLog", "supervisor.readProcessLog", "supervisor.readProcessStderrLog",
		"supervisor.tailProcessStdoutLog", "supervisor.tailProcessLog", "supervisor.tailProcessStderrLog":
		if v, handled, err := c.journalLog(ctx, method, args); handled {
			return v, err
		}
	case "supervisor.readLog":
		if len(args) == 2 {
			return c.journalMainLog(ctx, args)
		}
	}
	return c.local.Call(ctx, method, args...)
}

// StatusRows is getAllProcessInfo for status, without the XML-RPC
// structs (ctl.StatusLister).
func (c *systemdConn) StatusRows(ctx context.Context) ([]xmlrpc.StatusRow, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	return c.local.StatusRows(ctx)
}

// journalLog answers a log read of a process whose channel goes to the
// journal; handled is false when the XML-RPC layer should answer (a log
// file, no such process, bad arguments).
func (c *systemdConn) journalLog(ctx context.Context, method string, args []any) (v any, handled bool, err error) {
	if len(args) != 3 {
		return nil, false, nil
	}
	spec, ok := args[0].(string)
	offset, ok1 := args[1].(int)
	length, ok2 := args[2].(int)
	if !ok || !ok1 || !ok2 {
		return nil, false, nil
	}
	channel := "stdout"
	if strings.Contains(method, "Stderr") {
		channel = "stderr"
	}
	group, name, _ := strings.Cut(spec, ":")
	if name == "" {
		name = group
	}
	unit, journal, err := c.m.JournalFor(ctx, group, name, channel)
	if err != nil || !journal {
		return nil, false, nil
	}
	tail := strings.HasPrefix(method, "supervisor.tail")
	want := 0 // everything
	if tail {
		want = length
	} else if offset < 0 && length == 0 {
		want = -offset
	}
	data, err := c.m.ReadJournal(ctx, unit, want)
	if err != nil {
		// supervisorctl's text for the fault is "unknown error reading
		// log": say why, too
		fmt.Fprintf(c.stderr, "supersede ctl: reading the output of %s: %v\n", unit, err)
		return nil, true, &xmlrpc.Fault{Code: xmlrpc.FaultFailed, String: "FAILED: " + err.Error()}
	}
	if tail {
		// [bytes, offset, overflow] as tailProcessStdoutLog returns them;
		// the offset is the journal's size as far as it was read
		return []any{string(data), offset + len(data), false}, true, nil
	}
	if offset >= 0 {
		if offset > len(data) {
			offset = len(data)
		}
		data = data[offset:]
		if length > 0 && length < len(data) {
			data = data[:length]
		}
	}
	return string(data), true, nil
}

// journalMainLog is readLog (maintail): the manager's own messages.
func (c *systemdConn) journalMainLog(ctx context.Context, args []any) (any, error) {
	offset, _ := args[0].(int)
	length, _ := args[1].(int)
	want := 0
	if offset < 0 && length == 0 {
		want = -offset
	}
	data, err := c.m.ReadManagerJournal(ctx, want)
	if err != nil {
		return c.local.Call(ctx, "supervisor.readLog", args...)
	}
	return string(data), nil
}

// Tail follows a log: the journal for journal-backed processes and for
// the main log, the file otherwise.
func (c *systemdConn) Tail(ctx context.Context, path string) (io.ReadCloser, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if path == "/mainlogtail" {
		return c.m.FollowJournal(ctx, "", 1024)
	}
	if rest, ok := strings.CutPrefix(path, "/logtail/"); ok {
		if u, err := url.PathUnescape(rest); err == nil {
			rest = u
		}
		spec, channel, ok := strings.Cut(rest, "/")
		if !ok {
			channel = "stdout"
		}
		group, name, _ := strings.Cut(spec, ":")
		if name == "" {
			name = group
		}
		if unit, journal, err := c.m.JournalFor(ctx, group, name, channel); err == nil && journal {
			return c.m.FollowJournal(ctx, unit, 1024)
		}
	}
	return c.local.Tail(ctx, path)
}
