package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

// Listen opens a socket for each [unix_http_server] and
// [inet_http_server] of servers, in their order, as supervisord's
// make_http_servers does: a unix socket is created with its chmod= and
// chown= before it accepts anyone, a stale one (its server died) is
// replaced, a live one is left alone. It logs what supervisord logs for
// each, and fails with supervisord's messages (*UsageError), closing
// what it opened.
func Listen(servers []translate.Server, log *slog.Logger) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range lns {
			ln.Close()
		}
		if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, xmlrpc.ErrInUse) {
			return nil, &UsageError{Msg: "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord."}
		}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, &UsageError{Msg: fmt.Sprintf("Cannot open an HTTP server: socket.error reported errno.%s (%d)", errnoName(errno), int(errno))}
		}
		return nil, &UsageError{Msg: err.Error()}
	}
	for _, c := range servers {
		var ln net.Listener
		var err error
		if c.Unix {
			uid, gid := -1, -1
			if c.Chown[0] != nil {
				uid = *c.Chown[0]
			}
			if c.Chown[1] != nil {
				gid = *c.Chown[1]
			}
			ln, err = xmlrpc.ListenUnix(c.File, os.FileMode(c.Chmod), uid, gid)
		} else {
			ln, err = xmlrpc.ListenInet(c.Host, c.Port)
		}
		if err != nil {
			return fail(err)
		}
		log.Info("RPC interface 'supervisor' initialized")
		if c.Username == nil || *c.Username == "" {
			log.Log(context.Background(), logfile.LevelCritical, fmt.Sprintf("Server %s running without any HTTP authentication checking", Repr(c.Section)))
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// CloseListeners closes the daemon's listeners when it stops or
// restarts. Each unix socket file is removed, as supervisord removes it,
// but only while it is still the daemon's own: supervisord removes
// whatever the path holds by then, a file put there or the live socket of
// another daemon started on the path after this one's was deleted, which
// then stops answering for good.
func CloseListeners(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// AuthOf is the HTTP Basic credentials of a server section: its
// username= and password= (plain or {SHA}).
func AuthOf(s translate.Server) (a xmlrpc.Auth) {
	if s.Username != nil {
		a.Username = *s.Username
	}
	if s.Password != nil {
		a.Password = *s.Password
	}
	return a
}

// Inherit returns the listeners a daemonizing parent passed as fds 3,
// 4, ..., one for each of servers (Daemonize).
func Inherit(n int, servers []translate.Server) ([]net.Listener, error) {
	if n != len(servers) {
		return nil, fmt.Errorf("inherited %d sockets for %d servers: the configuration changed while daemonizing", n, len(servers))
	}
	var lns []net.Listener
	for i := range n {
		f := os.NewFile(uintptr(3+i), servers[i].Section)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("inherited socket of %s: %w", servers[i].Section, err)
		}
		if ul, ok := ln.(*net.UnixListener); ok && servers[i].Unix {
			ln = xmlrpc.AdoptUnix(ul, servers[i].File)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func listenerFile(ln net.Listener) (*os.File, error) {
	if l, ok := ln.(interface{ File() (*os.File, error) }); ok {
		return l.File()
	}
	return nil, fmt.Errorf("cannot pass a %T", ln)
}

// errnoName is Python's errno.errorcode[e] for the errors opening a
// socket can give.
func errnoName(e syscall.Errno) string {
	names := map[syscall.Errno]string{
		syscall.EACCES: "EACCES", syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT",
		syscall.ENOTDIR: "ENOTDIR", syscall.EROFS: "EROFS", syscall.ENAMETOOLONG: "ENAMETOOLONG",
		syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL", syscall.EAFNOSUPPORT: "EAFNOSUPPORT",
		syscall.EINVAL: "EINVAL", syscall.ELOOP: "ELOOP", syscall.ENOSPC: "ENOSPC",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return strconv.Itoa(int(e))
}
