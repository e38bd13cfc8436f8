package sysd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// The journal is read by running journalctl. go-systemd's sdjournal
// package needs cgo and libsystemd's headers at build time and dlopens
// libsystemd at run time, so it cannot be part of the static
// CGO_ENABLED=0 binary supersede ships (reference/systemd.md §5.5);
// journalctl is on every host that has a journal, reads every journal
// file format its systemd writes, and follows with -f. Its output is the
// program's output only: the lines it wrote to stdout and stderr
// (_TRANSPORT=stdout), not systemd's messages about the unit, as
// Supervisor's log files hold only what the program wrote.

// journalMatch is journalctl's selection of a unit's output. Under a
// user manager journald names the unit from the writer's cgroup
// (_SYSTEMD_USER_UNIT); when the writer is gone before its line is read
// (a step that printed Supervisor's spawn error and died at once, on a
// busy machine), journald falls back to the unit the stream was opened
// for and records it as _SYSTEMD_UNIT, under the user's uid: both are
// the unit's output.
func (m *Manager) journalMatch(unit string) []string {
	if m.opts.Scope == User {
		return []string{"_SYSTEMD_USER_UNIT=" + unit, "_TRANSPORT=stdout",
			"+", "_SYSTEMD_UNIT=" + unit, "_TRANSPORT=stdout", "_UID=" + strconv.Itoa(os.Getuid())}
	}
	return []string{"_SYSTEMD_UNIT=" + unit, "_TRANSPORT=stdout"}
}

// managerMatch selects the manager's own messages, supervisord's main
// log under systemd.
func (m *Manager) managerMatch() []string {
	pid := m.PID()
	if pid == 0 {
		return nil
	}
	return []string{"_PID=" + strconv.Itoa(pid)}
}

