package sdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/renameio/v2"
)

// Timeouts. They bound waiting on a manager that misbehaves; a healthy one
// is far quicker (start-up takes about 0.1 s here). The machine is shared
// and noisy, so they are generous.
const (
	startTimeout   = 30 * time.Second // journald's socket, the manager's socket, start-up finished
	stopTimeout    = 30 * time.Second // the manager after SIGTERM: it stops every unit first
	killTimeout    = 5 * time.Second  // after SIGKILL; for cgroups to empty
	commandTimeout = 2 * time.Minute  // one systemctl or journalctl run
	pollInterval   = 10 * time.Millisecond
)

// hostPath is the PATH of the manager and of the commands run in its
// namespace.
const hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Options configure a test manager.
type Options struct {
	// Generator is an executable to install as a user generator, or "".
	// It is copied into /run/systemd/user-generators inside the namespace
	// and runs at start-up and on every daemon-reload, with the output
	// directories $XDG_RUNTIME_DIR/systemd/generator{,.early,.late}
	// (GeneratorDir and its siblings). Its stderr goes to the manager's
	// log, which a failing test prints.
	Generator string
	// Env holds extra NAME=VALUE pairs for the manager's environment,
	// which its generators and services inherit.
	Env []string
}

// Manager is one running systemd --user with its own journald. Its methods
// report problems through the testing.TB given to Start (or to For), so
// call them from that test's goroutine.
type Manager struct {
	Base          string   // private temporary directory; removed at teardown
	RuntimeDir    string   // $XDG_RUNTIME_DIR (mode 0700)
	ConfigHome    string   // $XDG_CONFIG_HOME
	UnitDir       string   // $XDG_CONFIG_HOME/systemd/user: put test units here
	GeneratorDir  string   // $XDG_RUNTIME_DIR/systemd/generator: a generator's normal output (.early and .late beside it)
	Home          string   // $HOME of the manager, its services and Command
	PrivateSocket string   // the manager's own D-Bus socket, $XDG_RUNTIME_DIR/systemd/private
	BusAddress    string   // session bus address (unix:path=$XDG_RUNTIME_DIR/bus), "" without a bus daemon
	PID           int      // systemd --user
	JournaldPID   int      // systemd-journald
	MountNS       string   // the mount namespace, as /proc/PID/ns/mnt links to it: "mnt:[4026532...]"
	Cgroups       []string // the manager's top cgroup, one directory per hierarchy

	t testing.TB
	s *state
}

// state is what copies of a Manager (For) share.
type state struct {
	cg         *cgroups
	journald   *proc
	manager    *proc
	stopOnce   sync.Once
	stopErr    error
	stopCalled bool   // Stop was called: its caller, not the cleanup, reports the error
	logs       string // manager and journald output, kept at teardown
}

// proc is a daemon the harness started, reaped by its own goroutine.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to timeout, then SIGKILL and waits again.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	if p == nil || p.exited() {
		return nil
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) ignored %v for %v; killed", p.cmd.Path, p.cmd.Process.Pid, sig, timeout)
	case <-time.After(killTimeout):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", p.cmd.Path, p.cmd.Process.Pid)
	}
}

