package logfile

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Linux constants the syscall package does not name.
const (
	fSetPipeSize = 1031 // F_SETPIPE_SZ
	fionread     = 0x541B
	pollOut      = 0x4

	spliceMove     = 0x1 // SPLICE_F_MOVE
	spliceNonblock = 0x2 // SPLICE_F_NONBLOCK
)

// setAppend turns O_APPEND on or off for fd's open file description.
func setAppend(fd int, on bool) error {
	fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if e != 0 {
		return e
	}
	nfl := fl &^ syscall.O_APPEND
	if on {
		nfl |= syscall.O_APPEND
	}
	if nfl == fl {
		return nil
	}
	_, _, e = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFL, nfl)
	if e != 0 {
		return e
	}
	return nil
}

// Pipe makes a pipe for a child's stdout or stderr: r is the parent's
// end, for Pump.Add (which takes it over), w the child's (pass it to the
// fork, then close it in the parent). Both are close-on-exec; the fork
// dup2s w onto 1 or 2, which clears the flag there. Use it rather than
// os.Pipe, whose ends the Go runtime's own poller would also watch.
func Pipe() (r, w int, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// waitWritable blocks until fd can be written (or has an error).
func waitWritable(fd int) error {
	return pollWritable(fd, -1)
}

// pollWritable waits up to d (for ever when d < 0) for fd to take a
// write, or to fail; a timed wait that a signal interrupts just ends.
func pollWritable(fd int, d time.Duration) error {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{int32(fd), pollOut, 0}
	var ts *syscall.Timespec
	if d >= 0 {
		t := syscall.NsecToTimespec(d.Nanoseconds())
		ts = &t
	}
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
		switch {
		case e == syscall.EINTR && ts == nil:
			continue
		case e != 0 && e != syscall.EINTR:
			return e
		}
		return nil
	}
}

// pending is how many bytes a pipe holds (FIONREAD).
func pending(fd int) (int, error) {
	var n int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), fionread, uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// setPipeSize asks for a pipe buffer of size bytes; the kernel may refuse
// (an unprivileged user over fs.pipe-user-pages-soft), which is harmless.
func setPipeSize(fd, size int) {
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fSetPipeSize, uintptr(size))
}

// AppendStdStreams puts the process's standard output and error into
// append mode (O_APPEND) when they are regular files, so that what the
// daemon writes to them never overwrites what another writer put there.
//
// With `supersede run -n > out.txt 2>&1`, fds 1 and 2 share one open
// file description at offset 0, while the main log and the programs'
// stdout_logfile=/dev/stdout write through /dev/stdout opened again for
// appending: without this, a configuration error printed to stderr at a
// SIGHUP, or a crash trace, is written at offset 0, over the log's first
// lines. supervisord writes its log through fd 1 itself and opens
// /dev/stdout for appending only for the programs, so there the log
// overwrites their output instead; in append mode every writer writes at
// the end. Pipes, ttys and sockets are left as they are (O_APPEND means
// nothing to them).
func AppendStdStreams() error {
	var errs []error
	for _, fd := range []int{1, 2} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue // closed, or not a regular file
		}
		if err := setAppend(fd, true); err != nil {
			errs = append(errs, &os.PathError{Op: "fcntl", Path: []string{1: "/dev/stdout", 2: "/dev/stderr"}[fd], Err: err})
		}
	}
	return errors.Join(errs...)
}