// journalctl runs journalctl with args and returns its output.
func journalctl(ctx context.Context, args ...string) ([]byte, error) {
	path, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, fmt.Errorf("reading the journal needs journalctl: %w", err)
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"--no-pager", "-q", "-o", "cat"}, args...)...)
	cmd.SysProcAttr = dieWithParent()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("journalctl: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// JournalFor reports whether a process's channel goes to the journal
// (rather than to a log file the XML-RPC layer reads itself), and the
// unit. status.ErrBadName for an unknown process.
func (m *Manager) JournalFor(ctx context.Context, group, name, channel string) (unit string, journal bool, err error) {
	p, err := m.procOf(ctx, group, name)
	if err != nil {
		return "", false, err
	}
	l := p.p.Stdout
	if channel == "stderr" {
		if p.p.RedirectStderr {
			return p.unit, false, nil // Supervisor: no stderr log
		}
		l = p.p.Stderr
	}
	if l.Kind == translate.LogNone && !l.Syslog { // StandardOutput=null
		return p.unit, false, nil
	}
	return p.unit, m.logPath(l) == "", nil
}

// ReadJournal returns the last n bytes of a unit's output in the journal
// (n <= 0: all of it). Nothing at all is an error when journalctl can
// read no journal here (none, or none this user may read), rather than
// an empty output.
func (m *Manager) ReadJournal(ctx context.Context, unit string, n int) ([]byte, error) {
	out, err := readJournal(ctx, m.journalMatch(unit), n)
	if err == nil && len(out) == 0 {
		if why := unreadableJournal(ctx, m.opts.Scope); why != "" {
			return nil, errors.New(why)
		}
	}
	return out, err
}

// unreadableJournal says why journalctl can read no journal that holds
// the scope's units, or "" when it can (then an empty output means the
// unit wrote nothing). extra are more journalctl arguments (a test's
// --directory).
func unreadableJournal(ctx context.Context, scope Scope, extra ...string) string {
	path, err := exec.LookPath("journalctl")
	if err != nil {
		return "reading the journal needs journalctl (apt-get install systemd)"
	}
	// without -q, journalctl says on stderr what it could not open
	cmd := exec.CommandContext(ctx, path, append([]string{"--no-pager", "-n", "0"}, extra...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("journalctl: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	msg := strings.TrimSpace(stderr.String())
	first, _, _ := strings.Cut(msg, "\n")
	switch {
	case strings.Contains(msg, "No journal files were found"):
		return "no journal here (" + first + "): is systemd-journald running? To keep Supervisor's log files instead, convert with --log-files and pass --log-files to ctl"
	case strings.Contains(msg, "insufficient permissions"),
		scope == System && strings.Contains(msg, "not seeing messages from other users and the system"):
		return "the journal is not readable by this user (" + first + "): run ctl as root, or as a member of the systemd-journal or adm group"
	}
	return ""
}

// ReadManagerJournal is ReadJournal for the manager's own messages.
func (m *Manager) ReadManagerJournal(ctx context.Context, n int) ([]byte, error) {
	match := m.managerMatch()
	if match == nil {
		return nil, status.ErrNoFile
	}
	return readJournal(ctx, match, n)
}

// readJournal is the last n bytes (n <= 0: all) of the entries match
// selects.
func readJournal(ctx context.Context, match []string, n int) ([]byte, error) {
	args := match
	if n > 0 {
		// every line is at least one byte, so n lines hold the last n bytes
		args = append([]string{"-n", strconv.Itoa(n)}, match...)
	}
	out, err := journalctl(ctx, args...)
	if err != nil {
		return nil, err
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

// FollowJournal streams a unit's output as Supervisor's /logtail does:
// the last head bytes, then every new line, until ctx is done or the
// reader is closed. unit "" follows the manager's own messages.
func (m *Manager) FollowJournal(ctx context.Context, unit string, head int) (io.ReadCloser, error) {
	match := m.managerMatch()
	if unit != "" {
		match = m.journalMatch(unit)
	}
	if match == nil {
		return nil, status.ErrNoFile
	}
	path, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, fmt.Errorf("following the journal needs journalctl: %w", err)
	}
	// the backlog, with the cursor of its last entry
	out, err := journalctl(ctx, append([]string{"-n", strconv.Itoa(head), "--show-cursor"}, match...)...)
	if err != nil {
		return nil, err
	}
	cursor := ""
	if i := bytes.LastIndex(out, []byte("-- cursor: ")); i >= 0 {
		cursor = strings.TrimSpace(string(out[i+len("-- cursor: "):]))
		out = out[:i]
	}
	if len(out) > head {
		out = out[len(out)-head:]
	}
	ctx, cancel := context.WithCancel(ctx)
	args := []string{"--no-pager", "-q", "-o", "cat", "-f"}
	if cursor != "" {
		args = append(args, "--after-cursor", cursor)
	} else {
		args = append(args, "-n", "0")
	}
	cmd := exec.CommandContext(ctx, path, append(args, match...)...)
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	return &follower{Reader: io.MultiReader(bytes.NewReader(out), bufio.NewReader(stdout)), cancel: cancel, cmd: cmd}, nil
}

// FollowNewOutput follows a unit's output in the journal from now on
// (journalctl -f -n 0), for serve's PROCESS_LOG events: each line as it
// comes, until ctx is done or the reader is closed.
func (m *Manager) FollowNewOutput(ctx context.Context, unit string) (io.ReadCloser, error) {
	path, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, fmt.Errorf("following the journal needs journalctl: %w", err)
	}
	// From the journal's last entry, whatever its unit: a follow with
	// -n 0 and a match that nothing matched yet was seen to miss the
	// entries that came later (systemd 252, journalctl -f under serve).
	args := []string{"--no-pager", "-q", "-o", "cat", "-f"}
	if out, err := journalctl(ctx, "-n", "1", "--show-cursor"); err == nil {
		if i := bytes.LastIndex(out, []byte("-- cursor: ")); i >= 0 {
			args = append(args, "--after-cursor", strings.TrimSpace(string(out[i+len("-- cursor: "):])))
		}
	}
	if len(args) == 5 {
		args = append(args, "-n", "0")
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, path, append(args, m.journalMatch(unit)...)...)
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	return &follower{Reader: stdout, cancel: cancel, cmd: cmd}, nil
}

// dieWithParent makes journalctl end when ctl does, however it ends:
// `tail -f` under a SIGTERM (which kills ctl, as it kills supervisorctl)
// must not leave a journalctl following forever. The signal comes when
// the thread that started it ends; Go ends threads only with the process
// (nothing here locks a goroutine to its thread).
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

type follower struct {
	io.Reader
	cancel context.CancelFunc
	cmd    *exec.Cmd
	once   sync.Once
}

// Close stops journalctl and waits for it, once: /logtail closes its
// source both when its client goes and when the stream ends, at the same
// moment, and two concurrent exec.Cmd.Wait race (the race detector
// reports it) and could leave the second waiting for ever, with the
// stream and serve's stop behind it (the teardown hang of the serve
// tests under load).
func (f *follower) Close() error {
	f.once.Do(func() {
		f.cancel()
		f.cmd.Wait()
	})
	return nil
}
