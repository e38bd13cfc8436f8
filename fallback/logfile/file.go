package logfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClosed is returned by writes to a File that was closed, or whose
// reopening failed.
var ErrClosed = errors.New("log file is not open")

// File is one log file: a process's stdout_logfile or stderr_logfile, or
// the main log file. It writes as Supervisor's loggers.FileHandler and
// RotatingFileHandler do:
//
//   - the file is opened for appending (mode 'ab'), created if missing;
//   - each Write is one emit: all of p is written, then, when maxBytes >
//     0 and the file position is now at maxBytes or more, the file rolls
//     over: NAME.(N-1) → NAME.N … NAME → NAME.1 (backups > 0), and a new,
//     empty NAME is opened; with backups = 0 the file is just truncated.
//     A file can therefore exceed maxBytes by at most one write, as in
//     Supervisor, whose writes are the chunks it read (at most 128 KiB);
//   - Reopen closes and reopens the file (SIGUSR2), Clear removes it and
//     reopens it (clearProcessLogs, clearLog); backups are kept.
//
// (The Pump splices output into a regular file with O_APPEND turned off
// for the call, at the file's current end, where an append would put it;
// another process appending at that very moment is detected and
// reported, and the file is appended to from then on.)
//
// Special files are written, never rotated, removed or reopened: a path
// naming a standard stream or descriptor (/dev/stdout, /dev/stderr,
// /dev/fd/N, /proc/self/fd/N), and anything that is not a regular file
// (a pipe, a tty, /dev/null). Supervisor rotates them when maxbytes > 0
// and crashes the channel on the pipe's seek (Supervisor#1078), and its
// clear removes /dev/stdout itself. When such a path cannot be opened (a
// socket, as under systemd, or no /proc), the descriptor is duplicated
// instead.
//
// Files opened with the same path share one descriptor and one rotation
// state (stdout_logfile and stderr_logfile naming one file is common):
// Supervisor gives each its own handler, and when the shared file rolls
// over each handler then rolls over the other's new file on its next
// write. The first Open's maxBytes and backups apply. Close releases one
// Open; the descriptor is closed with the last.
//
// A File is safe for concurrent use.
type File struct {
	s      *shared
	closed atomic.Bool
}

// shared is the state behind every File of one path.
type shared struct {
	key   string
	path  string // as given: rotation and reopening use it, as Supervisor uses baseFilename
	fdNum int    // the descriptor a standard path names, else -1
	refs  int    // guarded by registry.mu

	mu       sync.Mutex
	fd       int // -1 when not open
	maxBytes int64
	backups  int
	special  bool // never rotated, removed or reopened
	sock     bool // a duplicated socket: written with send(MSG_DONTWAIT)
	noSplice bool // splice into this file failed once: copy instead

	// Line tracking for prefixed output (see Output.Prefix): lineOpen
	// says the last write left a line without its newline, written for
	// lineOwner.
	lineOpen  bool
	lineOwner *Source
}

var registry = struct {
	mu sync.Mutex
	m  map[string]*shared
}{m: map[string]*shared{}}

