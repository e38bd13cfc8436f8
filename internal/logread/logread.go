// Package logread reads log files as Supervisor's rpcinterface does
// (options.readFile and options.tailFile), for the XML-RPC server and
// anything else that serves a process's log by path.
//
// A file is opened without blocking (a FIFO with no writer would
// otherwise hang the caller), a directory or a pipe fails as in Python,
// and a read to the end of something that is not a regular file is
// bounded (/dev/zero never ends).
package logread

import (
	"io"
	"math"
	"slices"
	"syscall"

	"github.com/supersede/supersede/internal/status"
)

// maxSpecialRead bounds a read to EOF of something that is not a regular
// file.
const maxSpecialRead = 1 << 20

// Read is Supervisor's options.readFile, behind readLog and
// readProcessStdoutLog/readProcessStderrLog: length bytes from offset, or
// to the end when length is 0; with offset < 0 the last -offset bytes
// (length must then be 0). Arguments out of range are
// status.ErrBadArguments; a file that cannot be opened, sought or read
// (a directory, a pipe) is status.ErrFailed. As in Supervisor, the file
// is opened before the arguments are checked. The caller says NO_FILE for
// a log that does not exist, and decides what to do with bytes that are
// not UTF-8.
func Read(path string, offset, length int64) ([]byte, error) {
	data, _, err := ReadLarge(path, offset, length, math.MaxInt64)
	return data, err
}

// ReadLarge is Read for an answer that may be too large to hold: where
// the bytes to read, of a regular file, are more than inline, it reads
// nothing and returns them as a Section, which the caller writes out as
// it reads it and closes. Four clients reading a 300 MB log at once
// otherwise took 3.3 GB of the daemon's memory, and the status calls
// meanwhile waited seconds.
func ReadLarge(path string, offset, length, inline int64) ([]byte, *Section, error) {
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, status.ErrFailed
	}
	kept := false
	defer func() {
		if !kept {
			syscall.Close(fd)
		}
	}()
	// lazy is the Section for n bytes from off (n < 0: to the end), when
	// they are more than inline.
	lazy := func(off, n int64) *Section {
		if sec := section(fd, off, n, inline); sec != nil {
			kept = true
			return sec
		}
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, nil, status.ErrFailed
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		// Python's open() refuses a directory (IsADirectoryError).
		return nil, nil, status.ErrFailed
	}
	regular := st.Mode&syscall.S_IFMT == syscall.S_IFREG
	var data []byte
	if offset < 0 {
		if length != 0 {
			return nil, nil, status.ErrBadArguments
		}
		sz, err := syscall.Seek(fd, 0, io.SeekEnd)
		if err != nil {
			return nil, nil, status.ErrFailed
		}
		if regular {
			if sec := lazy(max(sz+offset, 0), -offset); sec != nil {
				return nil, sec, nil
			}
		}
		data, err = readAt(fd, max(sz+offset, 0), -offset, regular)
		if err != nil {
			return nil, nil, status.ErrFailed
		}
		return data, nil, nil
	}
	if length < 0 {
		return nil, nil, status.ErrBadArguments
	}
	if _, err := syscall.Seek(fd, offset, io.SeekStart); err != nil {
		return nil, nil, status.ErrFailed // a pipe or tty: ESPIPE, as in Python
	}
	n := length
	if n == 0 {
		n = -1
	}
	if regular {
		if sec := lazy(offset, n); sec != nil {
			return nil, sec, nil
		}
	}
	data, err = readAt(fd, offset, n, regular)
	if err != nil {
		return nil, nil, status.ErrFailed
	}
	return data, nil, nil
}

