package unitgen

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/supersede/supersede/translate"
)

// serveName is the name (before the prefix and suffix) of the units of
// `supersede serve`: the socket stands for supervisord's
// [unix_http_server] and [inet_http_server], and activates the service
// at the first connection.
const serveName = "supersede-serve"

// ServeUnits names the socket and service units that serve the
// configuration's XML-RPC API (supersede serve).
func ServeUnits(prefix string) (socket, service string) {
	socket, _ = UnitName(prefix, serveName, Socket)
	service, _ = UnitName(prefix, serveName, Service)
	return socket, service
}

// serve writes the socket and service of `supersede serve` when
// Options.Serve names the supersede executable and the configuration has
// an HTTP server section: the socket listens where supervisord did, with
// the same mode and owner, and systemd starts the service (serve, the
// API over the manager's units) at the first connection, so it costs
// nothing until then. The socket is wanted by sockets.target (the
// generator links it) and by nothing else: `systemctl enable --now
// PREFIXsupersede-serve.socket` after convert.
func (g *generator) serve() {
	if g.opts.Serve == "" || len(g.cfg.Servers) == 0 {
		return
	}
	socket, service := ServeUnits(g.opts.Prefix)
	first := g.cfg.Servers[0]
	for _, u := range g.res.Units {
		if u.Name == socket || u.Name == service {
			g.errorf(u.Pos, "rename the program, or use --prefix", "unit name %s is kept for supersede serve, which serves [%s]", u.Name, first.Section)
			return
		}
	}
	var so []unit.UnitOption
	add := func(section, name, value string) { so = append(so, opt(section, name, value)) }
	add("Unit", "Description", "Supervisor XML-RPC API of "+text(g.cfg.File))
	if src, err := plain(g.cfg.File, true); err == nil {
		add("Unit", "SourcePath", src)
	}
	for _, s := range g.cfg.Servers {
		if !g.listen(s, add) {
			return
		}
	}
	add("Socket", "Service", service)
	add("Install", "WantedBy", "sockets.target")
	events := g.hasListeners() && g.servesEvents(g.shim(nil))

	argv := []string{g.opts.Serve, "serve", "-c", g.configPath()}
	if g.opts.User {
		argv = append(argv, "--user")
	} else {
		argv = append(argv, "--system")
	}
	if g.opts.Prefix != "" {
		argv = append(argv, "--prefix", g.opts.Prefix)
	}
	if g.opts.LogFiles {
		argv = append(argv, "--log-files")
	}
	for _, a := range argv {
		if _, err := plain(a, false); err != nil {
			g.errorf(first.Pos, "move the file to a plain path", "ExecStart= of %s cannot hold %q: %v", service, a, err)
			return
		}
	}
	var o []unit.UnitOption
	add = func(section, name, value string) { o = append(o, opt(section, name, value)) }
	add("Unit", "Description", "Supervisor XML-RPC API of "+text(g.cfg.File)+" (supersede serve)")
	if src, err := plain(g.cfg.File, true); err == nil {
		add("Unit", "SourcePath", src)
	}
	add("Unit", "Requires", socket)
	add("Unit", "After", socket)
	if events {
		add("Service", "Sockets", socket+" "+g.eventsSocket())
	}
	typ := "exec"
	if g.opts.SystemdVersion < 240 {
		typ = "simple"
	}
	add("Service", "Type", typ)
	add("Service", "ExecStart", execLine(argv[0], argv))
	add("Service", "Restart", "on-failure")
	g.res.Units = append(g.res.Units,
		Unit{Name: socket, Data: g.render(g.header(first.Pos, first.Section, ""), so), Pos: first.Pos, WantedBy: []string{"sockets.target"}},
		Unit{Name: service, Data: g.render(g.header(first.Pos, first.Section, ""), o), Pos: first.Pos})
	if events {
		g.eventsUnit(service, first)
	}
}

// EventsSocket is the path, relative to the manager's runtime directory
// (%t: $XDG_RUNTIME_DIR of a user manager, /run for the system one), of
// the socket on which supersede serve runs the configuration's event
// listener pools: each listener's unit connects its standard input and
// output to it (supersede shim listen) and serve speaks Supervisor's
// listener protocol there. serve tells one listener from another by the
// cgroup of the peer, so the socket may be open to all (a listener may
// run as any user=).
func EventsSocket(prefix string) string { return prefix + "supersede-events.sock" }

// eventsSocket is the name of the socket unit of EventsSocket.
func (g *generator) eventsSocket() string {
	name, _ := UnitName(g.opts.Prefix, serveName+"-events", Socket)
	return name
}

