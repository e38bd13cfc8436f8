package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/translate"
)

// CountFile is the file in the state directory that counts the starts in
// a row that did not reach RUNNING.
const CountFile = "failures"

// WaitFile is the file in the state directory that says whether the
// step of the start now beginning or running waits out Supervisor's
// backoff: sysd reads BACKOFF from it, never from the count (a fresh
// start's step writes a count of 1 too, and a step that gives up resets
// it). It holds one of WaitBackoff, WaitGiveUp and WaitNone, and is
// replaced atomically. It is the steps' own business, not a unit line:
// units in place keep their lines.
//
// The step marks its wait before it sleeps and WaitNone when the wait
// ends (before it counts the start, so that a fresh start never reads
// as a wait); a failed start marks the wait of the automatic restart
// that follows as soon as it is known ("exited", and "backoff" itself
// for a missing directory), so that the unit reads BACKOFF from the
// death through the restart until the wait ends; a step that gives up
// marks WaitGiveUp before it exits 1. A state directory without the
// file is one whose steps were started by an older supersede, which
// wrote none: sysd then reads the count as it used to.
const WaitFile = "wait"

// The contents of WaitFile.
const (
	WaitBackoff = "backoff" // waiting out the backoff, or about to
	WaitGiveUp  = "fatal"   // startretries used up: the step exits 1, the unit fails (FATAL)
	WaitNone    = "none"    // no wait: STARTING
	// WaitEnded: under autorestart=false (exited --once), the program
	// ended by itself after startsecs in a way systemd restarts whatever
	// SuccessExitStatus= says (a core dump, the OOM killer); the restart's
	// step refuses to start it, and the unit reads EXITED (EndFile).
	WaitEnded = "ended"
)

// EndFile holds how the program's last run ended, "CODE STATUS" as
// systemd's ExecMainCode and ExecMainStatus (CODE 1 exited, 2 killed,
// 3 dumped; STATUS the exit status or the signal), written by "exited"
// where it marks WaitEnded: systemd clears its own as the refused
// restart begins.
const EndFile = "end"

// UnitJob, where set (cmd/supersede sets internal/sysd's StepUnitJob:
// this package links no D-Bus), returns the type of the job queued for
// the unit whose state directory is STATE ("" for none): "exited" asks
// it whether an end it would mark WaitEnded was asked for (a stop or
// restart job, whose stop signal or stop timeout can end the program as
// a crash would) or came by itself.
var UnitJob func(ctx context.Context, state string) (string, error)

// Second is one step of Supervisor's backoff; a variable for tests.
var Second = time.Second

// Main runs `supersede shim STEP ARGS...` and returns its exit code.
func Main(args, environ []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: supersede shim backoff|startsecs|exited|exec|hold-stdin|listen|spawn-error ARGS (run by systemd units that supersede wrote)")
		return 2
	}
	var err error
	switch args[0] {
	case "backoff":
		err = backoff(args[1:], environ, stderr)
	case "startsecs":
		err = startsecs(args[1:], environ)
	case "exec":
		err = execProgram(args[1:], environ, stderr)
	case "hold-stdin":
		err = holdStdin(args[1:], environ)
	case "listen":
		err = listen(args[1:], environ)
	case "exited":
		err = exited(args[1:], environ)
	case "spawn-error":
		// ExecStart of a program supervisord cannot spawn (MESSAGE is
		// its spawnerr, for the reader of the unit): a failed start,
		// silent as supervisord is in the program's log.
		err = dieBySIGTERM()
	default:
		err = fmt.Errorf("unknown step %q", args[0])
	}
	var f *failed
	switch {
	case err == nil:
		return 0
	case errors.As(err, &f):
		return f.code
	}
	fmt.Fprintf(stderr, "supersede shim: %v\n", err)
	return 2
}

// failed is a step's verdict, not a problem: exit with code.
type failed struct{ code int }

func (f *failed) Error() string { return "exit " + strconv.Itoa(f.code) }

