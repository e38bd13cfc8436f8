package logfile

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// Supervisor's log levels as slog levels: slog's four, CRIT above Error,
// TRAC and BLAT below Debug (fallback names the same values).
const (
	LevelBlather  = slog.Level(-12) // BLAT
	LevelTrace    = slog.Level(-8)  // TRAC
	LevelDebug    = slog.LevelDebug // DEBG
	LevelInfo     = slog.LevelInfo  // INFO
	LevelWarn     = slog.LevelWarn  // WARN
	LevelError    = slog.LevelError // ERRO
	LevelCritical = slog.Level(12)  // CRIT
)

// LevelName is the name Supervisor's main log writes for l: CRIT, ERRO,
// WARN, INFO, DEBG, TRAC or BLAT (a level between two takes the lower).
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRIT"
	case l >= LevelError:
		return "ERRO"
	case l >= LevelWarn:
		return "WARN"
	case l >= LevelInfo:
		return "INFO"
	case l >= LevelDebug:
		return "DEBG"
	case l >= LevelTrace:
		return "TRAC"
	}
	return "BLAT"
}

// ParseLevel reads a loglevel value as translate keeps it (critical,
// error, warn, info, debug, trace, blather).
func ParseLevel(name string) (slog.Level, bool) {
	switch strings.ToLower(name) {
	case "critical":
		return LevelCritical, true
	case "error":
		return LevelError, true
	case "warn":
		return LevelWarn, true
	case "info":
		return LevelInfo, true
	case "debug":
		return LevelDebug, true
	case "trace":
		return LevelTrace, true
	case "blather":
		return LevelBlather, true
	}
	return LevelInfo, false
}

// AppendLine appends one main-log line as Supervisor formats it:
// "2006-01-02 15:04:05,000 LEVEL message\n", the time in t's location
// and the milliseconds truncated.
func AppendLine(b []byte, t time.Time, level slog.Level, msg string) []byte {
	b = t.AppendFormat(b, "2006-01-02 15:04:05,")
	ms := t.Nanosecond() / 1e6
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), ' ')
	b = append(b, LevelName(level)...)
	b = append(b, ' ')
	b = append(b, msg...)
	return append(b, '\n')
}

// MainLogConfig says where the daemon's own log goes ([supervisord]).
type MainLogConfig struct {
	Path     string           // logfile; "syslog" sends to syslog; "" nowhere
	MaxBytes int64            // logfile_maxbytes
	Backups  int              // logfile_backups
	Level    slog.Level       // loglevel: lines below it are dropped
	Stdout   bool             // also write to standard output (nodaemon and not silent)
	Syslog   *Syslog          // for Path "syslog"; nil: NewSyslog("supervisord")
	Now      func() time.Time // the clock; nil: each record's own time (time.Now)
}

// MainLog is the daemon's own log as Supervisor's make_logger builds it:
// a stdout handler when running in the foreground, then the logfile
// (rotating when MaxBytes > 0) or syslog. It is an slog.Handler: the
// record's message, then its attributes as " key=value", make the
// line's message.
type MainLog struct {
	core   *mainCore
	prefix string // attributes from WithAttrs, formatted
	group  string
}

type mainCore struct {
	cfg    MainLogConfig
	mu     sync.Mutex // orders lines across handlers
	stdout *File
	file   *File
	// slow writes stdout, and file when it is special (a pipe, a tty),
	// without waiting for their readers (behind.go).
	slowOut, slowFile *behind
	syslog            *Syslog
	buf               []byte
	clock             bool // cfg.Now was given: it dates records, not their own time
}

// OpenMainLog opens the main log's destinations.
func OpenMainLog(c MainLogConfig) (*MainLog, error) {
	core := &mainCore{cfg: c, clock: c.Now != nil}
	if c.Now == nil {
		core.cfg.Now = time.Now
	}
	if c.Stdout {
		f, err := Open("/dev/stdout", 0, 0)
		if err != nil {
			return nil, err
		}
		core.stdout = f
	}
	switch c.Path {
	case "":
	case "syslog":
		core.syslog = c.Syslog
		if core.syslog == nil {
			core.syslog = NewSyslog("supervisord")
		}
	default:
		f, err := Open(c.Path, c.MaxBytes, c.Backups)
		if err != nil {
			if core.stdout != nil {
				core.stdout.Close()
			}
			return nil, err
		}
		core.file = f
	}
	// A line that reports dropped lines, dated now, at WARN.
	line := func(msg string) []byte { return AppendLine(nil, core.cfg.Now(), LevelWarn, msg) }
	if core.stdout != nil {
		core.slowOut = newBehind(core.stdout, line)
	}
	if core.file != nil && core.file.special() {
		if core.stdout != nil && core.file.s == core.stdout.s {
			core.slowFile = core.slowOut // one descriptor, one queue
		} else {
			core.slowFile = newBehind(core.file, line)
		}
	}
	return &MainLog{core: core}, nil
}

