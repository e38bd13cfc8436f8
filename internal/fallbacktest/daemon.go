package fallbacktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Impl names a supervisor daemon implementation.
type Impl string

// The two daemons the harness can run.
const (
	Supervisord Impl = "supervisord" // the real supervisord 4.2.5: supervisord -n -c FILE
	Supersede   Impl = "supersede"   // supersede run -n -c FILE
)

// Timeouts. They bound waiting on a daemon that misbehaves; a healthy
// one answers far sooner. The machine is shared and noisy, so they are
// generous.
const (
	readyTimeout    = 20 * time.Second // until the socket answers
	ctlTimeout      = 60 * time.Second // one supervisorctl run
	shutdownTimeout = 30 * time.Second // supervisorctl shutdown until the daemon exits
	killTimeout     = 5 * time.Second  // after SIGTERM/SIGKILL by PID
	orphanGrace     = 3 * time.Second  // for killed descendants to finish dying
)

// Config is what a test puts into the generated configuration. In every
// string, {DIR} stands for the daemon's private directory.
type Config struct {
	// Supervisord holds extra lines for the [supervisord] section, after
	// the harness's logfile, pidfile and childlogdir (a later key wins).
	Supervisord string
	// Sections is the rest of the file: [program:x], [group:x], ...
	Sections string
	// Files are written into the directory before the daemon starts,
	// name → content; a content starting with "#!" is made executable.
	Files map[string]string
	// InheritFile passes the daemon an extra open file without
	// close-on-exec (fd 3, /dev/null), as a careless parent would:
	// supervisord closes every fd above 2 in its children.
	InheritFile bool
	// Env is the daemon's whole environment (NAME=VALUE); nil passes on
	// the test process's own. {DIR} is expanded in it.
	Env []string
}

// Daemon is one running supervisor daemon in its own directory.
type Daemon struct {
	Impl Impl
	Dir  string // private directory: config, socket, logs
	Conf string // the configuration file
	Sock string // the unix socket supervisorctl talks to

	t       testing.TB
	cmd     *exec.Cmd
	pid     int
	exited  chan struct{} // closed when the daemon has exited and been reaped
	waitErr error         // cmd.Wait's result, once exited is closed

	pollMu sync.Mutex
	poller *poller // interactive supervisorctl for WaitState
	// pollerClosed is set by Close: no new poller after it.
	pollerClosed bool

	mu      sync.Mutex
	tracked map[int]uint64 // descendants seen so far: pid → start time
	closed  bool
}

// Start writes cfg into a new private directory, starts impl on it and
// waits until its socket answers. Teardown is registered with t.Cleanup.
// Start is safe to call from any goroutine: it reports problems as
// errors, never with t.Fatal; but the Require checks (RequireSupervisor,
// RequireSupersede) must have run on the test's goroutine first.
func Start(t testing.TB, impl Impl, cfg Config) (*Daemon, error) {
	var argv []string
	switch impl {
	case Supervisord:
		argv = []string{SupervisordPath, "-n"}
	case Supersede:
		build.Lock()
		path, err := build.path, build.err
		build.Unlock()
		if path == "" || err != nil {
			return nil, fmt.Errorf("fallbacktest: supersede is not built; call fallbacktest.RequireSupersede(t) on the test goroutine first")
		}
		argv = []string{path, "run", "-n"}
	default:
		return nil, fmt.Errorf("fallbacktest: unknown daemon %q (use fallbacktest.Supervisord or fallbacktest.Supersede)", impl)
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		Impl:    impl,
		Dir:     dir,
		Conf:    filepath.Join(dir, "supervisord.conf"),
		Sock:    filepath.Join(dir, "supervisor.sock"),
		t:       t,
		exited:  make(chan struct{}),
		tracked: map[int]uint64{},
	}
	t.Cleanup(func() {
		for _, p := range d.Close() {
			t.Errorf("fallbacktest: %s: process %s of the daemon's tree survived teardown; killed it", impl, p)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("fallbacktest: removing %s: %v", dir, err)
		}
	})
	if err := os.Mkdir(filepath.Join(dir, "log"), 0o755); err != nil {
		return nil, err
	}
	if err := WriteFiles(dir, cfg.Files); err != nil {
		return nil, err
	}
	if err := d.WriteConfig(cfg); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "daemon.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	d.cmd = exec.Command(argv[0], append(argv[1:], "-c", d.Conf)...)
	d.cmd.Dir = dir
	d.cmd.Stdout = out
	d.cmd.Stderr = out
	for _, kv := range cfg.Env {
		d.cmd.Env = append(d.cmd.Env, d.Expand(kv))
	}
	if cfg.Env != nil && d.cmd.Env == nil {
		d.cmd.Env = []string{}
	}
	// Its own session: every process the daemon starts keeps the session
	// id (Supervisor's children only call setpgrp), even once orphaned,
	// so teardown finds them all. Pdeathsig: if the test process dies,
	// so does the daemon.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if cfg.InheritFile {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		d.cmd.ExtraFiles = []*os.File{null}
	}
	if err := d.cmd.Start(); err != nil {
		close(d.exited)
		return nil, fmt.Errorf("starting %s: %w", impl, err)
	}
	d.pid = d.cmd.Process.Pid
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	// Start WaitState's interactive supervisorctl now, while the daemon
	// starts: Python takes a while to start on a loaded machine, and a
	// first wait would otherwise miss a short-lived state.
	go d.poll("")
	if err := d.WaitReady(); err != nil {
		return d, err
	}
	return d, nil
}

// makeDir makes the private directory. A unix socket path must fit in
// 108 bytes, so it is short and directly under the temporary directory.
func makeDir() (string, error) {
	base := os.TempDir()
	if len(base) > 60 {
		base = "/tmp"
	}
	return os.MkdirTemp(base, "fbt-")
}