// backoff is ExecStartPre: STATE STARTRETRIES [--chdir DIR] [--locale]
// [--fatal-status N]. It gives up with exit status N, 1 by default: one
// that is not in the unit's SuccessExitStatus=, which systemd applies to
// the ExecStartPre= steps too.
func backoff(args, environ []string, stderr io.Writer) error {
	const usage = "usage: backoff STATE STARTRETRIES [--chdir DIR] [--locale] [--fatal-status N]"
	if len(args) < 2 {
		return errors.New(usage)
	}
	state := args[0]
	retries, err := strconv.Atoi(args[1])
	if err != nil || retries < 0 {
		return fmt.Errorf("STARTRETRIES %q is not a number", args[1])
	}
	var chdir string
	var locale bool
	fatal := 1
	for rest := args[2:]; len(rest) > 0; rest = rest[1:] {
		switch {
		case rest[0] == "--chdir" && len(rest) > 1:
			chdir, rest = rest[1], rest[1:]
		case rest[0] == "--fatal-status" && len(rest) > 1:
			if fatal, err = strconv.Atoi(rest[1]); err != nil || fatal < 1 || fatal > 255 {
				return fmt.Errorf("--fatal-status %q is not an exit status from 1 to 255", rest[1])
			}
			rest = rest[1:]
		case rest[0] == "--locale":
			locale = true
		default:
			return errors.New(usage)
		}
	}
	if ReadWait(state) == WaitEnded {
		// The automatic restart that systemd makes after a death it
		// counts as a failure whatever SuccessExitStatus= says (a core
		// dump, the OOM killer), which "exited" found to be a run past
		// startsecs under autorestart=false: Supervisor's EXITED, no
		// restart. The step fails as it does when it gives up, so that
		// Restart=on-abnormal ends here; the mark and the run's times
		// and end, kept beside the directory (which systemd removes as
		// the unit fails), say EXITED, not FATAL.
		_ = keepLastRun(state)
		return &failed{fatal}
	}
	n := readCount(state)
	if n > retries {
		// Supervisor's FATAL: "gave up: NAME entered FATAL state, too
		// many start retries too quickly" is supervisord's own log, not
		// the program's, so nothing is printed. Exit 1 (or the
		// --fatal-status): the unit fails and Restart=on-abnormal does
		// not restart it. The count starts
		// again: the next start is one asked for (supervisorctl start,
		// systemctl start), which supervisord begins with a fresh round
		// of startretries. Supervisor goes from BACKOFF to FATAL: the
		// mark says so until the unit has failed.
		// (Only what status shows depends on the mark: the verdict
		// stands without it.)
		_ = writeWait(state, WaitGiveUp)
		if err := writeCount(state, 0); err != nil {
			return err
		}
		// systemd clears the last run's times as this start begins, and
		// may remove STATE as the unit fails: keep them beside it, for
		// the start and stop times supervisord shows of a FATAL process.
		// Only those times depend on it, not the verdict: a step that
		// cannot write there (a program run as another user under the
		// system manager, %t/supersede being root's) fails all the same.
		_ = keepLastRun(state)
		return &failed{fatal}
	}
	if n > 0 {
		// BACKOFF. A stop now (SIGTERM from a stop job) ends the wait
		// cleanly: the unit goes inactive with a successful result,
		// which ctl reads as Supervisor's STOPPED, not as a failed start.
		// The mark stays until then: BACKOFF to STOPPED, as Supervisor.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		if err := writeWait(state, WaitBackoff); err != nil {
			return err
		}
		select {
		case <-time.After(time.Duration(n) * Second):
			signal.Stop(term)
		case <-term:
			return nil
		}
	}
	// STARTING from here, before the count says 1 on a fresh start
	if err := writeWait(state, WaitNone); err != nil {
		return err
	}
	if err := writeCount(state, n+1); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(state, watchFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if locale {
		if err := writeLocale(state, environ); err != nil {
			return err
		}
	}
	// Supervisor counts startsecs from the spawn (its laststart); systemd
	// starts the program as this step ends (the exec step, where there
	// is one, writes the time again as it execs the program).
	if err := writeStarted(state); err != nil {
		return err
	}
	if chdir != "" {
		// Supervisor's child chdirs after fork and, failing, writes these
		// two lines to its stderr and exits 127: a failed start.
		if err := os.Chdir(chdir); err != nil {
			fmt.Fprintf(stderr, "supervisor: couldn't chdir to %s: %s\nsupervisor: child process was not spawned\n", chdir, errnoName(err))
			// a failed start: BACKOFF from here, and the restart's step
			// waits (the count is above 0 now)
			if err := writeWait(state, WaitBackoff); err != nil {
				return err
			}
			return dieBySIGTERM()
		}
	}
	return nil
}

// writeStarted records now as the time the program started, atomically
// (the startsecs step may read it at any moment).
func writeStarted(state string) error {
	return writeStartedAt(state, time.Now())
}