// readAt reads n bytes from off (n < 0: to the end of the file), fewer
// at the end of the file.
func readAt(fd int, off, n int64, regular bool) ([]byte, error) {
	limit := n
	if limit < 0 {
		limit = math.MaxInt64
		if !regular {
			limit = maxSpecialRead
		}
	}
	hint := min(limit, 64<<10)
	if regular {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, err
		}
		hint = min(limit, max(st.Size-off, 0))
	}
	buf := make([]byte, 0, hint)
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(limit-int64(len(buf)), int64(max(cap(buf), 4096)))))
		}
		end := min(int64(cap(buf)), limit)
		k, err := syscall.Pread(fd, buf[len(buf):end], off+int64(len(buf)))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if k == 0 {
			break
		}
		buf = buf[:len(buf)+k]
	}
	return buf, nil
}

// Tail is Supervisor's options.tailFile, behind tailProcessStdoutLog:
// up to length bytes from offset; when the file has grown past
// offset+length, overflow is true and the data is the last length bytes.
// next is the file's size, the offset to ask for next. A file that cannot
// be read gives (nil, offset, false), as Supervisor does; the caller
// answers ("", 0, false) for a log that does not exist.
func Tail(path string, offset, length int64) (data []byte, next int64, overflow bool) {
	data, _, next, overflow = TailLarge(path, offset, length, math.MaxInt64)
	return data, next, overflow
}

// TailLarge is Tail as ReadLarge is Read: more than inline bytes of a
// regular file come as a Section, not read yet.
func TailLarge(path string, offset, length, inline int64) (data []byte, sec *Section, next int64, overflow bool) {
	fd, oerr := openRetry(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if oerr != nil {
		return nil, nil, offset, false
	}
	defer func() {
		if sec == nil {
			syscall.Close(fd)
		}
	}()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return nil, nil, offset, false
	}
	sz, serr := syscall.Seek(fd, 0, io.SeekEnd)
	if serr != nil {
		return nil, nil, offset, false
	}
	if sz > offset+length {
		overflow = true
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	offset = max(offset, 0)
	length = max(length, 0)
	regular := st.Mode&syscall.S_IFMT == syscall.S_IFREG
	var b []byte
	if length > 0 {
		if regular {
			if sec = section(fd, offset, length, inline); sec != nil {
				return nil, sec, sz, overflow
			}
		}
		var rerr error
		b, rerr = readAt(fd, offset, length, regular)
		if rerr != nil {
			return nil, nil, offset, false
		}
	}
	return b, nil, sz, overflow
}

// Section is a part of a regular file not read yet: an answer too large
// to hold in memory, which its reader writes out as it reads it, in
// pieces. It holds the file open until Close, so that a log rotated or
// removed meanwhile is still read whole; a file truncated meanwhile
// (clearProcessLogs) ends it early.
type Section struct {
	fd  int
	off int64
	n   int64
}

// section is the Section of fd for n bytes from off (n < 0: to the end
// of the file), the bytes the file has there now, when they are more
// than inline; else nil.
func section(fd int, off, n, inline int64) *Section {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil
	}
	avail := max(st.Size-off, 0)
	if n >= 0 {
		avail = min(avail, n)
	}
	if avail <= inline {
		return nil
	}
	return &Section{fd: fd, off: off, n: avail}
}

// Len is the number of bytes of the section, fewer if the file has been
// truncated since.
func (s *Section) Len() int64 { return s.n }

// Each reads the section in pieces of at most len(buf) bytes and hands
// each to f, which must not keep it; it stops at the first error of f or
// of the read and returns it, or at the end of the file.
func (s *Section) Each(buf []byte, f func([]byte) error) error {
	for done := int64(0); done < s.n; {
		want := min(int64(len(buf)), s.n-done)
		k, err := syscall.Pread(s.fd, buf[:want], s.off+done)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			return nil // truncated meanwhile
		}
		if err := f(buf[:k]); err != nil {
			return err
		}
		done += int64(k)
	}
	return nil
}

// Close releases the file; a second Close does nothing.
func (s *Section) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := syscall.Close(s.fd)
	s.fd = -1
	return err
}

func openRetry(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
