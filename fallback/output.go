package fallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/translate"
)

// Child output: fallback/logfile's Pump moves every child's stdout and
// stderr into its log files from one goroutine and one epoll set, with
// back-pressure; this file decides, per process, where each channel goes
// and what is told about it (events, debug lines, listener protocol).

// EventBus is the event system (fallback/events' *Bus): Supervisor
// publishes what it witnesses and runs the listener pools through it.
type EventBus interface {
	Publish(events.Event)
	Subscribed(events.Type) bool
	AddPool(*translate.Group) (*events.Pool, error)
	RemovePool(*events.Pool)
}

// logPaths are a process's stdout and stderr log files, "" for none:
// AUTO logs get a new name in childlogdir, as Supervisor gives them
// when the group becomes active.
func (s *Supervisor) logPaths(p *translate.Process) (stdout, stderr string, err error) {
	path := func(l translate.Log, channel string) (string, error) {
		switch l.Kind {
		case translate.LogFile:
			return l.Path, nil
		case translate.LogAuto:
			return logfile.CreateAuto(s.sv.ChildLogDir, p.Name, channel, s.ident)
		}
		return "", nil
	}
	if stdout, err = path(p.Stdout, "stdout"); err != nil {
		return "", "", err
	}
	if !p.RedirectStderr {
		if stderr, err = path(p.Stderr, "stderr"); err != nil {
			return "", "", err
		}
	}
	return stdout, stderr, nil
}

// runOutput is the output of one run of a child: its open log files and
// the pump's sources reading its pipes. There is one per running child,
// so it carries what the pump's callbacks need rather than closures.
type runOutput struct {
	files [2]*logfile.File
	srcs  [2]*logfile.Source

	s        *Supervisor
	name     string           // the process's
	listener *events.Listener // exits when the output is done
	stdin    *os.File         // closed when the output is done
	failed   [2]bool          // a write error was reported (pump goroutine)

	mu   sync.Mutex
	open int // sources not closed yet
}

// openLogs opens the log files of a run, as Supervisor's make_dispatchers
// does before the fork: a failure is a spawn error.
func (s *Supervisor) openLogs(p *proc) (*runOutput, error) {
	o := &runOutput{}
	for i, path := range []string{p.stdoutLog, p.stderrLog} {
		if path == "" {
			continue
		}
		l := p.cfg.Stdout
		if i == 1 {
			l = p.cfg.Stderr
		}
		f, err := logfile.Open(path, l.MaxBytes, l.Backups)
		if err != nil {
			o.closeFiles()
			return nil, err
		}
		o.files[i] = f
	}
	return o, nil
}

func (o *runOutput) closeFiles() {
	for i, f := range o.files {
		if f != nil {
			f.Close()
			o.files[i] = nil
		}
	}
}

// pump starts moving the child's output: fds are the parent's ends of
// its stdout and stderr pipes (-1 for none); the pump takes them over.
// listener is the event listener the process is, or nil; stdin is
// closed once its output is done.
func (s *Supervisor) pump(p *proc, o *runOutput, fds [2]int, pid int, listener *events.Listener, stdin *os.File) {
	debug := s.logger.Enabled(context.Background(), slog.LevelDebug)
	o.s, o.name, o.listener, o.stdin = s, p.cfg.Name, listener, stdin
	// Every source counts from the start: the first could close before
	// the second is added, and must not close the files then.
	for _, fd := range fds {
		if fd >= 0 {
			o.open++
		}
	}
	if o.open == 0 {
		o.closed()
		return
	}
	onClose := o.sourceClosed
	for i, fd := range fds {
		if fd < 0 {
			continue
		}
		l, ch, name := p.cfg.Stdout, events.Stdout, "stdout"
		if i == 1 {
			l, ch, name = p.cfg.Stderr, events.Stderr, "stderr"
		}
		out := logfile.Output{
			File:      o.files[i],
			Name:      p.cfg.Name,
			StripANSI: s.sv.StripANSI,
			OnClose:   onClose,
			OnError:   o.stdoutError,
		}
		if i == 1 {
			out.OnError = o.stderrError
		}
		if s.opts.PrefixOutput && o.files[i] != nil && o.files[i].Special() {
			out.Prefix = p.cfg.Name + " | "
		}
		if l.Syslog {
			out.Syslog = s.syslog()
		}
		if listener != nil && i == 0 {
			// The protocol channel: no capture, events or debug lines.
			out.OnRaw = listener.Output
		} else {
			src := events.Source{Name: p.cfg.Name, Group: p.cfg.Group, PID: pid}
			if l.CaptureMaxBytes > 0 {
				out.CaptureMaxBytes = int(l.CaptureMaxBytes)
				out.OnCapture = func(data []byte) {
					s.bus.Publish(events.NewProcessCommunication(ch, src, data))
				}
			}
			logEvents := l.EventsEnabled
			if logEvents || debug {
				out.OnData = func(data []byte) {
					if debug {
						s.logger.Debug(logfile.DebugMessage(p.cfg.Name, name, data))
					}
					if logEvents {
						s.bus.Publish(events.NewProcessLog(ch, src, data))
					}
				}
			}
		}
		srcp, err := s.pumper.Add(fd, out)
		if err != nil {
			s.logf(slog.LevelError, "reading the %s of %s: %v", name, p.cfg.Name, err)
			o.sourceClosed()
			continue
		}
		o.srcs[i] = srcp
	}
}

// stdoutError and stderrError report the first error writing a channel's
// log in this run. They run on the pump's goroutine.
func (o *runOutput) stdoutError(err error) { o.writeError(0, err) }
func (o *runOutput) stderrError(err error) { o.writeError(1, err) }

func (o *runOutput) writeError(i int, err error) {
	if o.failed[i] {
		return
	}
	o.failed[i] = true
	name := "stdout"
	if i == 1 {
		name = "stderr"
	}
	o.s.logNow(slog.LevelError, "writing the %s log of %s: %v", name, o.name, err)
}

func (o *runOutput) sourceClosed() {
	o.mu.Lock()
	o.open--
	last := o.open == 0
	o.mu.Unlock()
	if last {
		o.closed()
	}
}

// closed follows the last source's close.
func (o *runOutput) closed() {
	o.closeFiles()
	if o.listener != nil {
		o.listener.Exit()
	}
	if o.stdin != nil {
		o.stdin.Close()
	}
}

// finish says the child was reaped: the pump reads what its pipes hold
// and closes them.
func (o *runOutput) finish() {
	for _, src := range o.srcs {
		if src != nil {
			src.Finish()
		}
	}
}

// clear empties the run's log files (clearProcessLogs).
func (o *runOutput) clear() error {
	var errs []error
	for _, f := range o.files {
		if f != nil {
			errs = append(errs, f.Clear())
		}
	}
	return errors.Join(errs...)
}

// reopen reopens the run's log files (SIGUSR2).
func (o *runOutput) reopen() error {
	var errs []error
	for _, f := range o.files {
		if f != nil {
			errs = append(errs, f.Reopen())
		}
	}
	return errors.Join(errs...)
}

func (s *Supervisor) syslog() *logfile.Syslog {
	s.syslogOnce.Do(func() { s.childSyslog = logfile.NewSyslog("supervisord") })
	return s.childSyslog
}

// pipeErr is Supervisor's spawn error for a failure to make the pipes or
// open the logs.
func pipeErr(name string, err error) string {
	if errors.Is(err, syscall.EMFILE) {
		return fmt.Sprintf("too many open files to spawn '%s'", name)
	}
	return fmt.Sprintf("unknown error making dispatchers for '%s': %s", name, errName(err))
}