// Path is the main log file, "" when the log goes to syslog or nowhere.
func (m *MainLog) Path() string {
	if m.core.file == nil {
		return ""
	}
	return m.core.file.Path()
}

// Log writes one line at level, if the level is enabled.
func (m *MainLog) Log(level slog.Level, msg string) {
	if level < m.core.cfg.Level {
		return
	}
	m.core.emit(m.core.cfg.Now(), level, msg)
}

func (c *mainCore) emit(t time.Time, level slog.Level, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = AppendLine(c.buf[:0], t, level, msg)
	// Errors writing the log have nowhere to go; Supervisor prints a
	// traceback to stderr and carries on.
	if c.stdout != nil {
		c.slowOut.write(c.buf)
	}
	if c.file != nil {
		if c.slowFile != nil {
			c.slowFile.write(c.buf)
		} else {
			c.file.Write(c.buf)
		}
	}
	if c.syslog != nil {
		// SyslogHandler: one message per line of the message, each
		// formatted whole (time, level and the trailing newline).
		for line := range strings.SplitSeq(strings.TrimRight(msg, "\n"), "\n") {
			c.syslog.Send(string(AppendLine(nil, t, level, line)))
		}
	}
}

// Enabled implements slog.Handler.
func (m *MainLog) Enabled(_ context.Context, level slog.Level) bool {
	return level >= m.core.cfg.Level
}

// Handle implements slog.Handler.
func (m *MainLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message + m.prefix
	if r.NumAttrs() > 0 {
		var b strings.Builder
		b.WriteString(msg)
		r.Attrs(func(a slog.Attr) bool {
			appendAttr(&b, m.group, a)
			return true
		})
		msg = b.String()
	}
	t := r.Time
	if t.IsZero() || m.core.clock {
		t = m.core.cfg.Now()
	}
	m.core.emit(t, r.Level, msg)
	return nil
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g = joinGroup(group, a.Key)
		}
		for _, sub := range a.Value.Group() {
			appendAttr(b, g, sub)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(joinGroup(group, a.Key))
	b.WriteByte('=')
	s := a.Value.String()
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		s = strconv.Quote(s)
	}
	b.WriteString(s)
}

func joinGroup(group, key string) string {
	if group == "" {
		return key
	}
	return group + "." + key
}

// WithAttrs implements slog.Handler.
func (m *MainLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(m.prefix)
	for _, a := range attrs {
		appendAttr(&b, m.group, a)
	}
	return &MainLog{core: m.core, prefix: b.String(), group: m.group}
}

// WithGroup implements slog.Handler.
func (m *MainLog) WithGroup(name string) slog.Handler {
	if name == "" {
		return m
	}
	return &MainLog{core: m.core, prefix: m.prefix, group: joinGroup(m.group, name)}
}

// Reopen reopens the log file (SIGUSR2). Supervisor logs "supervisord
// logreopen" at INFO just before; that line is the caller's.
func (m *MainLog) Reopen() error {
	if m.core.file == nil {
		return nil
	}
	return m.core.file.Reopen()
}

// Clear is clearLog: status.ErrNoFile when there is no log file (syslog)
// or it does not exist, status.ErrFailed when it cannot be removed; then,
// for each destination that reopens, an INFO line "reopening log file"
// and the reopening. The lines go where Supervisor's go: to standard
// output, and to the removed file, not the new one. A special file
// (logfile=/dev/stdout) is not removed: Supervisor would delete
// /dev/stdout itself.
func (m *MainLog) Clear() error {
	c := m.core
	if c.file == nil {
		return status.ErrNoFile
	}
	path := c.file.Path()
	if !exists(path) {
		return &status.Error{Kind: status.ErrNoFile, Detail: path}
	}
	special := c.file.special()
	if !special {
		if err := os.Remove(path); err != nil {
			return status.ErrFailed
		}
	}
	var errs []error
	if c.stdout != nil {
		m.Log(LevelInfo, "reopening log file")
	}
	m.Log(LevelInfo, "reopening log file")
	if !special {
		errs = append(errs, c.file.Reopen())
	}
	return errors.Join(errs...)
}

// Close closes the log's files and its syslog connection.
func (m *MainLog) Close() error {
	c := m.core
	var errs []error
	if c.stdout != nil {
		errs = append(errs, c.stdout.Close())
	}
	if c.file != nil {
		errs = append(errs, c.file.Close())
	}
	if c.syslog != nil && c.cfg.Syslog == nil {
		errs = append(errs, c.syslog.Close())
	}
	return errors.Join(errs...)
}
