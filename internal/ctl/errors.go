package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// Where Debian's supervisorctl raises what it prints as
// "error: <class>, <value>: file: F line: L" (asyncore.compact_traceback
// names the innermost frame).
const (
	supervisorctlPy = "/usr/lib/python3/dist-packages/supervisor/supervisorctl.py"
	supervisorRPCPy = "/usr/lib/python3/dist-packages/supervisor/xmlrpc.py"
	xmlrpcClientPy  = "/usr/lib/python3.11/xmlrpc/client.py"
	socketPy        = "/usr/lib/python3.11/socket.py"
)

// pyError is a Python exception supervisorctl raises itself, printed as
// it prints it.
type pyError struct {
	class string // "ValueError"
	msg   string // str() of the exception
	file  string
	line  int
}

func (e *pyError) Error() string { return e.msg }

// errorLine is the line supervisorctl's onecmd prints for an exception a
// command did not handle.
func errorLine(err error, serverURL string) string {
	class, value, file, line := pyException(err, serverURL)
	if class == "" {
		// Not something the Python client could raise: another
		// transport's error, said as it is.
		return "error: " + oneLine(err.Error())
	}
	return fmt.Sprintf("error: <class '%s'>, %s: file: %s line: %d", class, value, file, line)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// pyException names the Python exception the XML-RPC client of
// supervisorctl raises where the Go client returned err; class is "" if
// there is none.
func pyException(err error, serverURL string) (class, value, file string, line int) {
	var (
		pe    *pyError
		fault *xmlrpc.Fault
		he    *xmlrpc.HTTPError
		dns   *net.DNSError
		errno syscall.Errno
	)
	switch {
	case errors.As(err, &pe):
		return pe.class, pe.msg, pe.file, pe.line
	case errors.As(err, &fault):
		return "xmlrpc.client.Fault", fmt.Sprintf("<Fault %d: %s>", fault.Code, pyRepr(fault.String)), xmlrpcClientPy, 668
	case errors.As(err, &he):
		return "xmlrpc.client.ProtocolError", fmt.Sprintf("<ProtocolError for 127.0.0.1/RPC2: %s>", httpStatus(he)), supervisorRPCPy, 539
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "socket.gaierror", "[Errno -2] Name or service not known", socketPy, 962
		}
		return "socket.gaierror", "[Errno -3] Temporary failure in name resolution", socketPy, 962
	case errors.As(err, &errno) && isSocketError(err):
		file, line := socketPy, 836
		if strings.HasPrefix(serverURL, "unix://") {
			file, line = supervisorRPCPy, 557
		}
		return oserrorClass(errno), fmt.Sprintf("[Errno %d] %s", int(errno), strerror(errno)), file, line
	}
	return "", "", "", 0
}

// httpStatus is "CODE REASON" as ProtocolError shows it.
func httpStatus(he *xmlrpc.HTTPError) string {
	if he.Status != "" {
		return he.Status
	}
	return fmt.Sprintf("%d ", he.StatusCode)
}

// oserrorClass is the OSError subclass Python raises for errno.
func oserrorClass(errno syscall.Errno) string {
	switch errno {
	case syscall.ECONNREFUSED:
		return "ConnectionRefusedError"
	case syscall.ENOENT:
		return "FileNotFoundError"
	case syscall.EACCES, syscall.EPERM:
		return "PermissionError"
	case syscall.ECONNRESET:
		return "ConnectionResetError"
	case syscall.ECONNABORTED:
		return "ConnectionAbortedError"
	case syscall.EPIPE, syscall.ESHUTDOWN:
		return "BrokenPipeError"
	case syscall.ETIMEDOUT:
		return "TimeoutError"
	case syscall.ENOTDIR:
		return "NotADirectoryError"
	case syscall.EISDIR:
		return "IsADirectoryError"
	case syscall.EAGAIN, syscall.EALREADY, syscall.EINPROGRESS:
		return "BlockingIOError"
	case syscall.EINTR:
		return "InterruptedError"
	}
	return "OSError"
}

// strerror is C's strerror: Go's texts are glibc's with a lower-case
// first letter.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// isSocketError reports whether err is what Python raises as
// socket.error (OSError) from a connection: a dial or read error.
func isSocketError(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var errno syscall.Errno
	return errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &errno)
}

func isRefused(err error) bool    { return errors.Is(err, syscall.ECONNREFUSED) }
func isNoSuchFile(err error) bool { return errors.Is(err, syscall.ENOENT) }

// isTransportError reports whether err is neither a fault, nor an HTTP
// or socket error, nor one of supervisorctl's own: an error of another
// transport (the systemd one) that supervisorctl could not meet.
func isTransportError(err error) bool {
	var (
		pe    *pyError
		fault *xmlrpc.Fault
		he    *xmlrpc.HTTPError
	)
	return !errors.As(err, &pe) && !errors.As(err, &fault) && !errors.As(err, &he) &&
		!isSocketError(err) && err != errInterrupted && !errors.Is(err, context.Canceled)
}

// badURLConn stands for a server URL that supervisorctl's transport
// refuses: every call raises its ValueError.
type badURLConn struct{ url string }

func badURL(url string) Conn { return badURLConn{url} }

func (b badURLConn) err() error {
	return &pyError{class: "ValueError", msg: "Unknown protocol for serverurl " + b.url, file: supervisorRPCPy, line: 505}
}
func (b badURLConn) Call(context.Context, string, ...any) (any, error) { return nil, b.err() }
func (b badURLConn) Tail(context.Context, string) (io.ReadCloser, error) {
	return nil, b.err()
}
func (b badURLConn) ServerURL() string { return b.url }

// overflow is what Python's XML-RPC marshaller raises for an int beyond
// 32 bits.
var errOverflow = &pyError{class: "OverflowError", msg: "int exceeds XML-RPC limits", file: xmlrpcClientPy, line: 552}

// malformed is a server answer of the wrong shape; supervisorctl would
// fail with a TypeError or KeyError deep inside a command.
func malformed(what string, v any) error {
	return fmt.Errorf("malformed answer from the server: %s: %s", what, pyStr(v))
}
