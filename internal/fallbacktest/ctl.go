package fallbacktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is one supervisorctl run.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int // exit status; -1 if it did not exit on its own (timeout)
}

// String shows the run as a transcript: the command line, its output,
// and the exit status when not 0.
func (r Result) String() string {
	var b strings.Builder
	b.WriteString("$ supervisorctl " + strings.Join(r.Args, " ") + "\n")
	b.WriteString(r.Stdout)
	if r.Stderr != "" {
		b.WriteString("[stderr]\n" + r.Stderr)
	}
	if r.Code != 0 {
		fmt.Fprintf(&b, "[exit %d]\n", r.Code)
	}
	return b.String()
}

// Ctl runs the real `supervisorctl -c CONF ARGS...` against the daemon.
func (d *Daemon) Ctl(args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	return d.ctl(ctx, args...)
}

func (d *Daemon) ctl(ctx context.Context, args ...string) Result {
	cmd := exec.CommandContext(ctx, SupervisorctlPath, append([]string{"-c", d.Conf}, args...)...)
	cmd.Dir = d.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.Code = -1
		r.Stderr += fmt.Sprintf("(fallbacktest: supervisorctl did not finish within %v)\n", ctlTimeout)
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	default:
		r.Code = -1
		r.Stderr += fmt.Sprintf("(fallbacktest: %v)\n", err)
	}
	d.snapshot()
	return r
}

// StateOf returns the state column of NAME's line in a status output
// ("RUNNING"), or "" if there is none.
func StateOf(status, name string) string {
	for line := range strings.Lines(status) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == name {
			return f[1]
		}
	}
	return ""
}

// pollInterval is the pause between two polls of WaitState: a poll
// costs both supervisorctl and the daemon some CPU, and Supervisor
// changes states at most once per loop.
const pollInterval = 50 * time.Millisecond

// DefaultWait bounds WaitState and WaitFor; generous, because the
// machine is shared and noisy.
const DefaultWait = 30 * time.Second

// WaitState polls `supervisorctl status NAME` until NAME is in one of
// states and returns the last status output; after DefaultWait, or when
// the daemon exits, it returns an error holding the last output. It
// polls through one interactive supervisorctl kept open for the daemon,
// so that a poll costs a round trip rather than a Python start.
func (d *Daemon) WaitState(name string, states ...string) (string, error) {
	deadline := time.Now().Add(DefaultWait)
	for {
		out, err := d.poll("status " + name)
		if err == nil && slices.Contains(states, StateOf(out, name)) {
			return out, nil
		}
		if err != nil {
			out = err.Error()
		}
		if d.Exited() {
			return out, fmt.Errorf("waiting for %s to be %s: %w; last status:\n%s", name, strings.Join(states, " or "), ErrExited, out)
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("%s not %s within %v; last status:\n%s", name, strings.Join(states, " or "), DefaultWait, out)
		}
		time.Sleep(pollInterval)
	}
}

// prompt ends each answer of an interactive supervisorctl.
const prompt = "supervisor> "

// poller is an interactive supervisorctl reading commands on its stdin.
type poller struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	chunks chan []byte // what it prints; closed when it exits
	buf    []byte
}

// poll runs one command in the daemon's interactive supervisorctl,
// starting it if needed, and returns what it printed. An empty line only
// starts it.
func (d *Daemon) poll(line string) (string, error) {
	d.pollMu.Lock()
	defer d.pollMu.Unlock()
	if d.pollerClosed {
		return "", errors.New("the daemon is closed")
	}
	if d.poller == nil {
		p, err := startPoller(d)
		if err != nil {
			return "", err
		}
		d.poller = p
		if _, err := p.read(); err != nil { // the initial status
			d.stopPoller()
			return "", err
		}
	}
	if line == "" {
		return "", nil
	}
	if _, err := io.WriteString(d.poller.stdin, line+"\n"); err != nil {
		d.stopPoller()
		return "", err
	}
	out, err := d.poller.read()
	if err != nil {
		d.stopPoller()
	}
	return out, err
}