// stopReporting is stop, which on a timeout first asks report what the
// process is waiting for (while it still runs) and adds that to the
// error.
func (p *proc) stopReporting(sig syscall.Signal, timeout time.Duration, report func() string) error {
	if p == nil || p.exited() {
		return nil
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	left := report()
	if err := p.stop(syscall.SIGKILL, killTimeout); err != nil {
		return fmt.Errorf("%w\n%s", err, left)
	}
	return fmt.Errorf("%s (pid %d) ignored %v for %v; killed\n%s", p.cmd.Path, p.cmd.Process.Pid, sig, timeout, left)
}

// whatIsLeft lists the jobs of a manager that does not stop, and the
// units not yet inactive, with the processes of their cgroups: what a
// teardown that times out waits for.
func (m *Manager) whatIsLeft() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	for _, args := range [][]string{
		{"--user", "--no-pager", "list-jobs"},
		{"--user", "--no-pager", "list-units", "--all", "--state=active,activating,deactivating,reloading"},
		{"--user", "--no-pager", "status", "--lines=0"},
	} {
		out, stderr, err := m.run(ctx, "systemctl", args...)
		fmt.Fprintf(&b, "$ systemctl %s\n%s%s", strings.Join(args, " "), out, stderr)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	// A service that does not stop: SIGQUIT makes a Go program (serve,
	// run) print its goroutines to its stderr, the journal; the teardown
	// kills everything next anyway.
	out, _, _ := m.run(ctx, "systemctl", "--user", "--no-pager", "--no-legend", "list-units", "--state=deactivating", "--type=service")
	for line := range strings.Lines(out) {
		f := strings.Fields(strings.TrimLeft(line, "● "))
		if len(f) == 0 {
			continue
		}
		unit := f[0]
		m.run(ctx, "systemctl", "--user", "kill", "--kill-whom=main", "--signal=SIGQUIT", unit)
		var j string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			m.run(ctx, "journalctl", "--sync")
			j, _, _ = m.run(ctx, "journalctl", "--no-pager", "-q", "-n", "400", "--user-unit", unit)
			if strings.Contains(j, "Main process exited") {
				break // it has written what it had to say, and ended
			}
		}
		fmt.Fprintf(&b, "$ journalctl --user-unit %s (after SIGQUIT)\n%s", unit, j)
	}
	return b.String()
}

var managerCount atomic.Int64

// journaldScript prepares the private mount namespace it runs in, moves
// itself into journald's cgroups and becomes systemd-journald.
// $1 = systemd-journald, $2 = generator or "", the rest = cgroup.procs files.
const journaldScript = `set -e
mount -t tmpfs -o mode=0755,size=256m sdtest-run /run
mkdir -p /run/systemd/system /run/systemd/journal /run/log/journal /run/systemd/user-generators /run/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n' >/run/systemd/journald.conf.d/zz-sdtest.conf
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755,size=16m sdtest-journal /var/log/journal; fi
journald=$1 gen=$2
shift 2
if [ -n "$gen" ]; then cp "$gen" /run/systemd/user-generators/; fi
for f; do echo $$ >"$f"; done
exec "$journald"
`

// managerScript moves itself into the cgroup.procs files before "--" and
// execs the rest.
const managerScript = `while [ "$1" != -- ]; do echo $$ >"$1"; shift; done
shift
exec "$@"
`

// Start starts a systemd user manager and its journald for the test, and
// registers their teardown with t.Cleanup. It returns once the manager has
// finished starting up (systemctl is-system-running says running or
// degraded). Without root, systemd or writable cgroups it skips the test
// (fails under CI=true), through Require.
func Start(t testing.TB, opts Options) *Manager {
	t.Helper()
	Require(t)
	m, err := start(opts, func(m *Manager) {
		m.t = t
		t.Cleanup(func() {
			m.s.stopOnce.Do(func() { m.s.stopErr = m.stop() })
			if err := m.s.stopErr; err != nil && !m.s.stopCalled {
				t.Errorf("sdtest: teardown: %v", err)
			}
			if t.Failed() && m.s.logs != "" {
				t.Logf("sdtest: output of the manager and journald:\n%s", m.s.logs)
			}
		})
	})
	if err != nil {
		t.Fatalf("sdtest: start a systemd user manager: %v", err)
	}
	return m
}

// Launch is Start for a program that is not a test (the demo of
// internal/demo): it returns an error where Start would skip or fail, and
// the caller must call Stop. On an error it has torn down what it started.
// Only the methods that return errors (TrySystemctl, Command, Stop, ...)
// may be used on its manager: the others report to a test.
func Launch(opts Options) (*Manager, error) {
	if h := probe(); h.missing != "" {
		return nil, errors.New(h.missing)
	}
	var started *Manager
	m, err := start(opts, func(m *Manager) { started = m })
	if err != nil {
		if started != nil {
			if serr := started.Stop(); serr != nil {
				err = fmt.Errorf("%w; tearing down: %v", err, serr)
			}
		}
		return nil, err
	}
	return m, nil
}

