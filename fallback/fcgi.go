package fallback

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/supersede/supersede/translate"
)

// fcgiSocket is an [fcgi-program:x]'s socket, as Supervisor's
// SocketManager keeps it: bound and listening while at least one process
// of the group holds it (it is their fd 0), closed when the last one
// exits.
type fcgiSocket struct {
	cfg  *translate.Socket
	refs int
	fd   int // -1 when closed
}

// check creates the socket and closes it again, as supervisord does when
// the group is made, so a bad socket shows at once.
func (fs *fcgiSocket) check(log func(slog.Level, string)) error {
	if _, err := fs.acquire(log); err != nil {
		return fmt.Errorf("Could not create FastCGI socket %s: %v", fs.cfg.URL, err)
	}
	fs.release(log)
	return nil
}

// acquire returns the listening socket for a spawn, creating it for the
// first holder.
func (fs *fcgiSocket) acquire(log func(slog.Level, string)) (int, error) {
	if fs.refs == 0 {
		log(slog.LevelInfo, "Creating socket "+fs.cfg.URL)
		fd, err := bindSocket(fs.cfg)
		if err != nil {
			return -1, err
		}
		fs.fd = fd
	}
	fs.refs++
	return fs.fd, nil
}

// release drops a holder; the last one closes the socket.
func (fs *fcgiSocket) release(log func(slog.Level, string)) {
	if fs.refs <= 0 {
		return
	}
	fs.refs--
	if fs.refs == 0 {
		log(slog.LevelInfo, "Closing socket "+fs.cfg.URL)
		syscall.Close(fs.fd)
		fs.fd = -1
	}
}

// bindSocket is create_and_bind and listen of Supervisor's socket
// configs: a unix socket replaces its file and gets its owner and mode;
// a TCP socket gets SO_REUSEADDR. The listen backlog is socket_backlog,
// else SOMAXCONN. Go's net.Listen cannot take a backlog, hence syscall.
func bindSocket(c *translate.Socket) (int, error) {
	backlog := syscall.SOMAXCONN
	if c.Backlog != nil {
		backlog = *c.Backlog
	}
	if path, ok := strings.CutPrefix(c.URL, "unix://"); ok {
		if _, err := os.Lstat(path); err == nil {
			os.Remove(path)
		}
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		fail := func(err error) (int, error) {
			syscall.Close(fd)
			os.Remove(path)
			return -1, err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
			return fail(err)
		}
		if c.Owner != nil {
			uid, gid := -1, -1
			if c.Owner[0] != nil {
				uid = *c.Owner[0]
			}
			if c.Owner[1] != nil {
				gid = *c.Owner[1]
			}
			if err := os.Chown(path, uid, gid); err != nil {
				return fail(fmt.Errorf("Could not change ownership of socket file: %v", err))
			}
		}
		if c.Mode != nil {
			if err := os.Chmod(path, os.FileMode(*c.Mode)); err != nil {
				return fail(fmt.Errorf("Could not change permissions of socket file: %v", err))
			}
		}
		if err := syscall.Listen(fd, backlog); err != nil {
			return fail(err)
		}
		return fd, nil
	}
	hostport, ok := strings.CutPrefix(c.URL, "tcp://")
	if !ok {
		return -1, fmt.Errorf("bad socket url %q", c.URL)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return -1, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return -1, err
	}
	addr := &syscall.SockaddrInet4{Port: n}
	if host != "" {
		ips, err := net.LookupIP(host)
		if err != nil {
			return -1, err
		}
		var ip4 net.IP
		for _, ip := range ips {
			if ip4 = ip.To4(); ip4 != nil {
				break
			}
		}
		if ip4 == nil {
			return -1, fmt.Errorf("no IPv4 address for %s", host)
		}
		copy(addr.Addr[:], ip4)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Bind(fd, addr); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}
