package sysd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
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
// the unit's output. The second also selects the output of a system unit
// of the same name run by that uid (root running --user), which
// journalctl cannot leave out (it matches no field's absence): ctl reads
// user units' output through userOutput, which does.
func (m *Manager) journalMatch(unit string) []string {
	if m.opts.Scope == User {
		uid := "_UID=" + strconv.Itoa(os.Getuid())
		return []string{"_SYSTEMD_USER_UNIT=" + unit, "_TRANSPORT=stdout", uid,
			"+", "_SYSTEMD_UNIT=" + unit, "_TRANSPORT=stdout", uid}
	}
	return []string{"_SYSTEMD_UNIT=" + unit, "_TRANSPORT=stdout"}
}

// outputArgs are journalctl's output options for a unit's output: the
// messages alone (-o cat), or, under a user manager, the entries in
// journalctl's export format with the fields userOutput needs.
func (m *Manager) outputArgs() []string {
	if m.opts.Scope == User {
		return []string{"-o", "export", "--output-fields=MESSAGE,_SYSTEMD_CGROUP,_SYSTEMD_USER_UNIT"}
	}
	return []string{"-o", "cat"}
}

// userOutput reads journalctl's export output of a user unit's entries
// (outputArgs) as -o cat gives it, each kept entry's message and a
// newline, leaving out the entries of a system unit of the same name:
// those that journald did not attribute to a user unit, written from a
// cgroup outside the user manager's (managerCgroup). (A user manager in
// the root cgroup, as in some containers, leaves nothing out.)
// The lines journald attributed to the stream's unit, its writer gone,
// carry no cgroup: they are kept (a system unit's such lines, rarer
// still, cannot be told from them). It also keeps the cursor of the last
// entry read, kept or not.
type userOutput struct {
	r       *bufio.Reader
	manager string // the user manager's cgroup, "" or "/" when it is the root
	out     []byte // the kept message not yet read
	cursor  string
	dropped int // entries left out
	err     error
}

func newUserOutput(r io.Reader, manager string) *userOutput {
	if manager == "/" {
		manager = ""
	}
	return &userOutput{r: bufio.NewReader(r), manager: manager}
}

func (u *userOutput) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		u.entry()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// entry reads one entry of the export format: FIELD=VALUE lines, or
// FIELD, a little-endian 64-bit size and as many bytes for a value that
// is not text, then an empty line. (Written here: the one Go reader of
// the journal, go-systemd's sdjournal, needs cgo; the format's parser
// is these few lines.)
func (u *userOutput) entry() {
	var msg []byte
	hasMsg, cgroup, userUnit := false, "", false
	fields := 0
	for {
		line, err := u.r.ReadBytes('\n')
		if err != nil {
			if err == io.EOF && len(line) == 0 && fields == 0 {
				u.err = io.EOF
			} else if err == io.EOF {
				u.err = io.ErrUnexpectedEOF
			} else {
				u.err = err
			}
			return
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break
		}
		fields++
		name, value, text := bytes.Cut(line, []byte("="))
		if !text {
			var size [8]byte
			if _, err := io.ReadFull(u.r, size[:]); err != nil {
				u.err = io.ErrUnexpectedEOF
				return
			}
			value = make([]byte, binary.LittleEndian.Uint64(size[:])+1)
			if _, err := io.ReadFull(u.r, value); err != nil {
				u.err = io.ErrUnexpectedEOF
				return
			}
			value = value[:len(value)-1]
		}
		switch string(name) {
		case "MESSAGE":
			msg, hasMsg = append(msg[:0], value...), true
		case "_SYSTEMD_CGROUP":
			cgroup = string(value)
		case "_SYSTEMD_USER_UNIT":
			userUnit = true
		case "__CURSOR":
			u.cursor = string(value)
		}
	}
	if !userUnit && cgroup != "" && u.manager != "" && cgroup != u.manager && !strings.HasPrefix(cgroup, u.manager+"/") {
		u.dropped++
		return
	}
	if hasMsg {
		u.out = append(msg, '\n')
	}
}