// Expand replaces {DIR} in s with the daemon's directory.
func (d *Daemon) Expand(s string) string { return strings.ReplaceAll(s, "{DIR}", d.Dir) }

// WriteConfig (re)writes the configuration file from cfg (its Files are
// not written), atomically, as a test does before reread or update.
func (d *Daemon) WriteConfig(cfg Config) error { return WriteConfig(d.Dir, cfg) }

// WriteConfig writes dir/supervisord.conf from cfg, atomically, as Start
// does for a daemon whose directory is dir ({DIR} stands for dir): for a
// test that runs the same configuration elsewhere (as systemd units).
func WriteConfig(dir string, cfg Config) error {
	text := strings.ReplaceAll(fmt.Sprintf(`[supervisord]
logfile={DIR}/supervisord.log
pidfile={DIR}/supervisord.pid
childlogdir={DIR}/log
%s
[unix_http_server]
file={DIR}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{DIR}/supervisor.sock

%s`, cfg.Supervisord, cfg.Sections), "{DIR}", dir)
	conf := filepath.Join(dir, "supervisord.conf")
	tmp := conf + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, conf)
}

// WriteFiles writes files (name → content, {DIR} standing for dir) into
// dir, as Start does with Config.Files: a content starting with "#!" is
// made executable.
func WriteFiles(dir string, files map[string]string) error {
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(content, "{DIR}", dir)), mode); err != nil {
			return err
		}
	}
	return nil
}

// PID is the daemon's process id.
func (d *Daemon) PID() int { return d.pid }

// Exited reports whether the daemon process has exited.
func (d *Daemon) Exited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// WaitExit waits up to timeout for the daemon to exit and returns its
// exit status, or an error if it still runs.
func (d *Daemon) WaitExit(timeout time.Duration) (int, error) {
	select {
	case <-d.exited:
		return d.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s (pid %d) still runs after %v", d.Impl, d.pid, timeout)
	}
}

// Output is what the daemon wrote to its stdout and stderr so far.
func (d *Daemon) Output() string {
	data, _ := os.ReadFile(filepath.Join(d.Dir, "daemon.out"))
	return string(data)
}

// WaitReady waits until the daemon answers supervisor.getState with
// RUNNING on its socket (after start or reload), or fails after a
// deadline or when the daemon exits.
func (d *Daemon) WaitReady() error {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.Sock)
		},
		DisableKeepAlives: true,
	}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	var last error
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		if d.Exited() {
			return fmt.Errorf("%s exited before its socket answered (%v); its output:\n%s", d.Impl, d.waitErr, d.Output())
		}
		if last = getStateRunning(client); last == nil {
			d.snapshot()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %v: %v; its output:\n%s", d.Impl, d.Sock, readyTimeout, last, d.Output())
		}
		time.Sleep(delay)
	}
}

// getStateRunning calls supervisor.getState and checks the daemon is
// RUNNING. It recognises the one answer it needs without an XML-RPC
// library, so the readiness check does not share code with the daemon
// under test.
func getStateRunning(client *http.Client) error {
	const call = `<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>`
	resp, err := client.Post("http://localhost/RPC2", "text/xml", strings.NewReader(call))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("getState: HTTP %s", resp.Status)
	}
	if !bytes.Contains(body, []byte("RUNNING")) {
		return fmt.Errorf("getState: not RUNNING yet: %s", body)
	}
	return nil
}

// snapshot records the daemon's current descendants, so that teardown
// can find them even if they leave the session and lose their parent.
func (d *Daemon) snapshot() {
	if d.Exited() {
		return
	}
	procs, err := Procs()
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range Tree(procs, d.pid) {
		if p.PID != d.pid {
			d.tracked[p.PID] = p.StartTime
		}
	}
}

// Descendants lists the live processes of the daemon's tree other than
// the daemon itself: those in its session, and those seen as its
// descendants earlier that still run.
func (d *Daemon) Descendants() []Proc {
	procs, _ := Procs()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Proc
	for _, p := range procs {
		if p.PID == d.pid || !p.Alive() {
			continue
		}
		start, seen := d.tracked[p.PID]
		if p.SID == d.pid || (seen && start == p.StartTime) {
			out = append(out, p)
		}
	}
	return out
}

// Close tears the daemon down and returns the processes of its tree that
// survived it (which it has killed): `supervisorctl shutdown`, then
// SIGTERM and SIGKILL by PID if the daemon still runs, then a check that
// nothing of its tree is left. Teardown calls it; a test may call it
// earlier. Later calls return nil.
func (d *Daemon) Close() []Proc {
	d.mu.Lock()
	if d.closed || d.cmd == nil || d.cmd.Process == nil {
		d.closed = true
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.pollMu.Lock()
	d.pollerClosed = true
	d.stopPoller()
	d.pollMu.Unlock()
	if !d.Exited() {
		d.snapshot()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		d.ctl(ctx, "shutdown")
		cancel()
		if _, err := d.WaitExit(shutdownTimeout); err != nil {
			d.t.Logf("fallbacktest: %s did not shut down through supervisorctl; sending SIGTERM", d.Impl)
			d.cmd.Process.Signal(syscall.SIGTERM)
			if _, err := d.WaitExit(killTimeout); err != nil {
				d.cmd.Process.Kill()
				d.WaitExit(killTimeout)
			}
		}
	}
	// Give processes killed with their group a moment to finish dying.
	deadline := time.Now().Add(orphanGrace)
	left := d.Descendants()
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		left = d.Descendants()
	}
	for _, p := range left {
		if Alive(p.PID, p.StartTime) {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	return left
}

// ErrExited is returned by waits when the daemon exits meanwhile.
var ErrExited = errors.New("daemon exited")
