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
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, status.ErrFailed
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, status.ErrFailed
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		// Python's open() refuses a directory (IsADirectoryError).
		return nil, status.ErrFailed
	}
	regular := st.Mode&syscall.S_IFMT == syscall.S_IFREG
	var data []byte
	if offset < 0 {
		if length != 0 {
			return nil, status.ErrBadArguments
		}
		sz, err := syscall.Seek(fd, 0, io.SeekEnd)
		if err != nil {
			return nil, status.ErrFailed
		}
		data, err = readAt(fd, max(sz+offset, 0), -offset, regular)
		if err != nil {
			return nil, status.ErrFailed
		}
		return data, nil
	}
	if length < 0 {
		return nil, status.ErrBadArguments
	}
	if _, err := syscall.Seek(fd, offset, io.SeekStart); err != nil {
		return nil, status.ErrFailed // a pipe or tty: ESPIPE, as in Python
	}
	n := length
	if n == 0 {
		n = -1
	}
	data, err = readAt(fd, offset, n, regular)
	if err != nil {
		return nil, status.ErrFailed
	}
	return data, nil
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
	fd, oerr := openRetry(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if oerr != nil {
		return nil, offset, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return nil, offset, false
	}
	sz, serr := syscall.Seek(fd, 0, io.SeekEnd)
	if serr != nil {
		return nil, offset, false
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
	var b []byte
	if length > 0 {
		var rerr error
		b, rerr = readAt(fd, offset, length, st.Mode&syscall.S_IFMT == syscall.S_IFREG)
		if rerr != nil {
			return nil, offset, false
		}
	}
	return b, sz, overflow
}

func openRetry(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
