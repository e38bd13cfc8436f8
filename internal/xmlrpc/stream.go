package xmlrpc

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/supersede/supersede/internal/logread"
)

// Large log reads. readLog, readProcessStdoutLog and tailProcessStdoutLog
// (and their stderr twins) answer with as much of a log file as they are
// asked for, which Supervisor reads whole into memory before it encodes
// it. A log of logfile_maxbytes=0 grows without end, and a few clients
// asking for all of it at once (readProcessStdoutLog NAME 0 0, or
// `supervisorctl tail -100000000 NAME`) took gigabytes of the daemon's
// memory (four reads of a 300 MB log: 3.3 GB at its peak, 1.8 GB kept
// after) and held its other answers for seconds: enough to have a
// container's daemon killed by the kernel. So a read of more than
// inlineMax bytes of a regular file is not read when the method runs:
// the method answers with a lazyText, and serveRPC writes the answer out
// as it reads the file, escaped piece by piece, with the same bytes
// Supervisor's answer has; only the HTTP framing differs (chunked, with
// no Content-Length, as for any answer whose length is not known ahead).
// Each such answer holds at most streamPiece bytes of the file and their
// escaped form, whatever its size.

// inlineMax is the size up to which a log read is answered as before,
// read whole and sent with its Content-Length.
const inlineMax = 1 << 20

// streamPiece is how much of the file a streamed answer reads at a time:
// with its escaped form (up to three times as much), what a client that
// stops reading holds of the daemon's memory until WriteTimeout, at
// most MaxConns times over.
const streamPiece = 16 << 10

// lazyText is a string value whose bytes are those of a file's Section,
// read only when the answer is written; idx is its place in the
// request's sections.
type lazyText struct{ idx int }

// sections are the Sections the methods of one request answer with;
// serveRPC closes them once the answer is written.
type sections struct {
	mu   sync.Mutex
	list []*logread.Section
}

type sectionsKey struct{}

// withSections returns ctx carrying a new, empty sections: the methods
// called with it may answer with lazyText values.
func withSections(ctx context.Context) (context.Context, *sections) {
	s := &sections{}
	return context.WithValue(ctx, sectionsKey{}, s), s
}

// sectionsOf is ctx's sections, nil when the caller cannot stream (Local,
// which hands values to Go code).
func sectionsOf(ctx context.Context) *sections {
	s, _ := ctx.Value(sectionsKey{}).(*sections)
	return s
}

func (s *sections) add(sec *logread.Section) lazyText {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, sec)
	return lazyText{len(s.list) - 1}
}

func (s *sections) get(idx int) *logread.Section {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < 0 || idx >= len(s.list) {
		return nil
	}
	return s.list[idx]
}

func (s *sections) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.list)
}

func (s *sections) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range s.list {
		sec.Close()
	}
	s.list = nil
}

// readFile is logread.Read for a method: a lazyText where ctx allows and
// the read is large.
func readFile(ctx context.Context, path string, offset, length int64) (any, error) {
	secs := sectionsOf(ctx)
	if secs == nil {
		data, err := logread.Read(path, offset, length)
		return string(data), err
	}
	data, sec, err := logread.ReadLarge(path, offset, length, inlineMax)
	if sec != nil {
		return secs.add(sec), nil
	}
	return string(data), err
}

// tailFile is logread.Tail for a method, as readFile is Read.
func tailFile(ctx context.Context, path string, offset, length int64) []any {
	secs := sectionsOf(ctx)
	if secs == nil {
		data, next, overflow := logread.Tail(path, offset, length)
		return []any{string(data), next, overflow}
	}
	data, sec, next, overflow := logread.TailLarge(path, offset, length, inlineMax)
	if sec != nil {
		return []any{secs.add(sec), next, overflow}
	}
	return []any{string(data), next, overflow}
}

// lazyMark stands for a lazyText in an encoded answer: a NUL byte, its
// index, a NUL byte. No other NUL byte is ever encoded (escapeText turns
// control characters into U+FFFD, and no markup has one).
func encodeLazy(buf *bytes.Buffer, v lazyText) {
	buf.WriteString("<value><string>")
	buf.WriteByte(0)
	buf.WriteString(strconv.Itoa(v.idx))
	buf.WriteByte(0)
	buf.WriteString("</string></value>")
}

// writeStreamed writes the encoded answer enc, whose lazy marks stand
// for secs, reading and escaping each section as it goes; each write
// has WriteTimeout against a client that does not read.
func (s *Server) writeStreamed(w http.ResponseWriter, rc *http.ResponseController, enc []byte, secs *sections) error {
	write := func(b []byte) error {
		rc.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout))
		_, err := w.Write(b)
		return err
	}
	w.Header().Set("Content-Type", "text/xml")
	in := make([]byte, streamPiece)
	var work []byte // a piece after the bytes held back from the last
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(enc, 0)
		if i < 0 {
			return write(enc)
		}
		if err := write(enc[:i]); err != nil {
			return err
		}
		rest := enc[i+1:]
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			return errors.New("xmlrpc: unterminated lazy mark")
		}
		idx, err := strconv.Atoi(string(rest[:j]))
		sec := secs.get(idx)
		if err != nil || sec == nil {
			return errors.New("xmlrpc: bad lazy mark")
		}
		enc = rest[j+1:]
		work = work[:0]
		err = sec.Each(in, func(piece []byte) error {
			work = append(work, piece...)
			cut := safeCut(work)
			out.Reset()
			escapeText(&out, string(work[:cut]))
			work = append(work[:0], work[cut:]...)
			return write(out.Bytes())
		})
		if err != nil {
			return err
		}
		out.Reset()
		escapeText(&out, string(work))
		if err := write(out.Bytes()); err != nil {
			return err
		}
	}
}

// safeCut is where b may be cut so that escapeText(b[:cut]) +
// escapeText(b[cut:]) is escapeText(b): before a lead byte among the
// last three bytes (whose sequence may go on in the next piece), else at
// the end. escapeText's steps begin at every byte that is not a
// continuation byte (0x80-0xBF), and a step only ever takes continuation
// bytes after its first, at most three of them.
func safeCut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if b[i] >= 0xC0 {
			return i
		}
	}
	return len(b)
}
