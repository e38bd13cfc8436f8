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
	"strings"

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

	useSystemd := opts.User || opts.System || (!opts.ServerURLSet && sysd.IsRunning())
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
	conn, err := newSystemdConn(ctx, opts, e)
	if err != nil {
		return err
	}
	defer conn.Close()
	code = ctl.Run(ctx, conn, opts, e.stdin, e.stdout, e.stderr)
	unitsHint(ctx, e, opts, conn, code)
	return ctlExit(code)
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
func newSystemdConn(ctx context.Context, opts *ctl.Options, e *env) (*systemdConn, error) {
	if opts.ConfigFile == "" {
		return nil, &usageError{err: errors.New("no supervisord.conf found"),
			hint: "pass -c FILE: under systemd, ctl finds each program's unit through the config the units were converted from"}
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	lopts := translate.Options{Environ: e.environ, Dir: wd}
	cfg, err := translate.Load(opts.ConfigFile, lopts)
	if err != nil {
		printConfigErrors(e.stderr, err)
		return nil, &configError{err}
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
	c := &systemdConn{url: "systemd://" + scope.String(), stderr: e.stderr}
	c.connect = func() error {
		m, err := sysd.New(ctx, cfg, sysd.Options{Scope: scope, ConfigPath: opts.ConfigFile, Load: lopts,
			Prefix: opts.Prefix, LogFiles: opts.LogFiles, Getenv: getenv, Shim: selfPath(e.exe)})
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
	connect func() error
	err     error
	m       *sysd.Manager
	local   *xmlrpc.Local
	stderr  io.Writer // why a journal could not be read
}

func (c *systemdConn) ServerURL() string { return c.url }

func (c *systemdConn) Close() error {
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
	unit, journal, err := c.m.JournalFor(group, name, channel)
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
		if unit, journal, err := c.m.JournalFor(group, name, channel); err == nil && journal {
			return c.m.FollowJournal(ctx, unit, 1024)
		}
	}
	return c.local.Tail(ctx, path)
}