// writeStartedAt records at as the time the program started.
func writeStartedAt(state string, at time.Time) error {
	return replace(filepath.Join(state, startedFile), strconv.AppendInt(nil, at.UnixNano(), 10))
}

// replace writes data to path atomically (a file beside it, then a
// rename), the way of every file of the state directory that a step or
// ctl may read at any moment. Not renameio: it would fsync each write,
// at every start of every program, for files on the runtime directory's
// tmpfs, which a crash empties anyway; one step of a unit runs at a time,
// so one fixed temporary name is enough.
func replace(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// RunPrefix names the exec step's record of the run it starts: a
// symlink beside the unit's state directory, %t/supersede/.run.NAME for
// STATE %t/supersede/NAME (a name no state directory takes: unitgen
// escapes a leading '.'), whose target is the record, one line:
//
//	supersede exec 1 ID PID TICKS START
//
// ID is the run's invocation ID (32 hex digits, as the manager's
// <runtime>/systemd/units/invocation:UNIT symlink names it), PID the
// step's own pid, which the exec keeps for the program (the unit's main
// process), TICKS that process's start in clock ticks since boot
// (/proc/PID/stat's starttime, which an exec does not change: with the
// pid, it names this process, not a later one that got the same pid),
// and START the time of the exec in µs since the epoch, the same instant
// as StartedFile. internal/sysd reads it (ParseRun) for the status of a
// run that no ctl command has seen, instead of asking the manager.
//
// Why a symlink, as systemd's own invocation links are: ctl reads a
// thousand records in one status, and a symlink is one readlinkat(2)
// (a file is an open, a stat, a read and a close); it cannot be changed
// in place, so a symlink in %t/supersede, which only its owner (this
// user, or root) can write, was written by that owner: no check of its
// own. It is replaced atomically (a new symlink, then a rename) and
// outlives the unit's directory, as STATE+LastRunSuffix does: a record
// names its run, which no later run has. A step that cannot write there
// (a program run as another user under the system manager, /run/supersede
// being root's) leaves no record: ctl, as root, would not take one that
// user wrote anyway.
const RunPrefix = ".run."

// UnitOf returns the runtime directory of the manager (%t) and the
// service unit whose state directory (%t/supersede/%N) is state.
func UnitOf(state string) (runtime, unit string, err error) {
	state = filepath.Clean(state)
	if filepath.Base(filepath.Dir(state)) != "supersede" {
		return "", "", fmt.Errorf("%s is not a unit's state directory %%t/supersede/%%N", state)
	}
	return filepath.Dir(filepath.Dir(state)), filepath.Base(state) + ".service", nil
}

// RunPath is the record of the run of the unit whose state directory
// is state.
func RunPath(state string) string {
	state = filepath.Clean(state)
	return filepath.Join(filepath.Dir(state), RunPrefix+filepath.Base(state))
}

// runHeader starts a record of a run; one without it is not read.
const runHeader = "supersede exec 1 "

// Run is a record of a run (RunPrefix).
type Run struct {
	ID    string // the invocation ID
	PID   uint32 // the main process
	Ticks uint64 // its start, clock ticks since boot (/proc/PID/stat)
	Start uint64 // the exec, µs since the epoch
}

// writeRun writes the record of the run that the exec step of the unit
// whose state directory is state (%t/supersede/%N) is about to exec:
// the invocation ID from the manager's symlink (%t/systemd/units, which
// systemd writes before it forks the unit's first process; the unit
// never sees $INVOCATION_ID, which unitgen unsets as supervisord sets no
// such variable), this process's pid and start tick, and at. Where any
// of it cannot be had (a state directory that is not a unit's, a
// manager without the symlink), nothing is written.
func writeRun(state string, at time.Time) error {
	rt, unit, err := UnitOf(state)
	if err != nil {
		return err
	}
	link := filepath.Join(rt, "systemd", "units", "invocation:"+unit)
	id, err := os.Readlink(link)
	if err != nil {
		return err
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return err
	}
	ticks, ok := StartTicks(stat)
	if !ok {
		return errors.New("/proc/self/stat has no start time")
	}
	r := Run{ID: id, PID: uint32(os.Getpid()), Ticks: ticks, Start: uint64(at.UnixMicro())}
	b := r.Append(nil)
	if _, ok := ParseRun(b); !ok {
		return fmt.Errorf("%s: not an invocation ID: %q", link, id)
	}
	// the temporary name is outside the records' (.run.) and the state
	// directories' names, and the unit's own
	path := RunPath(state)
	tmp := filepath.Join(filepath.Dir(path), ".tmp"+filepath.Base(path))
	err = os.Symlink(string(b), tmp)
	if errors.Is(err, fs.ErrExist) {
		os.Remove(tmp) // left by a step that died between the two calls
		err = os.Symlink(string(b), tmp)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Append appends the record's file to b.
func (r Run) Append(b []byte) []byte {
	b = append(b, runHeader...)
	b = append(b, r.ID...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.PID), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, r.Ticks, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, r.Start, 10)
	return b
}

// ParseRun reads a record of a run: ok false for anything but a whole,
// well-formed one.
func ParseRun(b []byte) (r Run, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(runHeader))
	if !ok {
		return Run{}, false
	}
	f := strings.Split(string(rest), " ")
	if len(f) != 4 || !isInvocationID(f[0]) {
		return Run{}, false
	}
	pid, err1 := strconv.ParseUint(f[1], 10, 32)
	ticks, err2 := strconv.ParseUint(f[2], 10, 64)
	start, err3 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pid == 0 || ticks == 0 || start == 0 {
		return Run{}, false
	}
	return Run{ID: f[0], PID: uint32(pid), Ticks: ticks, Start: start}, true
}

// isInvocationID reports whether s is an ID as the symlinks name it.
func isInvocationID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// StartTicks is the start time in a /proc/PID/stat (its 22nd field,
// clock ticks since boot). It allocates nothing: ctl reads it of a
// thousand processes in one status.
func StartTicks(stat []byte) (uint64, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	// after the name: " state(3) ppid(4) ... starttime(22)"
	field, at := 2, -1
	for j := i + 1; j < len(stat); j++ {
		if stat[j] == ' ' {
			field++
			if field == 22 {
				at = j + 1
				break
			}
		}
	}
	if at < 0 {
		return 0, false
	}
	var t uint64
	j := at
	for ; j < len(stat) && '0' <= stat[j] && stat[j] <= '9'; j++ {
		if t > (1<<64-1)/10-1 {
			return 0, false
		}
		t = t*10 + uint64(stat[j]-'0')
	}
	if j == at || j < len(stat) && stat[j] != ' ' && stat[j] != '\n' {
		return 0, false
	}
	return t, true
}

// startedFile holds when the last start began (Unix nanoseconds);
// stoppedFile when the last run ended (written by "exited").
const (
	startedFile = "started"
	stoppedFile = "stopped"
)

// StartedFile and StoppedFile are the files in STATE with the last
// spawn's and the last death's time (Unix nanoseconds).
const (
	StartedFile = startedFile
	StoppedFile = stoppedFile
)

// LastRunSuffix names the file beside STATE (STATE+LastRunSuffix) in
// which "backoff", giving up, keeps the start and stop times of the last
// run, "START STOP\n" in Unix nanoseconds: Supervisor's laststart and
// laststop of a FATAL process, which systemd does not keep (it clears
// them as the giving-up start begins, and removes STATE as the unit
// fails). internal/sysd reads it for a failed unit.
const LastRunSuffix = ".last"

// keepLastRun writes STATE+LastRunSuffix from the started and stopped
// files, atomically, with the end (EndFile) where the run's restart was
// refused (WaitEnded): "START STOP[ CODE STATUS]\n"; without both
// times, nothing.
func keepLastRun(state string) error {
	start, err1 := os.ReadFile(filepath.Join(state, startedFile))
	stop, err2 := os.ReadFile(filepath.Join(state, stoppedFile))
	if err1 != nil || err2 != nil {
		return nil
	}
	data := append(append(bytes.TrimSpace(start), ' '), bytes.TrimSpace(stop)...)
	if ReadWait(state) == WaitEnded {
		if end, err := os.ReadFile(filepath.Join(state, EndFile)); err == nil {
			data = append(append(data, ' '), bytes.TrimSpace(end)...)
		}
	}
	return replace(filepath.Clean(state)+LastRunSuffix, append(data, '\n'))
}

// ParseLastRun parses a run as keepLastRun writes it, "START STOP[ CODE
// STATUS]" (Unix ns; CODE 1 to 3, systemd's ExecMainCode): ok false for
// anything else.
func ParseLastRun(s string) (start, stop uint64, code, status int32, ok bool) {
	f := strings.Fields(s)
	if len(f) != 2 && len(f) != 4 {
		return 0, 0, 0, 0, false
	}
	a, err1 := strconv.ParseUint(f[0], 10, 64)
	z, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, 0, false
	}
	if len(f) == 4 {
		c, err1 := strconv.ParseInt(f[2], 10, 32)
		v, err2 := strconv.ParseInt(f[3], 10, 32)
		if err1 != nil || err2 != nil || c < 1 || c > 3 {
			return 0, 0, 0, 0, false
		}
		code, status = int32(c), int32(v)
	}
	return a, z, code, status, true
}

