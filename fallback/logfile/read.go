package logfile

import (
	"io"
	"math"
	"slices"
	"syscall"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/status"
)

// maxSpecialRead bounds a read to EOF of something that is not a regular
// file (/dev/zero would never end).
const maxSpecialRead = 1 << 20

// Read is readLog and readProcessStdoutLog/readProcessStderrLog on the
// log file at path (options.readFile and the checks around it):
//
//   - path "" (no log): status.ErrNoFile; a path that does not exist: a
//     *status.Error of kind ErrNoFile with the path as detail;
//   - the file cannot be opened or read: status.ErrFailed;
//   - offset < 0: the last -offset bytes; length must then be 0, else
//     status.ErrBadArguments;
//   - offset ≥ 0: length bytes from offset, or to the end when length is
//     0; length < 0 is status.ErrBadArguments;
//   - the bytes are returned as text, decoded as UTF-8 as Supervisor's
//     as_string does, strictly: bytes that are not UTF-8 (or a character
//     cut by offset or length) give ErrUndecodable, where Supervisor's
//     handler raises and the client gets HTTP 500.
//
// As in Supervisor, the file is opened before the arguments are checked
// (a directory is status.ErrFailed whatever the arguments).
func Read(path string, offset, length int64) (string, error) {
	if path == "" {
		return "", status.ErrNoFile
	}
	if !exists(path) {
		return "", &status.Error{Kind: status.ErrNoFile, Detail: path}
	}
	data, err := readFile(path, offset, length)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(data) {
		return "", ErrUndecodable
	}
	return string(data), nil
}

func readFile(path string, offset, length int64) ([]byte, error) {
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

// Tail is tailProcessStdoutLog/tailProcessStderrLog on the log file at
// path (options.tailFile): up to length bytes from offset; when the file
// has grown past offset+length, overflow is true and the data is the
// last length bytes. next is the file's size, the offset to ask for
// next. No log, or a path that does not exist, gives ("", 0, false); a
// file that cannot be read gives ("", offset, false) as Supervisor does.
// The only error is ErrUndecodable: the bytes are not UTF-8 (Supervisor
// answers HTTP 500).
func Tail(path string, offset, length int64) (data string, next int64, overflow bool, err error) {
	if path == "" || !exists(path) {
		return "", 0, false, nil
	}
	fd, oerr := openRetry(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if oerr != nil {
		return "", offset, false, nil
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return "", offset, false, nil
	}
	sz, serr := syscall.Seek(fd, 0, io.SeekEnd)
	if serr != nil {
		return "", offset, false, nil
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
			return "", offset, false, nil
		}
	}
	if !utf8.Valid(b) {
		return "", sz, overflow, ErrUndecodable
	}
	return string(b), sz, overflow, nil
}
