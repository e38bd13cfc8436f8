package ctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// Conn is a connection to something that speaks Supervisor's XML-RPC
// API; *xmlrpc.Client and *xmlrpc.Local satisfy it.
type Conn interface {
	// Call calls method. Values are decoded as xmlrpc.Client.Call
	// decodes them; a fault is a *xmlrpc.Fault, an HTTP status other
	// than 200 an *xmlrpc.HTTPError, and a connection failure an error
	// for which errors.Is(err, syscall.ECONNREFUSED) or
	// errors.Is(err, syscall.ENOENT) holds.
	Call(ctx context.Context, method string, args ...any) (any, error)
	// Tail opens "/logtail/NAMESPEC/stdout|stderr" or "/mainlogtail".
	Tail(ctx context.Context, path string) (io.ReadCloser, error)
	// ServerURL is the URL printed in "<url> refused connection".
	ServerURL() string
}

// A StatusLister is a Conn that can answer getAllProcessInfo with only
// what status reads of it (xmlrpc.Local.StatusRows: no structs and maps
// for 1000 processes). Its rows and errors must be what Call's answer
// to supervisor.getAllProcessInfo holds.
type StatusLister interface {
	StatusRows(ctx context.Context) ([]xmlrpc.StatusRow, error)
}

// supervisorctl's exit statuses (LSBInitExitStatuses, and
// LSBStatusExitStatuses for status).
const (
	exitSuccess                = 0
	exitGeneric                = 1
	exitInvalidArgs            = 2
	exitUnimplementedFeature   = 3
	exitInsufficientPrivileges = 4
	exitNotInstalled           = 5
	exitNotRunning             = 7

	statusNotRunning = 3
	statusUnknown    = 4
)

// exitInterrupted is the status when Ctrl-C ends a command that
// supervisorctl does not catch it in (Python dies of the SIGINT).
const exitInterrupted = 130

// errInterrupted is KeyboardInterrupt: Ctrl-C, or Run's ctx done.
var errInterrupted = errors.New("interrupted")

// errQuit is what EOF, quit and exit return to end the shell.
var errQuit = errors.New("quit")

// controller is supervisorctl's Controller with its default plugin.
type controller struct {
	opts       *Options
	conn       Conn
	in         lineReader
	stdout     io.Writer
	stderr     io.Writer
	buf        *bufio.Writer // stdout's buffer in one-command mode, else nil
	outMu      sync.Mutex    // tails write from other goroutines
	exitStatus int

	// completeInfo caches getAllProcessInfo for completion until the
	// next command, as _complete_info does.
	completeInfo []map[string]any

	// intrMu guards cancelCmd, the running command's cancel, and
	// pendingIntr, a Ctrl-C that came while no command ran (it ends the
	// next one at once, as KeyboardInterrupt would have ended the shell).
	intrMu      sync.Mutex
	cancelCmd   context.CancelFunc
	pendingIntr bool
	// intrCaught is set by the commands that catch Ctrl-C (tail -f, fg)
	// when they end because of it.
	intrCaught bool

	// rawMu guards restoreTerm, which puts the terminal back while the
	// shell reads a line in raw mode (nil otherwise).
	rawMu       sync.Mutex
	restoreTerm func()

	// dialed is conn when Run made it with opts.Dial (open, a new
	// password), to be closed when replaced and at the end.
	dialed Conn
}

// useConn makes conn, dialed here, the connection, and closes the
// previous one if it was dialed here too.
func (c *controller) useConn(conn Conn) {
	c.closeDialed()
	c.conn, c.dialed = conn, conn
}

func (c *controller) closeDialed() {
	if cl, ok := c.dialed.(io.Closer); ok {
		cl.Close()
	}
	c.dialed = nil
}

// Run runs supervisorctl on conn: the command line opts.Command (its
// words joined with single spaces, as supervisorctl joins them) or,
// without one, the interactive shell, which starts with `status`. It
// returns the exit status: the command's, or 0 for the shell. A nil conn
// stands for a server URL the transport refused (supervisorctl fails at
// the first call with "Unknown protocol for serverurl URL").
//
// Errors that are neither faults nor HTTP or socket errors (what another
// transport, such as the systemd one, reports: "systemd user manager not
// reachable: ...") are printed as "error: " + the error's text on one
// line, with status 1 (4 for status, as when the server is not reachable).
//
// Run changes opts as supervisorctl changes its options: `open` sets
// ServerURL, a password given in the shell sets Username and Password.
// Interrupts come from opts.Interrupt or ctx (see Options.Interrupt).
func Run(ctx context.Context, conn Conn, opts *Options, stdin io.Reader, stdout, stderr io.Writer) int {
	if conn == nil {
		conn = badURL(opts.ServerURL)
	}
	c := &controller{opts: opts, conn: conn, stdout: stdout, stderr: stderr}
	defer c.closeDialed()
	stop := c.watchInterrupts(ctx)
	defer stop()
	if len(opts.Command) > 0 {
		// one command: its lines go out in one write (a 1000-line
		// status was 1000 write(2) calls); streams and stderr flush it
		c.buf = bufio.NewWriterSize(stdout, 64<<10)
		c.stdout = c.buf
		defer c.flush()
		p := newPlainReader(stdin, c)
		defer p.close()
		c.in = p
		_, err := c.runCommand(ctx, strings.Join(opts.Command, " "))
		if err == errInterrupted {
			return exitInterrupted
		}
		return c.exitStatus
	}
	if opts.Interactive {
		c.shell(ctx, stdin)
	}
	return exitSuccess
}

