package xmlrpc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrInUse is a socket or port another program already serves. It
// unwraps to syscall.EADDRINUSE.
var ErrInUse = fmt.Errorf("another program is already listening there (%w)", syscall.EADDRINUSE)

// ListenUnix listens on a unix socket at path as supervisord's
// [unix_http_server] does, without a window in which the path is missing
// or has the wrong mode: the socket is bound under a temporary name
// (path.PID), given mode, then hard-linked to path. A socket already at
// path that nobody answers on is stale and replaced; one that answers is
// ErrInUse. Unlike Supervisor, a path that is not a socket is an error,
// never removed. uid and gid, when not -1, become the socket's owner
// (chown=). Closing the listener removes path, if it is still this
// socket.
func ListenUnix(path string, mode os.FileMode, uid, gid int) (net.Listener, error) {
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	os.Remove(tmp)
	for attempt := 0; ; attempt++ {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", path, err)
		}
		l.SetUnlinkOnClose(false)
		fail := func(err error) (net.Listener, error) {
			l.Close()
			os.Remove(tmp)
			return nil, err
		}
		if err := os.Chmod(tmp, mode.Perm()); err != nil {
			return fail(err)
		}
		if err := os.Link(tmp, path); err != nil {
			if !errors.Is(err, fs.ErrExist) || attempt >= 3 {
				return fail(fmt.Errorf("listen on %s: %w", path, err))
			}
			fi, lerr := os.Lstat(path)
			if lerr != nil {
				l.Close()
				os.Remove(tmp)
				continue // gone meanwhile: try again
			}
			if fi.Mode().Type() != fs.ModeSocket {
				return fail(fmt.Errorf("listen on %s: the file exists and is not a socket (remove it or choose another file)", path))
			}
			if inUse(path) {
				return fail(fmt.Errorf("listen on %s: %w", path, ErrInUse))
			}
			// Stale socket (its server died): replace it.
			os.Remove(path)
			l.Close()
			os.Remove(tmp)
			continue
		}
		os.Remove(tmp)
		if uid != -1 || gid != -1 {
			if err := os.Chown(path, uid, gid); err != nil {
				os.Remove(path)
				l.Close()
				if errors.Is(err, syscall.EPERM) {
					return nil, fmt.Errorf("not permitted to chown %s to uid/gid %d/%d (adjust chown= of [unix_http_server] to an owner the current user can give): %w", path, uid, gid, err)
				}
				return nil, err
			}
		}
		fi, err := os.Lstat(path)
		if err != nil {
			l.Close()
			return nil, err
		}
		return &unixListener{UnixListener: l, path: path, ino: inode(fi)}, nil
	}
}

// inUse is Supervisor's checkused: does something accept connections on
// the socket?
func inUse(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// AdoptUnix is ListenUnix's listener for a socket bound at path by
// another process (a daemonizing parent passing it on): closing it
// removes path if it is still the socket that is there now, never
// another file put there since (another daemon's live socket).
func AdoptUnix(l *net.UnixListener, path string) net.Listener {
	l.SetUnlinkOnClose(false)
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		// Gone already: nothing of ours to remove at close.
		return &unixListener{UnixListener: l, path: path, ino: 0, gone: true}
	}
	return &unixListener{UnixListener: l, path: path, ino: inode(fi)}
}

// unixListener removes its socket file when closed, unless the file has
// been replaced by another one meanwhile.
type unixListener struct {
	*net.UnixListener
	path string
	ino  uint64
	gone bool // no socket file of ours to remove
	once sync.Once
}

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if l.gone {
			return
		}
		if fi, serr := os.Lstat(l.path); serr == nil && inode(fi) == l.ino {
			os.Remove(l.path)
		}
	})
	return err
}

// Addr reports the socket's public path, not the temporary name it was
// bound under.
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// ListenInet listens on host:port as supervisord's [inet_http_server]
// does: IPv4 (Supervisor binds AF_INET), all interfaces when host is "".
// An IPv6 literal host is served too, which Supervisor cannot.
func ListenInet(host string, port int) (net.Listener, error) {
	network := "tcp4"
	if strings.Contains(host, ":") {
		network = "tcp"
	}
	l, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), ErrInUse)
		}
		return nil, err
	}
	return l, nil
}