// start starts the manager; onCreate is called as soon as there is
// something to tear down.
func start(opts Options, onCreate func(*Manager)) (*Manager, error) {
	h := probe()
	gen := opts.Generator
	if gen != "" {
		var err error
		if gen, err = filepath.Abs(gen); err != nil {
			return nil, err
		}
		fi, err := os.Stat(gen)
		if err != nil {
			return nil, fmt.Errorf("generator: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("generator %s is not an executable file", gen)
		}
	}
	for _, kv := range opts.Env {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return nil, fmt.Errorf("Options.Env: %q is not NAME=VALUE", kv)
		}
	}

	base, err := tempDir()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		Base:          base,
		RuntimeDir:    filepath.Join(base, "rt"),
		ConfigHome:    filepath.Join(base, "config"),
		UnitDir:       filepath.Join(base, "config", "systemd", "user"),
		GeneratorDir:  filepath.Join(base, "rt", "systemd", "generator"),
		Home:          filepath.Join(base, "home"),
		PrivateSocket: filepath.Join(base, "rt", "systemd", "private"),
		s:             &state{},
	}
	onCreate(m)
	if err := os.Mkdir(m.RuntimeDir, 0o700); err != nil {
		return nil, err
	}
	for _, d := range []string{m.UnitDir, m.Home, m.dataHome(), m.stateHome(), m.cacheHome()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}

	// The manager's cgroup is named like a real user manager's, so
	// journald sees its services as user units (_SYSTEMD_USER_UNIT,
	// journalctl --user-unit; systemd.md §6.3).
	name := fmt.Sprintf("sdtest_%d_%d.slice", os.Getpid(), managerCount.Add(1))
	// A cgroup of this name can only be a leftover of an earlier test
	// process that had this PID and was killed before its cleanup (a
	// timeout's SIGKILL): the counter never gives this process a name
	// twice. Empty, it is removed; one that still holds a process stays,
	// and makeCgroups says so.
	stale := &cgroups{}
	for _, hr := range h.hierarchies {
		stale.tops = append(stale.tops, filepath.Join(hr, name))
	}
	_ = stale.remove()
	m.s.cg, err = makeCgroups(h.hierarchies, name, "journald.scope", "user@0.service")
	m.Cgroups = m.s.cg.tops
	if err != nil {
		return nil, err
	}

	// journald first: it creates the namespace and holds it.
	jlog, err := os.Create(filepath.Join(base, "journald.log"))
	if err != nil {
		return nil, err
	}
	defer jlog.Close()
	args := append([]string{"-c", journaldScript, "sh", h.journald, gen}, m.s.cg.procsFiles("journald.scope")...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Env = []string{"PATH=" + hostPath}
	cmd.Stdout, cmd.Stderr = jlog, jlog
	cmd.Dir = "/"
	// Unshareflags CLONE_NEWNS also makes every mount private (the os/exec
	// child marks / MS_REC|MS_PRIVATE), as unshare --propagation private
	// does. Pdeathsig: if the test process dies without its cleanup (a
	// test timeout panics), journald and the manager are told to exit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGTERM}
	if m.s.journald, err = startProc(cmd); err != nil {
		return nil, fmt.Errorf("start journald: %w", err)
	}
	m.JournaldPID = cmd.Process.Pid
	// /proc/PID/root resolves paths in journald's namespace.
	stream := filepath.Join("/proc", strconv.Itoa(m.JournaldPID), "root/run/systemd/journal/stdout")
	if err := waitFile(stream, m.s.journald); err != nil {
		return nil, fmt.Errorf("journald: %w\n%s", err, readLog(jlog.Name()))
	}
	if m.MountNS, err = os.Readlink(filepath.Join("/proc", strconv.Itoa(m.JournaldPID), "ns/mnt")); err != nil {
		return nil, fmt.Errorf("journald's mount namespace: %w", err)
	}

	mlog, err := os.Create(filepath.Join(base, "manager.log"))
	if err != nil {
		return nil, err
	}
	defer mlog.Close()
	args = []string{"-m", "-t", strconv.Itoa(m.JournaldPID), "--", "/bin/sh", "-c", managerScript, "sh"}
	args = append(args, m.s.cg.procsFiles("user@0.service")...)
	args = append(args, "--", "env", "-i")
	args = append(args, m.managerEnv(opts.Env)...)
	args = append(args, h.systemd, "--user")
	cmd = exec.Command(h.nsenter, args...)
	cmd.Env = []string{"PATH=" + hostPath}
	cmd.Stdout, cmd.Stderr = mlog, mlog
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if m.s.manager, err = startProc(cmd); err != nil {
		return nil, fmt.Errorf("start systemd --user: %w", err)
	}
	m.PID = cmd.Process.Pid
	if err := waitListening(m.PrivateSocket, m.s.manager); err != nil {
		return nil, fmt.Errorf("systemd --user: %w\n%s", err, readLog(mlog.Name()))
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, stderr, err := m.run(ctx, "systemctl", "--user", "is-system-running", "--wait")
	if state := strings.TrimSpace(out); state != "running" && state != "degraded" {
		return nil, fmt.Errorf("systemd --user did not finish starting up: is-system-running says %q (%v) %s\n%s", state, err, stderr, readLog(mlog.Name()))
	}
	if fi, err := os.Stat(filepath.Join(m.RuntimeDir, "bus")); err == nil && fi.Mode().Type() == os.ModeSocket && hasBusDaemon() {
		m.BusAddress = "unix:path=" + filepath.Join(m.RuntimeDir, "bus")
	}
	return m, nil
}

// hasBusDaemon reports whether a session bus daemon is installed for
// dbus.socket to activate.
func hasBusDaemon() bool {
	_, ok := firstFile("/usr/bin/dbus-daemon", "/usr/bin/dbus-broker-launch", "/bin/dbus-daemon")
	return ok
}

// tempDir makes the private directory. Unix socket paths are limited to
// 108 bytes, so it falls back to /tmp when $TMPDIR is long.
func tempDir() (string, error) {
	dir := os.TempDir()
	if len(dir) > 40 {
		dir = "/tmp"
	}
	return os.MkdirTemp(dir, "sdtest")
}

func (m *Manager) dataHome() string  { return filepath.Join(m.Base, "data") }
func (m *Manager) stateHome() string { return filepath.Join(m.Base, "state") }
func (m *Manager) cacheHome() string { return filepath.Join(m.Base, "cache") }

// managerEnv is the manager's whole environment, which its services
// inherit: close to what pam_systemd gives user@0.service, with every
// directory inside Base.
func (m *Manager) managerEnv(extra []string) []string {
	env := []string{
		"PATH=" + hostPath,
		"HOME=" + m.Home,
		"USER=root",
		"LOGNAME=root",
		"XDG_RUNTIME_DIR=" + m.RuntimeDir,
		"XDG_CONFIG_HOME=" + m.ConfigHome,
		"XDG_DATA_HOME=" + m.dataHome(),
		"XDG_STATE_HOME=" + m.stateHome(),
		"XDG_CACHE_HOME=" + m.cacheHome(),
	}
	return append(env, extra...)
}

// waitFile waits until path exists, or p exits.
func waitFile(path string, p *proc) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("exited (%v) before %s appeared", p.cmd.ProcessState, filepath.Base(path))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v", path, startTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitListening waits until a unix socket accepts connections (the file
// appears at bind(), before listen()), or p exits.
func waitListening(path string, p *proc) error {
	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.Dial("unix", path)
		if err == nil {
			conn.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("exited (%v) before %s accepted connections", p.cmd.ProcessState, filepath.Base(path))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s accepts no connection after %v: %w", path, startTimeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readLog returns a log file's content for an error message.
func readLog(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// For returns the manager with its methods reporting to t, for a subtest
// (possibly parallel) that uses a manager its parent started.
func (m *Manager) For(t testing.TB) *Manager {
	c := *m
	c.t = t
	return &c
}

// Env returns what a client of the manager needs in its environment:
// XDG_RUNTIME_DIR (systemctl --user finds the manager through it),
// DBUS_SESSION_BUS_ADDRESS when there is a session bus (go-systemd's
// NewUserConnectionContext needs it), and the manager's HOME and XDG_*_HOME,
// so that any client-side file operation stays inside Base.
func (m *Manager) Env() []string {
	env := []string{
		"XDG_RUNTIME_DIR=" + m.RuntimeDir,
		"HOME=" + m.Home,
		"XDG_CONFIG_HOME=" + m.ConfigHome,
		"XDG_DATA_HOME=" + m.dataHome(),
		"XDG_STATE_HOME=" + m.stateHome(),
		"XDG_CACHE_HOME=" + m.cacheHome(),
	}
	if m.BusAddress != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+m.BusAddress)
	}
	return env
}

// Command returns a command that runs name inside the manager's mount
// namespace (nsenter -m), where /run is the private one: it sees
// /run/systemd/system and the private journal. Its environment is PATH,
// SYSTEMD_PAGER= and SYSTEMD_COLORS=0, then m.Env(); append to cmd.Env to
// add more. It runs in the test's current directory, entered from inside
// the namespace (nsenter --wdns: with --wd the directory would be opened
// outside it, and getcwd(2) in the command would fail with ENOENT, as for
// an unreachable directory); cmd.Dir has no effect
// (entering the namespace resets it), so pass absolute paths or use sh -c
// 'cd DIR && exec ...'.
func (m *Manager) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	wd, err := os.Getwd()
	if err != nil {
		wd = "/"
	}
	nsargs := []string{"-m", "-t", strconv.Itoa(m.JournaldPID), "--wdns=" + wd, "--", name}
	cmd := exec.CommandContext(ctx, probe().nsenter, append(nsargs, args...)...)
	cmd.Env = append([]string{"PATH=" + hostPath, "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}, m.Env()...)
	cmd.WaitDelay = time.Second
	return cmd
}

// run runs a command in the namespace and returns its outputs.
func (m *Manager) run(ctx context.Context, name string, args ...string) (stdout, stderr string, err error) {
	cmd := m.Command(ctx, name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(e.String()))
	}
	return o.String(), e.String(), err
}

// TrySystemctl runs systemctl --user ARGS in the namespace and returns its
// standard output; the error, on a non-zero exit, holds its standard error.
func (m *Manager) TrySystemctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, _, err := m.run(ctx, "systemctl", append([]string{"--user", "--no-pager", "--no-ask-password"}, args...)...)
	return out, err
}

// Systemctl is TrySystemctl that fails the test on an error.
func (m *Manager) Systemctl(args ...string) string {
	m.t.Helper()
	out, err := m.TrySystemctl(args...)
	if err != nil {
		m.t.Fatalf("sdtest: %v", err)
	}
	return out
}

// DaemonReload runs systemctl --user daemon-reload.
func (m *Manager) DaemonReload() {
	m.t.Helper()
	m.Systemctl("daemon-reload")
}

// Show returns a unit's properties (systemctl --user show UNIT -p PROP...),
// all of them when props is empty.
func (m *Manager) Show(unit string, props ...string) map[string]string {
	m.t.Helper()
	args := []string{"show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	return parseShow(m.Systemctl(args...))
}

// parseShow reads systemctl show's NAME=VALUE lines.
func parseShow(out string) map[string]string {
	props := map[string]string{}
	for line := range strings.Lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "="); ok {
			props[k] = v
		}
	}
	return props
}