// watchInterrupts turns opts.Interrupt into cancelling the running
// command, and opts.Terminate into the end of the process. The returned
// func stops watching.
func (c *controller) watchInterrupts(ctx context.Context) func() {
	if c.opts.Interrupt == nil && c.opts.Terminate == nil {
		return func() {}
	}
	done := make(chan struct{})
	intr, cdone := c.opts.Interrupt, ctx.Done()
	go func() {
		for {
			select {
			case <-done:
				return
			case <-cdone:
				// the command is ending as on Ctrl-C; TERM still ends it all
				intr, cdone = nil, nil
			case sig := <-c.opts.Terminate:
				c.rawMu.Lock()
				if c.restoreTerm != nil {
					c.restoreTerm()
				}
				if c.opts.Kill != nil {
					c.opts.Kill(sig)
				}
				c.rawMu.Unlock()
				return
			case <-intr:
				c.intrMu.Lock()
				if c.cancelCmd != nil {
					c.cancelCmd()
				} else {
					c.pendingIntr = true
				}
				c.intrMu.Unlock()
			}
		}
	}()
	return func() { close(done) }
}

// commandContext is ctx for one command, cancelled by Ctrl-C.
func (c *controller) commandContext(ctx context.Context) (context.Context, func()) {
	cctx, cancel := context.WithCancel(ctx)
	c.intrMu.Lock()
	c.cancelCmd = cancel
	if c.pendingIntr {
		c.pendingIntr = false
		cancel()
	}
	c.intrMu.Unlock()
	return cctx, func() {
		c.intrMu.Lock()
		c.cancelCmd = nil
		c.intrMu.Unlock()
		cancel()
	}
}

// runCommand runs one command line with its own context; stop reports
// that the shell should end. err is errInterrupted when Ctrl-C reached a
// command that does not catch it.
func (c *controller) runCommand(ctx context.Context, line string) (stop bool, err error) {
	cctx, done := c.commandContext(ctx)
	defer done()
	c.intrCaught = false
	stop, err = c.onecmd(cctx, line)
	if err == nil && cctx.Err() != nil && !c.intrCaught {
		// Ctrl-C came as the command ended: KeyboardInterrupt all the same
		err = errInterrupted
	}
	return stop, err
}

// output is Controller.output: the message and a newline on stdout.
func (c *controller) output(msg string) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.buf != nil { // one command: into the buffer, without a copy
		c.buf.WriteString(msg)
		c.buf.WriteByte('\n')
		return
	}
	io.WriteString(c.stdout, msg+"\n") // one write: a terminal redraws its prompt after each
}

// write writes data on stdout as it comes (tail -f, fg).
func (c *controller) write(p []byte) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.stdout.Write(p)
	if c.buf != nil {
		c.buf.Flush()
	}
}

// flush writes out what output buffered.
func (c *controller) flush() {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.buf != nil {
		c.buf.Flush()
	}
}

// errorf writes a line on stderr (the HTTP client's listener errors).
func (c *controller) errorf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.buf != nil {
		c.buf.Flush() // keep the order of stdout and stderr lines
	}
	fmt.Fprintf(c.stderr, format, args...)
}

// isIdentChar reports whether b is one of cmd.Cmd's identchars.
func isIdentChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// parseline is cmd.Cmd.parseline. ok is false where it returns None for
// the command ("!..." without a shell command).
func parseline(line string) (cmd, arg, rest string, ok bool) {
	line = pyStrip(line)
	if line == "" {
		return "", "", "", false
	}
	switch line[0] {
	case '?':
		line = "help " + line[1:]
	case '!':
		return "", "", line, false
	}
	i := 0
	for i < len(line) && isIdentChar(line[i]) {
		i++
	}
	return line[:i], pyStrip(line[i:]), line, true
}

// command is one do_X with its help_X.
type command struct {
	do   func(c *controller, ctx context.Context, arg string) error
	help func(c *controller) // nil: no help_X
}

