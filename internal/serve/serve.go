package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

// Options say which manager to serve and how its units were made.
type Options struct {
	Scope sysd.Scope

	// ConfigPath is the supervisord.conf the units come from, read again
	// after every daemon-reload; Load holds translate's options for it.
	ConfigPath string
	Load       translate.Options

	// Prefix and LogFiles are the convert options the units were made
	// with (supersede convert --prefix, --log-files).
	Prefix   string
	LogFiles bool

	// Getenv reads the environment (XDG_RUNTIME_DIR, DBUS_*); nil is
	// os.Getenv.
	Getenv func(string) string

	Logger *slog.Logger // nil discards

	// UI, when set, serves every path that is not the API (the web
	// status page, internal/webui), as supersede run does.
	UI func(*xmlrpc.Local) http.Handler

	// EventsPath is the events socket (EventsPath), opened by Run when
	// the configuration has event listener pools and no Listener with
	// Events was passed (serve started without socket activation).
	EventsPath string
}

// Listener is one socket to serve, with the credentials of the section
// it stands for.
type Listener struct {
	Section string // "unix_http_server" or "inet_http_server", for messages
	Ln      net.Listener
	Auth    xmlrpc.Auth
	Events  bool // the events socket of the listener pools, not the API
}

// Run serves the API for the units of cfg (read from opts.ConfigPath) on
// every listener until ctx is done, then closes the listeners and every
// connection and returns nil. A manager that cannot be reached is an
// error at once; one that goes away later is reported by the calls that
// need it, as supervisorctl reports a dead supervisord.
func Run(ctx context.Context, cfg *translate.Config, lns []Listener, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var evLn net.Listener
	for i, l := range lns {
		if l.Events {
			evLn = l.Ln
			lns = append(lns[:i:i], lns[i+1:]...)
			break
		}
	}
	if len(lns) == 0 {
		if evLn != nil {
			evLn.Close()
		}
		return ErrNoServers
	}
	if evLn == nil && HasListeners(cfg) {
		ln, err := ListenEvents(opts.EventsPath)
		if err != nil {
			closeAll(lns)
			return err
		}
		evLn = ln
	}
	m, err := sysd.New(ctx, cfg, managerOptions(opts))
	if err != nil {
		closeAll(lns)
		if evLn != nil {
			evLn.Close()
		}
		return err
	}
	b := &backend{cur: m}
	abandoned := false // the stop gave up waiting: leave the rest to the exit
	defer func() {
		if !abandoned {
			b.close()
		}
	}()
	h := newHub(b, cfg.Supervisord.Identifier, log)
	b.hub = h
	h.setConfig(cfg)
	for _, g := range cfg.Groups {
		h.publish(events.NewProcessGroupAdded(g.Name))
	}
	h.publish(events.NewSupervisorRunning())
	defer func() {
		if !abandoned {
			h.close()
		}
	}()
	defer h.publish(events.NewSupervisorStopping())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.logsCtx = ctx
	h.followLogs(cfg)
	// serve spawns nothing: its descriptors are for connections and
	// the log reads they make (xmlrpc.ConnLimit)
	srv := xmlrpc.NewServer(b, xmlrpc.Options{Logger: log, Limits: xmlrpc.Limits{MaxConns: xmlrpc.ConnLimit(0)}, UI: opts.UI})

	var wg sync.WaitGroup
	errs := make(chan error, len(lns))
	for _, l := range lns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx, l.Ln, l.Auth); err != nil {
				errs <- fmt.Errorf("serving %s on %s: %w", l.Section, l.Ln.Addr(), err)
				cancel()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		follow(ctx, b, opts, log)
	}()
	go func() {
		defer wg.Done()
		h.watch(ctx)
	}()
	if evLn != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.serveListeners(ctx, evLn)
		}()
	}
	<-ctx.Done()
	// A stop (SIGTERM) ends serve within stopGrace whatever a request,
	// a log stream or the manager's connection is waiting for: the
	// manager waits for serve (TimeoutStopSec=, 90 s) before it can stop
	// the rest, and a client must not hold that up.
	stopped := make(chan struct{})
	go func() {
		srv.Close()
		wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		abandoned = true
		log.Error(fmt.Sprintf("stopping: connections, log streams or the manager's connection did not end within %v; exiting without waiting for them", stopGrace))
		return nil
	}
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// stopGrace bounds serve's stop after ctx is done.
const stopGrace = 5 * time.Second

func managerOptions(opts Options) sysd.Options {
	return sysd.Options{Scope: opts.Scope, ConfigPath: opts.ConfigPath, Load: opts.Load,
		Prefix: opts.Prefix, LogFiles: opts.LogFiles, Getenv: opts.Getenv, Logger: opts.Logger}
}

func closeAll(lns []Listener) {
	for _, l := range lns {
		l.Ln.Close()
	}
}

// follow reads the configuration again after each daemon-reload of the
// manager and serves its units from then on, until ctx is done. A broken
// watch is dialled again after a pause (the manager restarting), never
// in a busy loop.
func follow(ctx context.Context, b *backend, opts Options, log *slog.Logger) {
	for ctx.Err() == nil {
		// The watch has a connection of its own: the manager it was
		// started from may be swapped and closed meanwhile.
		b.mu.Lock()
		m := b.cur
		b.mu.Unlock()
		err := m.WatchReloads(ctx, func() { reload(ctx, b, opts, log) })
		if ctx.Err() != nil {
			return
		}
		log.Warn(fmt.Sprintf("following the manager's reloads: %v; trying again in 5 s", err))
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// reload makes the configuration as it is now the one served. Errors
// keep the last good configuration, and are logged with file:line.
func reload(ctx context.Context, b *backend, opts Options, log *slog.Logger) {
	cfg, err := translate.Load(opts.ConfigPath, opts.Load)
	if err != nil {
		log.Error(fmt.Sprintf("after daemon-reload: %s has errors, still serving the configuration read before: %v", opts.ConfigPath, err))
		return
	}
	m, err := sysd.New(ctx, cfg, managerOptions(opts))
	if err != nil {
		log.Error(fmt.Sprintf("after daemon-reload: %v", err))
		return
	}
	b.swap(m)
	if b.hub != nil {
		b.hub.setConfig(cfg)
		b.hub.swapped()
		b.hub.followLogs(cfg)
	}
	log.Info("daemon-reload: configuration read again from " + opts.ConfigPath)
}