// Open opens the log file at path, as Supervisor opens a *_logfile for a
// spawn or the main logfile at start. maxBytes is *_logfile_maxbytes (0:
// never roll over) and backups *_logfile_backups. A relative path is
// relative to the current directory, as in Supervisor. The error is an
// *os.PathError, whose errno fallback reports in Supervisor's spawn
// error ("unknown error making dispatchers for 'x': EACCES").
func Open(path string, maxBytes int64, backups int) (*File, error) {
	if path == "" {
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	key, n := fileKey(path)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if s := registry.m[key]; s != nil {
		s.mu.Lock()
		var err error
		if s.fd < 0 {
			err = s.open(false) // a reopen failed earlier: try again
		}
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		s.refs++
		return &File{s: s}, nil
	}
	s := &shared{key: key, path: path, fdNum: n, fd: -1, maxBytes: maxBytes, backups: backups}
	if err := s.open(false); err != nil {
		return nil, err
	}
	s.refs = 1
	registry.m[key] = s
	return &File{s: s}, nil
}

// fileKey is the registry key of path and the descriptor it names, or -1.
func fileKey(path string) (string, int) {
	if n := stdFD(path); n >= 0 {
		return "fd:" + strconv.Itoa(n), n
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	return abs, -1
}

// stdFD is the descriptor that path names (/dev/stdout, /dev/fd/3), or -1.
func stdFD(path string) int {
	switch path {
	case "/dev/stdin":
		return 0
	case "/dev/stdout":
		return 1
	case "/dev/stderr":
		return 2
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		rest, ok := strings.CutPrefix(path, dir)
		if !ok || rest == "" || len(rest) > 9 || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		n, _ := strconv.Atoi(rest)
		return n
	}
	return -1
}

// Path is the path the file was opened with.
func (f *File) Path() string { return f.s.path }

// Rotates reports whether the file rolls over: maxBytes > 0 and a
// regular file that is not a standard stream.
func (f *File) Rotates() bool {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.s.maxBytes > 0 && !f.s.special
}

// tryWrite is Write without waiting: it writes what a full pipe or tty
// takes now and returns syscall.EAGAIN with the count if that is not
// all of p. It does not roll the file over (special files never do).
func (f *File) tryWrite(p []byte) (int, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed.Load() {
		return 0, ErrClosed
	}
	if s.lineOpen {
		n, err := s.writeSome([]byte{'\n'})
		if n == 0 {
			return 0, err
		}
		s.lineOpen = false
	}
	return s.writeSome(p)
}

// waitWritable waits up to d for the file to take a write, without
// holding it (the pump writes to the same descriptor meanwhile).
func (f *File) waitWritable(d time.Duration) {
	f.s.mu.Lock()
	fd := f.s.fd
	f.s.mu.Unlock()
	if fd < 0 {
		time.Sleep(d)
		return
	}
	pollWritable(fd, d)
}

// Special reports whether the file is a standard stream or another file
// that is never rotated, removed or reopened (/dev/stdout, /dev/fd/N, a
// pipe, a tty).
func (f *File) Special() bool { return f.special() }

// special reports whether the file is never rotated, removed or reopened.
func (f *File) special() bool {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.s.special
}

// Write writes all of p as one emit, then rolls the file over if it is
// due. On a pipe or tty that is full it waits until it can write.
func (f *File) Write(p []byte) (int, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed.Load() {
		return 0, ErrClosed
	}
	if s.lineOpen {
		// End a prefixed program line that is still open before writing
		// something else into the same stream.
		if _, err := s.writeAll([]byte{'\n'}); err != nil {
			return 0, err
		}
		s.lineOpen = false
	}
	n, err := s.writeAll(p)
	if err != nil {
		return n, err
	}
	return n, s.rolloverIfDue()
}

// Reopen closes the file and opens it again by its path (SIGUSR2, after
// logrotate moved it away). It does nothing to a special file.
func (f *File) Reopen() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed.Load() {
		return ErrClosed
	}
	if s.special {
		return nil
	}
	s.closeFD()
	return s.open(false)
}

// Clear removes the file and opens a new, empty one (clearProcessLogs;
// backups are kept). It does nothing to a special file.
func (f *File) Clear() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed.Load() {
		return ErrClosed
	}
	if s.special {
		return nil
	}
	s.closeFD()
	rmErr := os.Remove(s.path)
	if errors.Is(rmErr, os.ErrNotExist) {
		rmErr = nil
	}
	// Supervisor leaves the handler closed when the removal fails; the
	// file is reopened here either way, so output keeps going somewhere.
	return errors.Join(rmErr, s.open(false))
}

// Close releases this File. The descriptor is closed when the last File
// of the path is closed. Close the File only after the Sources writing
// to it have closed.
func (f *File) Close() error {
	if !f.closed.CompareAndSwap(false, true) {
		return nil
	}
	s := f.s
	registry.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(registry.m, s.key)
	}
	registry.mu.Unlock()
	if !last {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fd < 0 {
		return nil
	}
	err := syscall.Close(s.fd)
	s.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: s.path, Err: err}
	}
	return nil
}

// open opens s.path for appending (and truncates it after a rollover,
// as Supervisor's reopening with mode 'wb' does). Locked or unshared.
func (s *shared) open(truncate bool) error {
	// O_NONBLOCK keeps the open from waiting for a reader on a FIFO; it
	// stays on for pipes and ttys, whose full buffers the pump waits
	// out with epoll, and is cleared for regular files.
	flags := syscall.O_WRONLY | syscall.O_APPEND | syscall.O_CREAT | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	if truncate {
		flags |= syscall.O_TRUNC
	}
	fd, err := openRetry(s.path, flags, 0o666)
	dup := false
	if err != nil {
		if s.fdNum < 0 {
			return &os.PathError{Op: "open", Path: s.path, Err: err}
		}
		// open(/dev/stdout) fails on a socket (ENXIO) or without /proc:
		// write to (a duplicate of) the descriptor itself.
		d, derr := dupCloexec(s.fdNum)
		if derr != nil {
			return &os.PathError{Op: "open", Path: s.path, Err: err}
		}
		fd, dup = d, true
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return &os.PathError{Op: "fstat", Path: s.path, Err: err}
	}
	regular := st.Mode&syscall.S_IFMT == syscall.S_IFREG
	if regular && !dup {
		if err := syscall.SetNonblock(fd, false); err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "fcntl", Path: s.path, Err: err}
		}
	}
	s.fd = fd
	s.noSplice = false
	s.special = !regular || s.fdNum >= 0
	s.sock = dup && st.Mode&syscall.S_IFMT == syscall.S_IFSOCK
	s.lineOpen = false
	return nil
}

func (s *shared) closeFD() {
	if s.fd >= 0 {
		syscall.Close(s.fd)
		s.fd = -1
	}
	s.lineOpen = false
}