func startPoller(d *Daemon) (*poller, error) {
	cmd := exec.Command(SupervisorctlPath, "-c", d.Conf)
	cmd.Dir = d.Dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &poller{cmd: cmd, stdin: stdin, chunks: make(chan []byte, 16)}
	go func() {
		defer close(p.chunks)
		for {
			buf := make([]byte, 4096)
			n, err := stdout.Read(buf)
			if n > 0 {
				p.chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

// read returns what the poller prints up to its next prompt.
func (p *poller) read() (string, error) {
	timeout := time.After(ctlTimeout)
	for {
		if i := bytes.Index(p.buf, []byte(prompt)); i >= 0 {
			out := string(p.buf[:i])
			p.buf = p.buf[i+len(prompt):]
			return out, nil
		}
		select {
		case chunk, ok := <-p.chunks:
			if !ok {
				return "", fmt.Errorf("interactive supervisorctl exited; it printed %q", p.buf)
			}
			p.buf = append(p.buf, chunk...)
		case <-timeout:
			return "", fmt.Errorf("interactive supervisorctl did not answer within %v; it printed %q", ctlTimeout, p.buf)
		}
	}
}

// stopPoller ends the interactive supervisorctl, if any: EOF on its
// stdin, then SIGKILL by its PID if it lingers. The caller holds pollMu.
func (d *Daemon) stopPoller() {
	p := d.poller
	if p == nil {
		return
	}
	d.poller = nil
	p.stdin.Close()
	done := make(chan struct{})
	go func() {
		for range p.chunks {
		}
		p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killTimeout):
		p.cmd.Process.Kill()
		<-done
	}
}

// WaitFor polls cond every few milliseconds until it returns true, and
// fails after DefaultWait with what names the condition. It is for
// conditions cheaper to check than a supervisorctl run: files, /proc.
func (d *Daemon) WaitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(DefaultWait)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not true within %v", what, DefaultWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// ReadFile reads a file of the daemon's directory; "" if it does not
// exist.
func (d *Daemon) ReadFile(name string) string {
	data, _ := os.ReadFile(d.Path(name))
	return string(data)
}

// Path is name inside the daemon's directory.
func (d *Daemon) Path(name string) string { return d.Dir + "/" + name }

// SyncBuffer is a bytes.Buffer safe for one writer and one reader: a
// command's output that a test polls while the command runs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CtlFollow runs a supervisorctl command that does not end by itself
// (`tail -f`, `maintail -f`) until its standard output satisfies until,
// then interrupts it as Ctrl-C would (SIGINT to its PID) and returns the
// run. If until is not satisfied within DefaultWait, the run is
// interrupted all the same and an error says so.
func (d *Daemon) CtlFollow(until func(stdout string) bool, args ...string) (Result, error) {
	cmd := exec.Command(SupervisorctlPath, append([]string{"-c", d.Conf}, args...)...)
	cmd.Dir = d.Dir
	var stdout, stderr SyncBuffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return Result{Args: args, Code: -1, Stderr: err.Error()}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	deadline := time.Now().Add(DefaultWait)
	exitedEarly := false
poll:
	for !until(stdout.String()) {
		select {
		case err := <-done:
			exitedEarly = true
			done <- err
			break poll
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			waitErr = fmt.Errorf("supervisorctl %s: output not as expected within %v; output:\n%s", strings.Join(args, " "), DefaultWait, stdout.String())
			break
		}
	}
	if !exitedEarly {
		cmd.Process.Signal(syscall.SIGINT)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(killTimeout):
		cmd.Process.Kill()
		err = <-done
	}
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.Code = exit.ExitCode()
	} else if err != nil {
		r.Code = -1
	}
	d.snapshot()
	return r, waitErr
}