// WaitFor polls a unit's property until it has value, and fails the test
// (with the unit's status) if it has not after timeout.
func (m *Manager) WaitFor(unit, prop, value string, timeout time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := m.Show(unit, prop)[prop]
		if got == value {
			return
		}
		if time.Now().After(deadline) {
			status, _ := m.TrySystemctl("status", "--lines=20", unit)
			m.t.Fatalf("sdtest: %s: %s=%q after %v, want %q\n%s", unit, prop, got, timeout, value, status)
		}
		time.Sleep(pollInterval)
	}
}

// WaitUntil polls a unit's properties props until cond holds for them and
// returns them; it fails the test (with the unit's status) if cond does
// not hold after timeout.
func (m *Manager) WaitUntil(unit string, timeout time.Duration, cond func(props map[string]string) bool, props ...string) map[string]string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := m.Show(unit, props...)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			status, _ := m.TrySystemctl("status", "--lines=20", unit)
			m.t.Fatalf("sdtest: %s: condition not met after %v; last %v\n%s", unit, timeout, got, status)
		}
		time.Sleep(pollInterval)
	}
}

// Journal runs journalctl --no-pager -q ARGS in the namespace, on the
// private journal, and returns its output. It first waits until journald
// has written everything it received (journalctl --sync), so a line a
// service wrote before the call is there. Select a unit's lines with
// "--user-unit", "NAME.service" (the unit's cgroup is under user@0.service)
// or "-t", "IDENTIFIER".
func (m *Manager) Journal(args ...string) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if _, _, err := m.run(ctx, "journalctl", "--sync"); err != nil {
		m.t.Fatalf("sdtest: %v", err)
	}
	out, _, err := m.run(ctx, "journalctl", append([]string{"--no-pager", "-q"}, args...)...)
	if err != nil {
		m.t.Fatalf("sdtest: %v", err)
	}
	return out
}

