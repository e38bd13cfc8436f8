package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/supersede/supersede/internal/serve"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/webui"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

const aboutServe = `Serves supervisord's XML-RPC API (every supervisor.* and system.* method, multicall, /logtail and /mainlogtail) for the units of the configuration, on its [unix_http_server] and [inet_http_server] with their chmod, chown, username and password, so that supervisorctl, Python's xmlrpc.client and every other client of supervisord keep working under systemd. convert and the generator write it as PREFIXsupersede-serve.socket and .service: systemd listens where supervisord did and starts serve at the first connection. It follows each daemon-reload (the configuration is read again), and runs as a client of the system manager (root) or, with --user, of the user's manager, like ctl.

Exit status: 0 after SIGTERM or SIGINT; 1 a runtime error (no manager, a socket that cannot be opened); 2 a usage or configuration error.`

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
	log := serveLogger(e)
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
		rest := *cfg
		rest.Servers = missing
		opened, err := openListeners(&rest, log)
		if err != nil {
			for _, l := range lns {
				l.Ln.Close()
			}
			return err
		}
		for i, ln := range opened {
			lns = append(lns, serve.Listener{Section: missing[i].Section, Ln: ln, Auth: serve.AuthOf(missing[i])})
		}
	}
	return serve.Run(ctx, cfg, lns, serve.Options{Scope: scope, ConfigPath: path, Load: opts,
		Prefix: *prefix, LogFiles: *logFiles, Getenv: getenv, Logger: log, EventsPath: events,
		UI: func(api *xmlrpc.Local) http.Handler { return webui.New(api, webui.Options{}) }})
}

// serveLogger writes serve's messages to stderr: the journal under
// systemd, which adds the time itself.
func serveLogger(e *env) *slog.Logger {
	underJournal := false
	for _, kv := range e.environ {
		underJournal = underJournal || strings.HasPrefix(kv, "JOURNAL_STREAM=")
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if underJournal && len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			if l, ok := a.Value.Any().(slog.Level); ok && a.Key == slog.LevelKey && l > slog.LevelError {
				a.Value = slog.StringValue("CRIT") // supervisord's CRIT: openListeners' warnings
			}
			return a
		},
	}))
}