// write1 is one write(2) (send(2) on a duplicated socket).
func (s *shared) write1(p []byte) (int, error) {
	if s.fd < 0 {
		return 0, ErrClosed
	}
	if s.sock {
		return syscall.SendmsgN(s.fd, p, nil, nil, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
	}
	n, err := syscall.Write(s.fd, p)
	if n < 0 {
		n = 0
	}
	return n, err
}

// writeSome writes p until done or until the descriptor would block
// (syscall.EAGAIN). Locked.
func (s *shared) writeSome(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := s.write1(p[done:])
		done += n
		switch {
		case err == syscall.EINTR:
		case err != nil:
			if err != syscall.EAGAIN {
				err = &os.PathError{Op: "write", Path: s.path, Err: err}
			}
			return done, err
		case n == 0:
			return done, &os.PathError{Op: "write", Path: s.path, Err: io.ErrShortWrite}
		}
	}
	return done, nil
}

// writeAll writes all of p, waiting on a full pipe or tty. Locked.
func (s *shared) writeAll(p []byte) (int, error) {
	done := 0
	for {
		n, err := s.writeSome(p[done:])
		done += n
		if err != syscall.EAGAIN {
			return done, err
		}
		if err := waitWritable(s.fd); err != nil {
			return done, &os.PathError{Op: "poll", Path: s.path, Err: err}
		}
	}
}

// errNoSplice: the file cannot be spliced into; the caller copies.
var errNoSplice = errors.New("splice not possible")

// spliceFrom moves up to max bytes from the pipe into the file without
// copying them through user space, as one or more emits: each move
// either leaves the file below maxBytes or is at most chunkSize bytes
// and is followed by the rollover check, so the files rotate where
// Supervisor's could have. splice(2) refuses O_APPEND files, so
// O_APPEND is off for the call and the bytes go at the file's current
// end, as an append would put them. Locked; the file is regular.
func (s *shared) spliceFrom(pipe, max int) (int, error) {
	if s.fd < 0 {
		return 0, ErrClosed
	}
	if s.noSplice {
		return 0, errNoSplice
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(s.fd, &st); err != nil {
		return 0, &os.PathError{Op: "fstat", Path: s.path, Err: err}
	}
	pos := st.Size
	want := max
	if s.maxBytes > 0 {
		if room := s.maxBytes - pos; room > chunkSize {
			want = int(min(int64(want), room-1))
		} else {
			want = min(want, chunkSize)
		}
	}
	if err := setAppend(s.fd, false); err != nil {
		s.noSplice = true // chattr +a
		return 0, errNoSplice
	}
	n, err := syscall.Splice(pipe, nil, s.fd, &pos, want, spliceMove|spliceNonblock)
	setAppend(s.fd, true)
	switch {
	case err == syscall.EINVAL || err == syscall.ENOSYS:
		s.noSplice = true // a file system without splice_write
		return 0, errNoSplice
	case err != nil:
		return 0, err // EAGAIN: the pipe is empty; else a read or write error
	}
	// Another process appending to the file between the fstat and the
	// splice would have had its bytes overwritten: detect it and append
	// from now on.
	if err := syscall.Fstat(s.fd, &st); err == nil && st.Size != pos {
		s.noSplice = true
		return int(n), &os.PathError{Op: "splice", Path: s.path, Err: errConcurrentWriter}
	}
	if s.maxBytes > 0 && pos >= s.maxBytes {
		return int(n), s.rollover()
	}
	return int(n), nil
}

var errConcurrentWriter = errors.New("another process writes to this log file; its last bytes may be overwritten; appending from now on")

// rolloverIfDue is the check that ends RotatingFileHandler.emit: roll
// over when the position after the write is at maxBytes or beyond.
// Locked.
func (s *shared) rolloverIfDue() error {
	if s.maxBytes <= 0 || s.special || s.fd < 0 {
		return nil
	}
	pos, err := syscall.Seek(s.fd, 0, io.SeekCurrent)
	if err != nil {
		return &os.PathError{Op: "seek", Path: s.path, Err: err}
	}
	if pos < s.maxBytes {
		return nil
	}
	return s.rollover()
}

// rollover is RotatingFileHandler.doRollover after its size check.
// Locked.
func (s *shared) rollover() error {
	s.closeFD()
	var err error
	if s.backups > 0 {
		for i := s.backups - 1; i > 0 && err == nil; i-- {
			sfn := s.path + "." + strconv.Itoa(i)
			if exists(sfn) {
				err = removeAndRename(sfn, s.path+"."+strconv.Itoa(i+1))
			}
		}
		if err == nil {
			err = removeAndRename(s.path, s.path+".1")
		}
	}
	// Supervisor stops at a failed rename with the handler closed, and
	// the channel dies on its next write; here the file is reopened.
	return errors.Join(err, s.open(true))
}

// removeAndRename is RotatingFileHandler.removeAndRename: a destination
// or source that vanished meanwhile is not an error.
func removeAndRename(sfn, dfn string) error {
	if exists(dfn) {
		if err := os.Remove(dfn); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(sfn, dfn); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// exists is Python's os.path.exists: stat succeeds.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func openRetry(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func dupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 3)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