// managerCgroup is the user manager's cgroup (its ControlGroup); ""
// when it cannot be read, which keeps every entry.
func (m *Manager) managerCgroup(ctx context.Context) string {
	w, err := m.wire(ctx)
	if err != nil {
		return ""
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	serial := w.call(destSystemd, "/org/freedesktop/systemd1", "org.freedesktop.DBus.Properties", "Get", "ss", ifaceManager, "ControlGroup")
	if err := w.flush(); err != nil {
		m.broken(err)
		return ""
	}
	cgroup := ""
	if _, err := w.replies(1, func(s int, r *reply) error {
		if uint32(s) != serial || r.err() != nil {
			return nil
		}
		d := decoder{b: r.body, o: r.order}
		if d.sig() == "s" {
			cgroup = d.str()
		}
		return d.err
	}); err != nil {
		m.broken(err)
		return ""
	}
	return cgroup
}

// unitOutput runs journalctl with args (and the output options) for
// unit's output and returns it as -o cat gives it, with the cursor of
// the last entry read and how many entries were left out (userOutput).
func (m *Manager) unitOutput(ctx context.Context, args ...string) (out []byte, cursor string, dropped int, err error) {
	if m.opts.Scope != User {
		out, err := journalctl(ctx, args...)
		return out, "", 0, err
	}
	raw, err := journalctl(ctx, append(m.outputArgs(), args...)...)
	if err != nil {
		return nil, "", 0, err
	}
	u := newUserOutput(bytes.NewReader(raw), m.managerCgroup(ctx))
	out, err = io.ReadAll(u)
	if err != nil {
		return nil, "", 0, fmt.Errorf("journalctl: reading its export output: %w", err)
	}
	return out, u.cursor, u.dropped, nil
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
	var out []byte
	var err error
	if m.opts.Scope != User {
		out, err = readJournal(ctx, m.journalMatch(unit), n)
	} else {
		// n entries hold the last n bytes, unless some were left out
		// (userOutput): then more, until enough or no more
		for want := n; ; want *= 2 {
			args := m.journalMatch(unit)
			if want > 0 {
				args = append([]string{"-n", strconv.Itoa(want)}, args...)
			}
			var dropped int
			out, _, dropped, err = m.unitOutput(ctx, args...)
			if err != nil || n <= 0 || dropped == 0 || len(out) >= n || bytes.Count(out, []byte("\n"))+dropped < want {
				break
			}
		}
		if n > 0 && len(out) > n {
			out = out[len(out)-n:]
		}
	}
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
	user := unit != "" && m.opts.Scope == User
	var out []byte
	cursor := ""
	if user {
		out, cursor, _, err = m.unitOutput(ctx, append([]string{"-n", strconv.Itoa(head)}, match...)...)
	} else {
		out, err = journalctl(ctx, append([]string{"-n", strconv.Itoa(head), "--show-cursor"}, match...)...)
		if i := bytes.LastIndex(out, []byte("-- cursor: ")); i >= 0 {
			cursor = strings.TrimSpace(string(out[i+len("-- cursor: "):]))
			out = out[:i]
		}
	}
	if err != nil {
		return nil, err
	}
	if len(out) > head {
		out = out[len(out)-head:]
	}
	manager := ""
	if user {
		manager = m.managerCgroup(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	args := []string{"--no-pager", "-q", "-o", "cat", "-f"}
	if user {
		args = append([]string{"--no-pager", "-q", "-f"}, m.outputArgs()...)
	}
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
	var follow io.Reader = bufio.NewReader(stdout)
	if user {
		follow = newUserOutput(stdout, manager)
	}
	return &follower{Reader: io.MultiReader(bytes.NewReader(out), follow), cancel: cancel, cmd: cmd}, nil
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
	args := append([]string{"--no-pager", "-q", "-f"}, m.outputArgs()...)
	if out, err := journalctl(ctx, "-n", "1", "--show-cursor"); err == nil {
		if i := bytes.LastIndex(out, []byte("-- cursor: ")); i >= 0 {
			args = append(args, "--after-cursor", strings.TrimSpace(string(out[i+len("-- cursor: "):])))
		}
	}
	if !slices.Contains(args, "--after-cursor") {
		args = append(args, "-n", "0")
	}
	manager := ""
	if m.opts.Scope == User {
		manager = m.managerCgroup(ctx)
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
	var r io.Reader = stdout
	if m.opts.Scope == User {
		r = newUserOutput(stdout, manager)
	}
	return &follower{Reader: r, cancel: cancel, cmd: cmd}, nil
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