// hasListeners reports whether the configuration has an
// [eventlistener:x] pool.
func (g *generator) hasListeners() bool {
	for _, grp := range g.cfg.Groups {
		if grp.Type == translate.GroupEventListener {
			return true
		}
	}
	return false
}

// servesEvents reports whether supersede serve runs the configuration's
// event listener pools: serve's units are written, and the listener's
// unit runs the compatibility step (shim is its supersede binary).
func (g *generator) servesEvents(shim string) bool {
	return shim != "" && g.opts.Serve != "" && len(g.cfg.Servers) > 0
}

// eventsUnit writes the socket unit of EventsSocket, which activates
// serve as its API socket does.
func (g *generator) eventsUnit(service string, first translate.Server) {
	var so []unit.UnitOption
	add := func(section, name, value string) { so = append(so, opt(section, name, value)) }
	add("Unit", "Description", "Supervisor event listeners of "+text(g.cfg.File)+" (supersede serve)")
	if src, err := plain(g.cfg.File, true); err == nil {
		add("Unit", "SourcePath", src)
	}
	add("Socket", "ListenStream", "%t/"+EventsSocket(g.opts.Prefix))
	add("Socket", "SocketMode", "0666")
	add("Socket", "RemoveOnStop", "yes")
	add("Socket", "Service", service)
	add("Install", "WantedBy", "sockets.target")
	name := g.eventsSocket()
	g.res.Units = append(g.res.Units, Unit{Name: name, Data: g.render(g.header(first.Pos, first.Section, ""), so), Pos: first.Pos, WantedBy: []string{"sockets.target"}})
}

// listenerExec is the ExecStart of an event listener that supersede
// serve serves: the compatibility step connects its standard input and
// output to serve's events socket, then execs the listener.
func (g *generator) listenerExec(shim, filename string, argv []string) string {
	scope := "--system"
	if g.opts.User {
		scope = "--user"
	}
	return execLine(shim, append([]string{shim, "shim", "listen", scope, EventsSocket(g.opts.Prefix), filename}, argv...))
}

// listenerWarning says what becomes of an event listener under serve.
func (g *generator) listenerWarning(pl *planned) {
	g.warnf(pl.g.Pos, pl.name, "[%s] is an event listener: supersede serve runs its pool (enable %s and %s): its unit connects its standard input and output to serve, which sends it the events systemd lets serve derive (PROCESS_STATE_*, PROCESS_GROUP_*, SUPERVISOR_STATE_CHANGE_*, TICK_*, PROCESS_LOG_*; never PROCESS_COMMUNICATION_*)", pl.g.Section, g.eventsSocket(), func() string { s, _ := ServeUnits(g.opts.Prefix); return s }())
}

// listen adds ListenStream= and the socket's mode and owner for one
// server section.
func (g *generator) listen(s translate.Server, add func(string, string, string)) bool {
	if !s.Unix {
		host := "0.0.0.0" // Supervisor binds AF_INET on every interface
		if s.Host != "" && s.Host != "*" {
			h, err := ipv4(s.Host)
			if err != nil {
				g.errorf(s.Pos, "write port=IPV4:PORT", "[%s] port: %v", s.Section, err)
				return false
			}
			host = h
		}
		add("Socket", "ListenStream", host+":"+strconv.Itoa(s.Port))
		return true
	}
	path, err := plain(s.File, true)
	if err != nil || !filepath.IsAbs(s.File) {
		if err == nil {
			err = fmt.Errorf("the path must be absolute")
		}
		g.errorf(s.Pos, "move the socket to a plain absolute path", "[%s] file=%s: %v", s.Section, s.File, err)
		return false
	}
	add("Socket", "ListenStream", path)
	add("Socket", "SocketMode", fmt.Sprintf("%04o", s.Chmod))
	add("Socket", "RemoveOnStop", "yes")
	owner := [2]string{}
	for i, id := range s.Chown {
		if id != nil && *id >= 0 {
			owner[i] = strconv.Itoa(*id)
		}
	}
	if owner != [2]string{} && g.opts.User {
		g.warnf(s.Pos, "", "[%s] chown is left out: a user manager cannot give its socket away", s.Section)
		return true
	}
	if owner[0] != "" {
		add("Socket", "SocketUser", owner[0])
	}
	if owner[1] != "" {
		add("Socket", "SocketGroup", owner[1])
	}
	return true
}

// configPath is the main configuration file as an absolute path, for
// serve's -c.
func (g *generator) configPath() string {
	if filepath.IsAbs(g.cfg.File) {
		return g.cfg.File
	}
	return filepath.Join(g.opts.Dir, g.cfg.File)
}