// onecmd is Controller.onecmd: parse the line, run the command, and turn
// what it raised into supervisorctl's messages and exit status.
func (c *controller) onecmd(ctx context.Context, line string) (stop bool, err error) {
	name, arg, line, ok := parseline(line)
	if line == "" {
		return false, nil // emptyline: nothing, not even the last command
	}
	if !ok {
		c.unknown(line)
		return false, nil
	}
	c.completeInfo = nil
	if name == "" {
		c.unknown(line)
		return false, nil
	}
	cmd, found := commands[name]
	if !found {
		c.unknown(line)
		return false, nil
	}
	err = cmd.do(c, ctx, arg)
	var he *xmlrpc.HTTPError
	if errors.As(err, &he) && err != errInterrupted {
		if he.StatusCode == 401 {
			if c.opts.Interactive && c.opts.Dial != nil {
				return c.reauthenticate(ctx, line)
			}
			c.output("Server requires authentication")
			c.exitStatus = exitGeneric
			// supervisorctl then runs the command once more, and
			// reports what that run raises.
			err = cmd.do(c, ctx, arg)
		} else {
			c.exitStatus = exitGeneric
		}
	}
	switch {
	case err == nil:
		return false, nil
	case err == errQuit:
		return true, nil
	case err == errInterrupted || ctx.Err() != nil:
		return false, errInterrupted
	}
	c.output(errorLine(err, c.conn.ServerURL()))
	c.exitStatus = exitGeneric
	return false, nil
}

// reauthenticate asks for a username and password as the shell does on
// HTTP 401, connects with them and runs the line again.
func (c *controller) reauthenticate(ctx context.Context, line string) (bool, error) {
	c.output("Server requires authentication")
	username, err := c.in.readLine(ctx, "Username:")
	if err == nil {
		var password string
		password, err = c.in.readPassword(ctx, "Password:")
		if err == nil {
			c.output("")
			c.opts.Username, c.opts.Password = username, password
			c.opts.usernameSet, c.opts.passwordSet = true, true
			var conn Conn
			conn, err = c.opts.Dial(c.opts.ServerURL, username, password)
			if err == nil && conn == nil {
				conn = badURL(c.opts.ServerURL)
			}
			if err == nil {
				c.useConn(conn)
				return c.onecmd(ctx, line)
			}
		}
	}
	if err == errInterrupted {
		return false, err
	}
	if err == io.EOF {
		err = &pyError{class: "EOFError", msg: "EOF when reading a line", file: supervisorctlPy, line: 212}
	}
	c.output(errorLine(err, c.conn.ServerURL()))
	c.exitStatus = exitGeneric
	return false, nil
}

// unknown is Controller.default.
func (c *controller) unknown(line string) {
	c.output("*** Unknown syntax: " + line)
	c.exitStatus = exitGeneric
}

// setExitStatusFromFault is set_exitstatus_from_xmlrpc_fault.
func (c *controller) setExitStatusFromFault(code int, ignored ...int) {
	switch {
	case code == xmlrpc.FaultSuccess || (len(ignored) > 0 && code == ignored[0]):
	case code == xmlrpc.FaultSpawnError || code == xmlrpc.FaultAbnormalTermination || code == xmlrpc.FaultNotRunning:
		c.exitStatus = exitNotRunning
	default:
		c.exitStatus = exitGeneric
	}
}

// call calls method on the server; Ctrl-C during the call is
// errInterrupted.
func (c *controller) call(ctx context.Context, method string, args ...any) (any, error) {
	v, err := c.conn.Call(ctx, method, args...)
	if err != nil && ctx.Err() != nil {
		return nil, errInterrupted
	}
	return v, err
}

// upcheck is Controller.upcheck: getVersion must answer "3.0". false
// with a nil error means it printed why and set the exit status; an
// error is what supervisorctl lets propagate.
func (c *controller) upcheck(ctx context.Context) (bool, error) {
	api, err := c.call(ctx, "supervisor.getVersion")
	if err != nil {
		var f *xmlrpc.Fault
		switch {
		case err == errInterrupted:
			return false, err
		case errors.As(err, &f):
			if f.Code == xmlrpc.FaultUnknownMethod {
				c.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).")
				c.exitStatus = exitUnimplementedFeature
				return false, nil
			}
			c.exitStatus = exitGeneric
			return false, err
		case isRefused(err):
			c.output(c.conn.ServerURL() + " refused connection")
			c.exitStatus = exitInsufficientPrivileges
			return false, nil
		case isNoSuchFile(err):
			c.output(c.conn.ServerURL() + " no such file")
			c.exitStatus = exitNotRunning
			return false, nil
		case isSocketError(err) || isTransportError(err):
			c.exitStatus = exitGeneric
		}
		return false, err
	}
	if s, ok := api.(string); !ok || s != "3.0" {
		c.output(fmt.Sprintf("Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is %s.", pyStr(api)))
		c.exitStatus = exitNotInstalled
		return false, nil
	}
	return true, nil
}

// ask reads the answer to a question (raw_input); EOF is Python's
// EOFError, raised at line of supervisorctl.py.
func (c *controller) ask(ctx context.Context, prompt string, line int) (string, error) {
	s, err := c.in.readLine(ctx, prompt)
	if err == io.EOF {
		return "", &pyError{class: "EOFError", msg: "EOF when reading a line", file: supervisorctlPy, line: line}
	}
	return s, err
}