// LocaleFile is the environment file (systemd's EnvironmentFile=) in the
// state directory with the LC_CTYPE supervisord's Python would give the
// program.
const LocaleFile = "locale"

// writeLocale decides, once for a series of starts (later starts see the
// file's own LC_CTYPE in their environment), whether supervisord's Python
// would have set LC_CTYPE, and writes the file systemd reads before it
// starts the program.
func writeLocale(state string, environ []string) error {
	path := filepath.Join(state, LocaleFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	var data []byte
	if l := translate.CoercedLocale(environ); l != "" {
		data = []byte("LC_CTYPE=" + l + "\n")
	}
	return replace(path, data)
}

// startsecs is ExecStartPost: STATE STARTSECS, with $MAINPID.
func startsecs(args, environ []string) error {
	if len(args) != 2 {
		return errors.New("usage: startsecs STATE STARTSECS")
	}
	secs, err := strconv.Atoi(args[1])
	if err != nil || secs < 0 {
		return fmt.Errorf("STARTSECS %q is not a number", args[1])
	}
	if err := os.WriteFile(filepath.Join(args[0], watchFile), nil, 0o644); err != nil {
		return err
	}
	if secs == 0 {
		// RUNNING at the spawn, as Supervisor has it: a death after it,
		// even before this step got to run (late, on a busy machine),
		// is a normal exit, not a failed start
		if err := os.Remove(filepath.Join(args[0], CountFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	wait := time.Duration(secs) * Second
	pid, _ := strconv.Atoi(getenv(environ, "MAINPID"))
	var execAt time.Time
	if pid > 0 {
		// The program runs from its exec: where the exec step has not
		// got to it yet (a slow start of supersede on a loaded
		// machine), wait for it; the step wrote the time of its exec.
		var ok bool
		if execAt, ok = awaitExec(pid); !ok {
			return dieBySIGTERM()
		}
	}
	if b, err := os.ReadFile(filepath.Join(args[0], startedFile)); err == nil {
		if ns, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			// from the spawn, not from this step's own (later) start
			wait = max(0, time.Until(time.Unix(0, ns).Add(wait)))
		}
	}
	if !execAt.IsZero() {
		// an exec step that could not write the time: when it was seen
		wait = max(wait, time.Until(execAt.Add(time.Duration(secs)*Second)))
	}
	if pid <= 0 || !survives(pid, wait) {
		// Died within startsecs, whatever its exit status: a failed
		// start, which Supervisor retries. The count stays.
		return dieBySIGTERM()
	}
	if err := os.Remove(filepath.Join(args[0], CountFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// awaitExec waits while process pid still runs this executable (the
// exec step, or a listener's, before it execs the program), and returns
// when it saw the exec: the zero time if it had happened already (or
// cannot be told: another user's process), and ok false if the process
// died first.
//
// Go's syscall.Exec runs on whichever thread the goroutine is on; from a
// thread other than the first, the kernel's exec makes the first thread a
// zombie until the exec'ing thread takes over its pid (de_thread), and
// for that moment /proc/PID/exe is gone and /proc/PID/stat reads "Z":
// a process mid-exec, not a dead one (alive counts its threads), which
// is looked at again. This build's steps exec from the first thread
// (thread.go); the tolerance stays for the steps of older builds, which
// a unit may still run after an upgrade.
func awaitExec(pid int) (at time.Time, ok bool) {
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return time.Time{}, true
	}
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	var unreadable time.Time // since when exe could not be read
	for i := 0; ; i++ {
		fi, err := os.Stat(exe)
		switch {
		case err == nil && !os.SameFile(fi, self):
			if i == 0 {
				return time.Time{}, true
			}
			return time.Now(), true
		case err == nil:
			unreadable = time.Time{}
		case !alive(pid):
			return time.Time{}, false
		case errors.Is(err, fs.ErrPermission):
			return time.Time{}, true // another user's process
		case unreadable.IsZero():
			unreadable = time.Now()
		case time.Since(unreadable) > time.Second:
			// no exec takes this long: a program whose first thread
			// ended before the others (it has no exe then)
			return time.Time{}, true
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// watchFile marks a start whose startsecs step ran.
const watchFile = "watched"

// exited is ExecStopPost: STATE [0] [--once]. A program that ends before
// systemd could run its startsecs step (an instant exit 0 races the
// step's start, and systemd then takes the exit as a clean end) is a
// failed start too: the step ends by SIGTERM, so the unit restarts.
// Otherwise it does nothing: the startsecs step has judged. With
// STARTSECS 0 (given only then, so that the units of other programs keep
// their lines) the program was RUNNING at its spawn: any end is a normal
// exit, and the count of failed starts is cleared as the startsecs step
// would have. With --once (autorestart=false), a run past startsecs that
// ended in a way systemd restarts whatever SuccessExitStatus= says is
// marked WaitEnded, for the restart's step to refuse (markEnded).
func exited(args, environ []string) error {
	once := len(args) > 1 && args[len(args)-1] == "--once"
	if once {
		args = args[:len(args)-1]
	}
	if len(args) != 1 && !(len(args) == 2 && args[1] == "0") {
		return errors.New("usage: exited STATE [0] [--once]")
	}
	if ReadWait(args[0]) == WaitEnded {
		// the stop of a start that "backoff" refused: no program ran,
		// and the last run's end stays as it was
		return nil
	}
	// the end of this run, for keepLastRun (systemd forgets it). Only
	// the times shown of a FATAL process depend on it: a failure here
	// must not fail the unit's stop.
	_ = os.WriteFile(filepath.Join(args[0], stoppedFile), strconv.AppendInt(nil, time.Now().UnixNano(), 10), 0o644)
	if len(args) == 2 {
		if err := os.Remove(filepath.Join(args[0], CountFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if ReadWait(args[0]) == WaitBackoff {
			// a failed spawn (a missing directory) marked a wait that
			// the cleared count no longer makes
			_ = writeWait(args[0], WaitNone)
		}
		if once {
			markEnded(args[0], environ)
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(args[0], CountFile)); err != nil {
		// reached RUNNING, or never counted
		if once {
			markEnded(args[0], environ)
		}
		return nil
	}
	if readCount(args[0]) > 0 {
		// a start that did not reach RUNNING: the automatic restart that
		// follows (if one does) waits in its backoff step. Marked now,
		// so that the unit reads BACKOFF until that wait ends, not
		// STARTING as the restart's step begins. (A count of 0 is a step
		// that gave up, marked so.)
		// Only what status shows depends on it: the verdict below stands.
		_ = writeWait(args[0], WaitBackoff)
	}
	if _, err := os.Stat(filepath.Join(args[0], watchFile)); err == nil {
		return nil
	}
	return dieBySIGTERM()
}

// abnormalResults are the results of a unit (ExecStopPost's
// $SERVICE_RESULT) that Restart=on-abnormal restarts after.
var abnormalResults = []string{"signal", "core-dump", "watchdog", "timeout", "oom-kill"}

// markEnded is "exited --once" after a run past startsecs: where systemd
// is about to restart the unit all the same ($SERVICE_RESULT one that
// Restart=on-abnormal restarts: under autorestart=false every exit status
// but the step's own and every signal is a success, so a core dump or
// the OOM killer's SIGKILL; or "exit-code" from the program's own exit,
// which can only be the step's status, in the unit's
// RestartForceExitStatus= so that an early one is retried) and the end
// was not asked for (no stop or
// restart job is queued: their stop signal, or their SIGKILL after the
// stop timeout, is no crash), it marks WaitEnded with the program's end
// (EndFile), and the restart's step refuses to start the program:
// Supervisor's EXITED. Where the manager cannot say whether a job is
// queued, the end is taken for the program's own, the likelier case.
// Nothing is marked for any other end.
func markEnded(state string, environ []string) {
	result := getenv(environ, "SERVICE_RESULT")
	if !slices.Contains(abnormalResults, result) && result != "exit-code" {
		return
	}
	// systemd's ExecMainCode (CLD_*): exited 1, killed 2, dumped 3
	code := slices.Index([]string{"exited", "killed", "dumped"}, getenv(environ, "EXIT_CODE")) + 1
	if code == 0 {
		return // no end of the program's own (it never ran)
	}
	if result == "exit-code" && code != 1 {
		return // not the program's exit status (a step's)
	}
	status, _ := strconv.Atoi(getenv(environ, "EXIT_STATUS"))
	if code != 1 {
		status = int(unix.SignalNum("SIG" + getenv(environ, "EXIT_STATUS")))
	}
	if UnitJob != nil {
		ctx, cancel := context.WithTimeout(context.Background(), unitJobTimeout)
		job, err := UnitJob(ctx, state)
		cancel()
		if err == nil && job != "" {
			return
		}
	}
	if err := replace(filepath.Join(state, EndFile), []byte(strconv.Itoa(code)+" "+strconv.Itoa(status)+"\n")); err != nil {
		return
	}
	_ = writeWait(state, WaitEnded)
}

// unitJobTimeout bounds markEnded's question to the manager, which is
// busy stopping the unit meanwhile (it waits for this step).
const unitJobTimeout = 5 * time.Second

// survives reports whether process pid is still alive after d. It waits
// on a pidfd (Linux 5.3), so a death ends the wait at once; without one
// it polls /proc.
func survives(pid int, d time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		defer unix.Close(fd)
		deadline := time.Now().Add(d)
		for {
			// at least one look, even when the time is up already
			left := max(0, time.Until(deadline))
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			ms := int(left.Milliseconds())
			if left > 0 {
				ms++
			}
			n, err := unix.Poll(fds, ms)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				break // fall back to /proc
			}
			if n > 0 {
				return false
			}
			if left == 0 {
				return true
			}
		}
	} else if err == unix.ESRCH {
		return false
	}
	deadline := time.Now().Add(d)
	for {
		if !alive(pid) {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie: a thread group
// whose first thread is a zombie but whose other threads still run
// (mid-exec from another thread, see awaitExec) is alive.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && statAlive(b)
}

// statAlive is alive's reading of a /proc/PID/stat.
func statAlive(b []byte) bool {
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) || b[i+2] != 'Z' {
		return true
	}
	// state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	// cmajflt utime stime cutime cstime priority nice num_threads
	f := strings.Fields(string(b[i+2:]))
	return len(f) > 17 && f[17] != "1"
}

// execProgram is the ExecStart of a program: PATH ARGV0 [ARGS...]. It
// gives the program the signal dispositions a child of supervisord starts
// with, then execs it, so the program is this process, the unit's main
// process, with the unit's environment, descriptors, limits and an empty
// signal mask, as systemd would have started it.
//
// If the exec fails, it ends as Supervisor's child does (process.py,
// _spawn_as_child): "supervisor: couldn't exec ARGV0: ERRNO" and "child
// process was not spawned" on stderr, exit 127, a failed start. A file
// that is not there or not executable says nothing, as supervisord finds
// those before it forks (its spawnerr, which ctl shows) and the program's
// log stays empty.
func execProgram(args, environ []string, stderr io.Writer) error {
	state := ""
	if len(args) > 1 && args[0] == "--state" {
		state, args = args[1], args[2:]
	}
	if len(args) < 2 {
		return errors.New("usage: exec [--state STATE] PATH ARGV0 [ARGS...]")
	}
	if state != "" {
		// Supervisor's laststart is its fork, which the exec follows at
		// once; here the exec comes after supersede's own start, which a
		// loaded machine can make long: the startsecs step counts from
		// this time (it reads it once the exec happened: awaitExec).
		// Only how long startsecs lasts depends on it. The record of the
		// run (writeRun) gives ctl the same instant as the start; only
		// the speed of a status depends on it.
		now := time.Now()
		_ = writeStartedAt(state, now)
		_ = writeRun(state, now)
	}
	supervisorDispositions()
	var err error
	if strings.Contains(args[0], "/") {
		err = unix.Exec(args[0], args[1:], environ)
	} else {
		// a command convert could not find on PATH: looked for when the
		// unit starts, on its PATH, as systemd would for ExecStart=NAME
		// (execvp's search: the first that can be executed)
		err = unix.ENOENT
		for _, dir := range filepath.SplitList(getenv(environ, "PATH")) {
			if dir == "" {
				continue
			}
			e := unix.Exec(filepath.Join(dir, args[0]), args[1:], environ)
			if e == unix.EACCES {
				err = e
			} else if e != unix.ENOENT && e != unix.ENOTDIR {
				err = e
				break
			}
		}
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || (errno != unix.ENOENT && errno != unix.EACCES && errno != unix.ENOTDIR) {
		fmt.Fprintf(stderr, "supervisor: couldn't exec %s: %s\nsupervisor: child process was not spawned\n", args[1], errnoName(err))
	}
	return &failed{127}
}

// supervisorDispositions sets the signal dispositions an exec passes on
// to those of a child of supervisord: SIGPIPE and SIGXFSZ ignored (Python
// ignores both, and a child inherits what is ignored), every other signal
// the default (an exec resets the handlers the Go runtime installed; the
// ones it honours as ignored, SIGHUP and SIGINT, systemd started this
// process with the default). The unit's IgnoreSIGPIPE=yes, systemd's
// default, gave the program SIGPIPE ignored already, but the Go runtime
// handles it, which an exec turns into the default: it is ignored again
// here. systemd has no directive for SIGXFSZ.
func supervisorDispositions() {
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
}

// holdStdin is the ExecStart of an event listener: PATH ARGV0 ARGS...
// It execs the program with a pipe on fd 0 whose write end the program
// itself holds (inherited, unused), so reading stdin blocks instead of
// returning end-of-file.
func holdStdin(args, environ []string) error {
	if len(args) < 2 {
		return errors.New("usage: hold-stdin PATH ARGV0 [ARGS...]")
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	if err := unix.Dup3(p[0], 0, 0); err != nil {
		return err
	}
	unix.Close(p[0])
	if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETFD, 0); err != nil {
		return err
	}
	supervisorDispositions()
	err := unix.Exec(args[0], args[1:], environ)
	runtime.KeepAlive(p)
	return fmt.Errorf("couldn't exec %s: %s", args[0], errnoName(err))
}

// listen is the ExecStart of an event listener that supersede serve
// serves: --user|--system NAME PATH ARGV0 ARGS... It connects to serve's
// events socket NAME in the manager's runtime directory ($XDG_RUNTIME_DIR
// for --user, /run for --system) and execs the program with that
// connection as its standard input and output, so it speaks Supervisor's
// listener protocol with serve itself: the events come on stdin, READY
// and RESULT go back on stdout. The program stays the unit's main
// process; its stderr stays the unit's.
func listen(args, environ []string) error {
	if len(args) < 4 || (args[0] != "--user" && args[0] != "--system") {
		return errors.New("usage: listen --user|--system SOCKET PATH ARGV0 [ARGS...]")
	}
	dir := "/run"
	if args[0] == "--user" {
		dir = ""
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "XDG_RUNTIME_DIR="); ok {
				dir = v
			}
		}
		if dir == "" {
			return errors.New("listen --user: XDG_RUNTIME_DIR is not set, so the events socket of supersede serve cannot be found")
		}
	}
	path := filepath.Join(dir, args[1])
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connecting to the events socket %s of supersede serve: %w (is the serve socket unit running? systemctl enable --now its .socket)", path, err)
	}
	for _, to := range []int{0, 1} {
		if err := unix.Dup3(fd, to, 0); err != nil {
			return err
		}
	}
	unix.Close(fd)
	supervisorDispositions()
	err = unix.Exec(args[2], args[3:], environ)
	return fmt.Errorf("couldn't exec %s: %s", args[2], errnoName(err))
}

func readCount(state string) int {
	b, err := os.ReadFile(filepath.Join(state, CountFile))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// writeWait replaces WaitFile atomically with what.
func writeWait(state, what string) error {
	return replace(filepath.Join(state, WaitFile), []byte(what+"\n"))
}

// ReadWait is what WaitFile in state says ("" when there is none).
func ReadWait(state string) string {
	b, err := os.ReadFile(filepath.Join(state, WaitFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeCount replaces the count atomically.
func writeCount(state string, n int) error {
	return replace(filepath.Join(state, CountFile), []byte(strconv.Itoa(n)+"\n"))
}

// dieBySIGTERM ends the step by SIGTERM: systemd counts a control process
// killed by a signal as a failure with Result=signal, which
// Restart=on-abnormal restarts (an exit code would not be).
func dieBySIGTERM() error {
	signal.Reset(syscall.SIGTERM)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(time.Minute)
	return &failed{1}
}

// errnoName is Python's errno.errorcode name of err, as Supervisor prints.
func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
	}
	return err.Error()
}

func getenv(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], name+"="); ok {
			return v
		}
	}
	return ""
}
