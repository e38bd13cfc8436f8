package logfile

import (
	"errors"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// ErrUndecodable is the error for output that Supervisor cannot decode
// as UTF-8 where it needs text: a log read over XML-RPC (Supervisor
// answers HTTP 500 there) or a chunk for syslog (Supervisor prints a
// traceback and sends nothing).
var ErrUndecodable = errors.New("output is not valid UTF-8")

// errNoSyslog: /dev/log could not be reached; the message is dropped, as
// the C library drops it without LOG_CONS.
var errNoSyslog = errors.New("syslog: /dev/log is not reachable; message dropped")

// syslogRetry is how long after a failed connection messages are dropped
// without trying again.
const syslogRetry = time.Second

// Syslog sends messages to the local syslog socket (/dev/log) as
// Python's syslog.syslog does through the C library: facility user,
// priority info, "<14>Mmm dd hh:mm:ss IDENT: message", a datagram socket
// or else a stream one. It connects on first use and again after an
// error; when /dev/log is missing messages are dropped (with an error)
// and the connection is retried at most once a second.
//
// Written here rather than with log/syslog: that package always adds
// "[pid]" after the tag and gives up for good when Dial finds no
// socket, and neither is what Supervisor's syslog output looks like.
//
// A Syslog is safe for concurrent use.
type Syslog struct {
	ident string
	path  string
	now   func() time.Time

	mu      sync.Mutex
	fd      int
	stream  bool
	lastTry time.Time
	msg     []byte
}

// NewSyslog returns a Syslog whose messages carry ident, the name the
// C library takes from argv[0] ("supervisord").
func NewSyslog(ident string) *Syslog {
	return &Syslog{ident: ident, path: "/dev/log", now: time.Now, fd: -1}
}

// Close closes the connection, if any. The Syslog can still be used:
// it connects again.
func (w *Syslog) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.disconnect()
	return nil
}

// Send sends one message.
func (w *Syslog) Send(msg string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.send(msg)
}

// Lines sends data as SyslogHandler.emit sends a child's output chunk:
// decoded as UTF-8 (an undecodable chunk is not sent at all:
// ErrUndecodable), trailing newlines removed, then one message
// "NAME line" per line, empty lines included.
func (w *Syslog) Lines(name string, data []byte) error {
	if !utf8.Valid(data) {
		return ErrUndecodable
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var first error
	msg := strings.TrimRight(string(data), "\n")
	for line := range strings.SplitSeq(msg, "\n") {
		if strings.IndexByte(line, 0) >= 0 {
			// Python's syslog.syslog refuses an embedded NUL with a
			// ValueError, which ends the handler's loop.
			return errors.Join(first, errors.New("syslog: embedded null character; rest of the output not sent"))
		}
		if err := w.send(name + " " + line); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// send sends one message. Locked.
func (w *Syslog) send(msg string) error {
	if w.fd < 0 {
		if err := w.connect(); err != nil {
			return err
		}
	}
	now := w.now()
	b := append(w.msg[:0], "<14>"...)
	b = now.AppendFormat(b, "Jan _2 15:04:05")
	b = append(b, ' ')
	b = append(b, w.ident...)
	b = append(b, ": "...)
	b = append(b, msg...)
	if w.stream {
		b = append(b, 0) // the C library ends a stream record with its NUL
	}
	w.msg = b[:0]
	err := w.write(b)
	if err != nil && err != syscall.EAGAIN {
		// syslogd restarted or went away: reconnect once, as the C
		// library does.
		w.disconnect()
		if cerr := w.connect(); cerr != nil {
			return cerr
		}
		err = w.write(b)
	}
	if err != nil {
		return errors.New("syslog: " + err.Error() + "; message dropped")
	}
	return nil
}

func (w *Syslog) write(b []byte) error {
	for {
		n, err := syscall.SendmsgN(w.fd, b, nil, nil, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
		if err == syscall.EINTR {
			continue
		}
		if err == nil && w.stream && n < len(b) {
			b = b[n:]
			continue
		}
		return err
	}
}

// connect opens the socket: datagram first, then stream. Locked.
func (w *Syslog) connect() error {
	now := w.now()
	if !w.lastTry.IsZero() && now.Sub(w.lastTry) < syslogRetry {
		return errNoSyslog
	}
	w.lastTry = now
	for _, typ := range []int{syscall.SOCK_DGRAM, syscall.SOCK_STREAM} {
		fd, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return errNoSyslog
		}
		if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: w.path}); err != nil {
			syscall.Close(fd)
			if err == syscall.EPROTOTYPE {
				continue
			}
			return errNoSyslog
		}
		w.fd, w.stream = fd, typ == syscall.SOCK_STREAM
		w.lastTry = time.Time{}
		return nil
	}
	return errNoSyslog
}

func (w *Syslog) disconnect() {
	if w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}