// WriteUnit writes a unit file (or a drop-in, "x.service.d/y.conf") into
// UnitDir, atomically. Run DaemonReload before using it.
func (m *Manager) WriteUnit(name, content string) {
	m.t.Helper()
	path := filepath.Join(m.UnitDir, name)
	if err := writeFile(path, content); err != nil {
		m.t.Fatalf("sdtest: %v", err)
	}
}

// writeFile writes path atomically (renameio), creating its directory.
func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, []byte(content), 0o644, renameio.WithStaticPermissions(0o644))
}

// Stop tears the manager down now; t.Cleanup does it otherwise. It stops
// the manager (SIGTERM: it stops its units and exits) and then journald,
// by PID; kills by PID whatever is left in their cgroups; removes the
// cgroups, deepest first, and Base. It reports whatever it could not
// clean, and any process still in the mount namespace (a command the
// test started with Command and left running). Later calls return the
// first call's result; once Stop was called, the cleanup leaves reporting
// it to the caller.
func (m *Manager) Stop() error {
	m.s.stopCalled = true
	m.s.stopOnce.Do(func() { m.s.stopErr = m.stop() })
	return m.s.stopErr
}

func (m *Manager) stop() error {
	var errs []error
	if p := m.s.manager; p != nil && p.exited() {
		errs = append(errs, fmt.Errorf("systemd --user had exited before teardown: %v", p.cmd.ProcessState))
	}
	if err := m.s.manager.stopReporting(syscall.SIGTERM, stopTimeout, m.whatIsLeft); err != nil {
		errs = append(errs, err)
	}
	// Left-overs in the manager's cgroup (a KillMode=process child, a
	// generator's child), while journald still holds the namespace.
	if err := m.killLeftovers(m.JournaldPID); err != nil {
		errs = append(errs, err)
	}
	// Namespace IDs are reused as soon as a namespace is gone, so look for
	// strays in it while journald still holds it: only a command the test
	// started with Command can be there now.
	if p := m.s.journald; p != nil && !p.exited() && m.MountNS != "" {
		if pids := slices.DeleteFunc(inMountNS(m.MountNS), func(pid int) bool { return pid == m.JournaldPID }); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("processes %v are still in the manager's mount namespace (commands the test left running?)", pids))
		}
	}
	if err := m.s.journald.stop(syscall.SIGTERM, killTimeout); err != nil {
		errs = append(errs, err)
	}
	if err := m.killLeftovers(0); err != nil {
		errs = append(errs, err)
	}
	if cg := m.s.cg; cg != nil {
		// A cgroup can stay busy for a moment after its last process.
		deadline := time.Now().Add(killTimeout)
		for {
			err := cg.remove()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				errs = append(errs, err)
				break
			}
			time.Sleep(pollInterval)
		}
	}
	if m.Base != "" {
		m.s.logs = "== journald ==\n" + readLog(filepath.Join(m.Base, "journald.log")) +
			"== systemd --user ==\n" + readLog(filepath.Join(m.Base, "manager.log"))
		if err := os.RemoveAll(m.Base); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killLeftovers kills, by PID, every process in the manager's cgroups but
// spare, and waits until they are gone.
func (m *Manager) killLeftovers(spare int) error {
	cg := m.s.cg
	if cg == nil {
		return nil
	}
	deadline := time.Now().Add(killTimeout)
	for {
		pids, err := cg.pids()
		if err != nil {
			return err
		}
		pids = slices.DeleteFunc(pids, func(pid int) bool { return pid == spare })
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still in cgroup %s after SIGKILL", pids, cg.tops[0])
		}
		if _, err := cg.kill(spare); err != nil {
			return err
		}
		time.Sleep(pollInterval)
	}
}

// inMountNS returns the processes whose mount namespace is ns.
func inMountNS(ns string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/mnt")); err == nil && link == ns {
			pids = append(pids, pid)
		}
	}
	return pids
}
