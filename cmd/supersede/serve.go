package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/supersede/supersede/internal/daemon"
	"github.com/supersede/supersede/internal/serve"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/webui"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

const aboutServe = `Serves supervisord's XML-RPC API (every supervisor.* and system.* method, multicall, /logtail and /mainlogtail) for the units of the configuration, on its [unix_http_server] and [inet_http_server] with their chmod, chown, username and password, so that supervisorctl, Python's xmlrpc.client and every other client of supervisord keep working under systemd. convert and the generator write it as PREFIXsupersede-serve.socket and .service: systemd listens where supervisord did and starts serve at the first connection. It follows each daemon-reload (the configuration is read again), and runs as a client of the system manager (root) or, with --user, of the user's manager, like ctl.

Who may control the programs is decided by the socket's owner and mode (chmod=, chown=) and the section's username and password, as under supervisord; serve grants nothing more. Run by hand, serve opens the sockets itself as supervisord does, and with --pidfile writes its pid there while it runs; SIGHUP and SIGUSR2 are logged and ignored.

Exit status: 0 after SIGTERM, SIGINT or SIGQUIT; 1 a runtime error (no manager, a socket that cannot be opened); 2 a usage or configuration error.`

// runServe is `supersede serve`: Supervisor's XML-RPC API for the units
// of a configuration (internal/serve), on the sockets systemd passes
// (socket activation) or on those it opens as supervisord does.
func runServe(ctx context.Context, e *env) error {
	fs := flagSet(e, "serve")
	var lf loadFlags
	lf.register(fs)
	fs.MarkHidden("lenient")
	user := fs.Bool("user", false, "serve the units of the calling user's manager (systemctl --user)")
	system := fs.Bool("system", false, "serve the units of the system manager (the default)")
	prefix := fs.String("prefix", "", "the prefix `P` the units were converted with (convert --prefix)")
	logFiles := fs.Bool("log-files", false, "the units were converted with --log-files")
	pidfile := fs.String("pidfile", "", "write serve's pid to `FILE` while it runs (none by default: supervisord's pidfile= names supervisord)")
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("serve takes no arguments, got %q", fs.Args()), hint: "name the config with -c FILE"}
	}
	if *user && *system {
		return &usageError{err: errors.New("--user and --system exclude each other")}
	}
	if lf.lenient {
		return &usageError{err: errors.New("serve does not take --lenient: it serves this host's units")}
	}
	opts, path, err := lf.resolve(e)
	if err != nil {
		return err
	}
	cfg, err := translate.Load(path, opts)
	if err != nil {
		return configFailure(e.stderr, err)
	}
	if len(cfg.Servers) == 0 {
		return &usageError{err: serve.ErrNoServers}
	}
	log := daemon.JournalLogger(e.stderr, e.environ)
	scope := sysd.System
	if *user {
		scope = sysd.User
	}
	getenv := func(k string) string {
		for i := len(e.environ) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(e.environ[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
	events := serve.EventsPath(scope, *prefix, getenv)
	lns, missing, err := serve.Activated(cfg, events)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		opened, err := daemon.Listen(missing, log)
		if err != nil {
			for _, l := range lns {
				l.Ln.Close()
			}
			return err
		}
		for i, ln := range opened {
			lns = append(lns, serve.Listener{Section: missing[i].Section, Ln: ln, Auth: daemon.AuthOf(missing[i])})
		}
	}
	if *pidfile != "" {
		if err := daemon.WritePidfile(*pidfile); err != nil {
			for _, l := range lns {
				l.Ln.Close()
			}
			return fmt.Errorf("writing the pidfile: %w", err)
		}
		defer daemon.RemovePidfile(*pidfile)
	}
	ctx, stop := daemon.StopOnSignal(ctx, log, "serve follows the manager's daemon-reload and has no log file to reopen")
	defer stop()
	return serve.Run(ctx, cfg, lns, serve.Options{Scope: scope, ConfigPath: path, Load: opts,
		Prefix: *prefix, LogFiles: *logFiles, Getenv: getenv, Logger: log, EventsPath: events,
		UI: func(api *xmlrpc.Local) http.Handler { return webui.New(api, webui.Options{}) }})
}
