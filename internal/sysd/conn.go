package sysd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	godbus "github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// Scope says which service manager to drive.
type Scope int

const (
	System Scope = iota // the system manager (PID 1)
	User                // the calling user's manager (systemd --user)
)

func (s Scope) String() string {
	if s == User {
		return "user"
	}
	return "system"
}

// ErrUnreachable is returned when no systemd manager of the scope can be
// reached; the message names the fallback for hosts without systemd.
var ErrUnreachable = errors.New("no systemd manager is reachable")

// IsRunning reports whether this host was booted with systemd: the
// sd_booted(3) test, "/run/systemd/system is a directory". It is done
// here rather than with go-systemd's util.IsRunningSystemd, whose
// package dlopens libsystemd when cgo is on (STYLE.md §1).
func IsRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// endpoint is one way to reach a manager.
type endpoint struct {
	addr    string // D-Bus address
	private bool   // the manager's own socket: no bus daemon, no Hello
	path    string // the socket path of a private endpoint, for the peer's pid
}

// endpoints lists where a manager of the scope may be, in the order
// systemctl tries them (bus_connect_transport_systemd): the manager's
// private socket first when we may use it (root for the system manager,
// the owner of $XDG_RUNTIME_DIR for a user manager), then the bus.
// Unlike go-systemd's NewUserConnectionContext, this honours
// $XDG_RUNTIME_DIR (reference/systemd.md §0.11) and never runs
// dbus-launch.
func endpoints(scope Scope, getenv func(string) string) []endpoint {
	var eps []endpoint
	if scope == System {
		if os.Geteuid() == 0 {
			eps = append(eps, endpoint{addr: "unix:path=/run/systemd/private", private: true, path: "/run/systemd/private"})
		}
		addr := getenv("DBUS_SYSTEM_BUS_ADDRESS")
		if addr == "" {
			addr = "unix:path=/run/dbus/system_bus_socket"
		}
		return append(eps, endpoint{addr: addr})
	}
	rt := getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		rt = "/run/user/" + strconv.Itoa(os.Getuid())
	}
	if fi, err := os.Stat(rt); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
			p := filepath.Join(rt, "systemd/private")
			eps = append(eps, endpoint{addr: "unix:path=" + p, private: true, path: p})
		}
	}
	if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		eps = append(eps, endpoint{addr: addr})
	} else {
		eps = append(eps, endpoint{addr: "unix:path=" + filepath.Join(rt, "bus")})
	}
	return eps
}

// dial connects to the first endpoint that answers, with the wire
// client that status uses; other connections later go to the same
// endpoint.
func dial(ctx context.Context, scope Scope, getenv func(string) string) (*wire, endpoint, error) {
	var errs []error
	for _, ep := range endpoints(scope, getenv) {
		c, err := dialWire(ctx, ep)
		if err == nil {
			return c, ep, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.addr, err))
	}
	return nil, endpoint{}, &UnreachableError{Scope: scope, Err: errors.Join(errs...)}
}

func dialEndpoint(ctx context.Context, ep endpoint) (*godbus.Conn, error) {
	c, err := godbus.Dial(ep.addr, godbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := c.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Geteuid()))}); err != nil {
		c.Close()
		return nil, err
	}
	if !ep.private {
		if err := c.Hello(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	// the private socket may sit on the first request (wire.nudge):
	// ping until it answers, each ping waking it up
	obj := c.Object(destSystemd, "/org/freedesktop/systemd1")
	giveUp := time.Now().Add(30 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		pctx, cancel := context.WithTimeout(ctx, wait)
		err := obj.CallWithContext(pctx, "org.freedesktop.DBus.Peer.Ping", 0).Err
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || time.Now().After(giveUp) {
			c.Close()
			return nil, err
		}
	}
}

// UnreachableError says that no manager of Scope answered, and what to do.
type UnreachableError struct {
	Scope Scope
	Err   error
}

func (e *UnreachableError) Error() string {
	hint := "is systemd running here? (on a host or container without systemd, run `supersede run` and use `supersede ctl -s URL`)"
	if e.Scope == System && IsRunning() {
		hint = "if the units were converted with --user, pass --user"
		if os.Geteuid() != 0 {
			hint = "the system manager needs root (sudo); if the units were converted with --user, pass --user"
		}
	}
	if e.Scope == User {
		hint = "is a systemd user manager running for this user, with XDG_RUNTIME_DIR or DBUS_SESSION_BUS_ADDRESS set? (without systemd, run `supersede run` and use `supersede ctl -s URL`)"
	}
	return fmt.Sprintf("systemd %s manager not reachable (%v); %s", e.Scope, e.Err, hint)
}

// Unwrap returns ErrUnreachable only: the socket errors inside are
// details of the message, and a caller testing for ENOENT or
// ECONNREFUSED (supervisorctl's texts for a dead supervisord) must not
// take a missing systemd for a missing supervisord.
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// peerPID is the pid of the process listening on a unix socket (the
// manager, for its private socket), 0 if it cannot be known.
func peerPID(path string) int {
	c, err := net.Dial("unix", path)
	if err != nil {
		return 0
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0
	}
	pid := 0
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}
