package xmlrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// tailHead is how far back a tail stream starts (tail_f_producer's head).
const tailHead = 1024

// uriPath is medusa's split_uri path part, percent-decoded when it holds
// a '%' as medusa's unquote does (bad escapes kept as they are).
func uriPath(uri string) string {
	if i := strings.IndexAny(uri, ";?#"); i >= 0 {
		uri = uri[:i]
	}
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b []byte
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+2 < len(uri) && isHex(uri[i+1]) && isHex(uri[i+2]) {
			b = append(b, unhex(uri[i+1])<<4|unhex(uri[i+2]))
			i += 2
			continue
		}
		b = append(b, uri[i])
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// serveLogtail is Supervisor's logtail_handler: GET
// /logtail/NAMESPEC[/CHANNEL] streams the process's log file from 1024
// bytes before its end, following it; 404 when there is no such process
// or log file.
func (s *Server) serveLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpError(w, http.StatusBadRequest)
		return
	}
	path := strings.TrimLeft(uriPath(r.RequestURI), "/")
	_, rest, ok := strings.Cut(path, "/")
	if !ok {
		httpError(w, http.StatusNotFound)
		return
	}
	spec, ch, ok := strings.Cut(rest, "/")
	if !ok {
		ch = "stdout"
	}
	_, _, p, f := s.lookup(r.Context(), spec)
	if f != nil || p == nil {
		httpError(w, http.StatusNotFound)
		return
	}
	if s.streamKept(w, r, p, ch) {
		return
	}
	var file string
	switch ch {
	case "stdout":
		file = p.StdoutLog
	case "stderr":
		file = p.StderrLog
	}
	s.stream(w, r, file, true)
}

// serveMainLogtail is Supervisor's mainlogtail_handler: the same for the
// daemon's own log.
func (s *Server) serveMainLogtail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpError(w, http.StatusBadRequest)
		return
	}
	if s.streamKept(w, r, nil, "") {
		return
	}
	s.stream(w, r, s.b.MainLogFile(), false)
}

// stream answers with the growing file as medusa's deferring producers
// do: chunked for HTTP/1.1, raw and then closed otherwise. The
// connection is taken over so that a client's going away (supervisorctl
// killed at Ctrl-C) is seen at once and the stream ends.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, file string, accelHeader bool) {
	if file == "" {
		httpError(w, http.StatusNotFound)
		return
	}
	fi, err := os.Stat(file)
	if err != nil {
		httpError(w, http.StatusNotFound)
		return
	}
	t, err := newTail(file, tailHead)
	if err != nil {
		httpError(w, http.StatusNotFound)
		return
	}
	s.streamFrom(w, r, fi.ModTime(), t.follow, t.close, accelHeader)
}

// streamFrom is stream's answer for any source: follow sends what comes
// until ctx is done or send fails; closeSrc releases the source.
func (s *Server) streamFrom(w http.ResponseWriter, r *http.Request, modTime time.Time, follow func(ctx context.Context, send func([]byte) error), closeSrc func(), accelHeader bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		closeSrc()
		httpError(w, http.StatusInternalServerError)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		closeSrc()
		return
	}
	// A stream lasts as long as its client wants: no read deadline (the
	// request's has served), and a write deadline for each write only,
	// against a client that stops reading.
	conn.SetDeadline(time.Time{})
	out := rw.Writer
	flush := func() error {
		conn.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout))
		return out.Flush()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		closeSrc()
		return
	}
	from, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	s.streams[conn] = from
	s.mu.Unlock()
	defer func() {
		conn.Close()
		closeSrc()
		s.mu.Lock()
		delete(s.streams, conn)
		s.done.Broadcast()
		s.mu.Unlock()
	}()

	chunked := r.ProtoAtLeast(1, 1) && !strings.EqualFold(r.Header.Get("Connection"), "close")
	var h strings.Builder
	fmt.Fprintf(&h, "HTTP/%d.%d 200 OK\r\n", r.ProtoMajor, r.ProtoMinor)
	if r.ProtoMajor == 0 || (r.ProtoMajor == 1 && r.ProtoMinor == 0) {
		h.Reset()
		h.WriteString("HTTP/1.0 200 OK\r\n")
	}
	fmt.Fprintf(&h, "Date: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	fmt.Fprintf(&h, "Last-Modified: %s\r\n", modTime.UTC().Format(http.TimeFormat))
	h.WriteString("Content-Type: text/plain;charset=utf-8\r\n")
	if accelHeader {
		h.WriteString("X-Accel-Buffering: no\r\n")
	}
	if chunked {
		h.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		h.WriteString("Connection: close\r\n")
	}
	h.WriteString("\r\n")

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Whatever the client sends now (supervisorctl sends a stray CRLF)
	// is ignored; its end means the client is gone.
	go func() {
		io.Copy(io.Discard, rw.Reader)
		cancel()
	}()
	if _, err := out.WriteString(h.String()); err != nil {
		return
	}
	if err := flush(); err != nil {
		return
	}
	follow(ctx, func(data []byte) error {
		if chunked {
			fmt.Fprintf(out, "%x\r\n", len(data))
		}
		out.Write(data)
		if chunked {
			out.WriteString("\r\n")
		}
		return flush()
	})
}

