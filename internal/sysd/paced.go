package sysd

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// pacedConn is the wire's unix stream socket, read and written with
// plain system calls instead of through the runtime's network poller.
//
// Why not net.UnixConn: a status of 1000 units is one batch of 1000
// calls, which the manager answers one message at a time, about 10 µs
// apart. A reader parked in the network poller is woken for each of
// them: a thousand wake-ups, each a cross-CPU interrupt and a context
// switch on both sides, which on this project's 2-core VM cost more than
// the manager's own work (the batch took 30–80 ms where the manager
// spends 10 ms). pacedConn's Read, once a stream of replies is under
// way, lets pace go by before it reads again, and then takes every reply
// that arrived meanwhile in one read(2): a few dozen wake-ups instead of
// a thousand. A read that finds nothing after a quiet spell blocks in
// poll(2) as usual, so a single call and its reply cost one wake-up, not
// a pace. Writes block in poll(2) for room, which a unix socket signals
// only once its buffer is three quarters free.
type pacedConn struct {
	fd       int
	closed   atomic.Bool
	rdl, wdl atomic.Int64 // read and write deadlines, Unix ns; 0 for none
	flowing  bool         // the last read returned data: more may be on its way

	mu    sync.Mutex // guards users and the closing of fd
	users int        // Reads and Writes under way: fd stays open for them
}

// pace is how long Read lets replies gather once they flow.
const pace = 250 * time.Microsecond

// dialPaced connects to the unix stream socket at addr ("@name" for an
// abstract one).
func dialPaced(ctx context.Context, addr string) (*pacedConn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// connecting to a unix socket either succeeds at once or fails
	// (EAGAIN: a full backlog), so a blocking connect cannot hang long
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: addr}); err != nil {
		unix.Close(fd)
		return nil, &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: addr, Net: "unix"}, Err: os.NewSyscallError("connect", err)}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	c := &pacedConn{fd: fd}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return c, nil
}

// wait blocks until fd is ready for events or the deadline dl passes.
func (c *pacedConn) wait(events int16, dl int64) error {
	for {
		if c.closed.Load() {
			return net.ErrClosed
		}
		var timeout *unix.Timespec
		if dl != 0 {
			left := time.Until(time.Unix(0, dl))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			// wake at least every second: SetDeadline may move it
			ts := unix.NsecToTimespec(int64(min(left, time.Second)))
			timeout = &ts
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: events}}
		n, err := unix.Ppoll(fds, timeout, nil)
		switch {
		case err == unix.EINTR, n == 0:
			continue
		case err != nil:
			return os.NewSyscallError("poll", err)
		}
		return nil
	}
}

// use registers a Read or Write; false once Close was called.
func (c *pacedConn) use() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.users++
	return true
}

// done ends what use began; the last one out after Close closes fd.
func (c *pacedConn) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	if c.users == 0 && c.closed.Load() {
		unix.Close(c.fd)
	}
}

func (c *pacedConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !c.use() {
		return 0, net.ErrClosed
	}
	defer c.done()
	for {
		if c.closed.Load() {
			return 0, net.ErrClosed
		}
		n, err := unix.Read(c.fd, p)
		switch {
		case n > 0:
			c.flowing = true
			return n, nil
		case err == nil:
			return 0, io.EOF
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, os.NewSyscallError("read", err)
		}
		if c.flowing {
			// replies are arriving: let some gather rather than wake
			// for each (see pacedConn)
			c.flowing = false
			sleep(pace)
			continue
		}
		if err := c.wait(unix.POLLIN, c.rdl.Load()); err != nil {
			return 0, err
		}
	}
}

func (c *pacedConn) Write(p []byte) (int, error) {
	if !c.use() {
		return 0, net.ErrClosed
	}
	defer c.done()
	done := 0
	for done < len(p) {
		if c.closed.Load() {
			return done, net.ErrClosed
		}
		n, err := unix.Write(c.fd, p[done:])
		if n > 0 {
			done += n
			continue
		}
		switch {
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			if err == nil {
				err = io.ErrShortWrite
			}
			return done, os.NewSyscallError("write", err)
		}
		if err := c.wait(unix.POLLOUT, c.wdl.Load()); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Close shuts the socket down, which wakes a Read or Write blocked in
// poll(2) on it (close alone does not); the socket is closed once none
// is under way, so that its number is not reused under them.
func (c *pacedConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Swap(true) {
		return net.ErrClosed
	}
	unix.Shutdown(c.fd, unix.SHUT_RDWR)
	if c.users == 0 {
		return unix.Close(c.fd)
	}
	return nil
}

// sleep waits d with nanosleep(2). time.Sleep is no good for a pace:
// the runtime's timers wake about 1 ms late here (a 250 µs Sleep took
// 1.05 ms), and that millisecond came after the last reply of every
// batch.
func sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (c *pacedConn) SetDeadline(t time.Time) error {
	c.rdl.Store(unixNano(t))
	c.wdl.Store(unixNano(t))
	return nil
}

func (c *pacedConn) SetReadDeadline(t time.Time) error {
	c.rdl.Store(unixNano(t))
	return nil
}

func (c *pacedConn) SetWriteDeadline(t time.Time) error {
	c.wdl.Store(unixNano(t))
	return nil
}

func (c *pacedConn) LocalAddr() net.Addr  { return &net.UnixAddr{Net: "unix"} }
func (c *pacedConn) RemoteAddr() net.Addr { return &net.UnixAddr{Net: "unix"} }

var _ net.Conn = (*pacedConn)(nil)