// tail follows a file as Supervisor's tail_f_producer does: it reopens
// the file when the path names another file (rotation), starts over
// with "==> File truncated <==" when the file shrinks, and sends what was
// added. It waits for changes with inotify on the file's directory, and
// polls every 0.1 s (Supervisor's pace) only if inotify is unavailable.
type tail struct {
	path string
	f    *os.File
	ino  uint64
	sz   int64
	w    *watch // nil: poll
}

func newTail(path string, head int64) (*tail, error) {
	t := &tail{path: path}
	if err := t.open(); err != nil {
		return nil, err
	}
	fi, err := t.f.Stat()
	if err != nil {
		t.f.Close()
		return nil, err
	}
	if fi.Size() >= head {
		t.sz = fi.Size() - head
	}
	t.w, _ = newWatch(path) // nil on error: poll instead
	return t, nil
}

func (t *tail) open() error {
	f, err := os.Open(t.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	t.f, t.ino, t.sz = f, inode(fi), 0
	return nil
}

func (t *tail) close() {
	if t.w != nil {
		t.w.close()
	}
	t.f.Close()
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// tailChunk bounds one read, so a burst of output is sent in pieces
// rather than buffered whole.
const tailChunk = 64 << 10

// follow sends the file's new data to send until ctx is done or send
// fails.
func (t *tail) follow(ctx context.Context, send func([]byte) error) {
	buf := make([]byte, tailChunk)
	var events <-chan struct{}
	if t.w != nil {
		events = t.w.events
	}
	for {
		for {
			data, err := t.more(buf)
			if err != nil {
				return
			}
			if len(data) == 0 {
				break
			}
			if err := send(data); err != nil {
				return
			}
		}
		if events != nil {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-events:
				if !ok {
					events = nil // the watch ended: poll
				}
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

var truncated = []byte("==> File truncated <==\n")

// more is tail_f_producer.more: the data added since the last call, at
// most len(buf) bytes of it.
func (t *tail) more(buf []byte) ([]byte, error) {
	if fi, err := os.Stat(t.path); err == nil && inode(fi) != t.ino {
		old := t.f
		if err := t.open(); err == nil {
			old.Close()
		}
	}
	fi, err := t.f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size < t.sz {
		t.sz = 0
		return truncated, nil
	}
	if size == t.sz {
		return nil, nil
	}
	n := min(size-t.sz, int64(len(buf)))
	got, err := t.f.ReadAt(buf[:n], t.sz)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	t.sz += int64(got)
	return buf[:got], nil
}

// watch is an inotify watch on a file's directory that reports, on
// events, every change to the file's name in it: writes, truncation,
// creation, renames and removal.
type watch struct {
	f      *os.File
	events chan struct{}
	done   chan struct{}
}

func newWatch(path string) (*watch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	const mask = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE |
		syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
		syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF
	if _, err := syscall.InotifyAddWatch(fd, filepath.Dir(path), mask); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	w := &watch{
		f:      os.NewFile(uintptr(fd), "inotify"),
		events: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	go w.read(filepath.Base(path))
	return w, nil
}

func (w *watch) read(base string) {
	defer close(w.done)
	defer close(w.events)
	buf := make([]byte, 16*(syscall.SizeofInotifyEvent+syscall.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		hit, gone := false, false
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			// struct inotify_event: wd, mask, cookie, len, then the name
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			start := off + syscall.SizeofInotifyEvent
			name := ""
			if nameLen > 0 && start+nameLen <= n {
				name = strings.TrimRight(string(buf[start:start+nameLen]), "\x00")
			}
			if name == base || mask&syscall.IN_Q_OVERFLOW != 0 {
				hit = true
			}
			if mask&syscall.IN_IGNORED != 0 { // the directory went away: poll from now on
				gone = true
			}
			off = start + nameLen
		}
		if hit {
			select {
			case w.events <- struct{}{}:
			default:
			}
		}
		if gone {
			return
		}
	}
}

func (w *watch) close() {
	w.f.Close()
	<-w.done
}
