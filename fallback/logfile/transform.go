package logfile

import "bytes"

// ansiTerminators are the bytes that end an escape sequence in
// Supervisor's stripEscapes (dispatchers.ANSI_TERMINATORS).
const ansiTerminators = "HfABCDRsuJKhlpm"

// ansiState strips ANSI escapes from a stream as Supervisor's
// stripEscapes strips them from one string: from each "\x1b[" through
// the next terminator byte, inclusive; an unterminated escape swallows
// the rest. Supervisor strips each chunk it reads on its own, so an
// escape split between two reads survives there; here the state carries
// over, and the output is what stripEscapes gives for the whole stream.
type ansiState struct {
	inEsc   bool // inside an escape: dropping bytes up to a terminator
	heldEsc bool // the last chunk ended with "\x1b", which may begin "\x1b["
}

// strip appends src without escapes to dst.
func (a *ansiState) strip(dst, src []byte) []byte {
	i := 0
	if a.heldEsc {
		if len(src) == 0 {
			return dst
		}
		a.heldEsc = false
		if src[0] == '[' {
			a.inEsc = true
			i = 1
		} else {
			dst = append(dst, 0x1b)
		}
	}
	for i < len(src) {
		if a.inEsc {
			j := bytes.IndexAny(src[i:], ansiTerminators)
			if j < 0 {
				return dst
			}
			i += j + 1
			a.inEsc = false
			continue
		}
		n := bytes.Index(src[i:], []byte("\x1b["))
		if n < 0 {
			rest := src[i:]
			if rest[len(rest)-1] == 0x1b {
				a.heldEsc = true
				rest = rest[:len(rest)-1]
			}
			return append(dst, rest...)
		}
		dst = append(dst, src[i:i+n]...)
		i += n + 2
		a.inEsc = true
	}
	return dst
}

// flush appends what strip held back at the end of the stream.
func (a *ansiState) flush(dst []byte) []byte {
	if a.heldEsc {
		a.heldEsc = false
		dst = append(dst, 0x1b)
	}
	return dst
}

// The tokens around a process communication (events.CommunicationBegin
// and CommunicationEnd; ProcessCommunicationEvent in Supervisor).
var (
	beginToken = []byte("<!--XSUPERVISOR:BEGIN-->")
	endToken   = []byte("<!--XSUPERVISOR:END-->")
)

// capture is the capture-mode state of POutputDispatcher: the output not
// yet logged (output_buffer), whether a communication is open
// (capturemode), and the capture log (a BoundIO of capture_maxbytes).
type capture struct {
	max  int
	mode bool
	held []byte // output_buffer
	buf  []byte // the BoundIO's contents
}

// write is BoundIO.write: when the new bytes do not fit, as many bytes
// as are being added are dropped from the front (all of them when that
// is more than there is), so the buffer can exceed max by one write.
func (c *capture) write(b []byte) {
	if len(c.buf)+len(b) > c.max {
		if len(b) >= len(c.buf) {
			c.buf = c.buf[:0]
		} else {
			c.buf = c.buf[len(b):]
		}
	}
	c.buf = append(c.buf, b...)
}

// findPrefixAtEnd is medusa's find_prefix_at_end: the length of the
// longest proper prefix of token that haystack ends with.
func findPrefixAtEnd(haystack, token []byte) int {
	l := len(token) - 1
	for l > 0 && !bytes.HasSuffix(haystack, token[:l]) {
		l--
	}
	return l
}

// appendPrefixed appends data to out with prefix before the first byte
// of each line; atStart says whether the stream is at the start of a
// line. It returns out and whether the stream is now at a line start.
func appendPrefixed(out, data []byte, prefix string, atStart bool) ([]byte, bool) {
	for len(data) > 0 {
		if atStart {
			out = append(out, prefix...)
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(out, data...), false
		}
		out = append(out, data[:i+1]...)
		data = data[i+1:]
		atStart = true
	}
	return out, atStart
}

// incompleteTail is the length of the UTF-8 sequence that b ends in the
// middle of (0 to 3), so that output can be cut between characters.
// Invalid bytes count as complete.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		c := b[i]
		switch {
		case c < 0x80:
			return 0
		case c < 0xC0:
			continue // a continuation byte: look further back
		case c < 0xE0:
			return tailIf(len(b)-i, 2)
		case c < 0xF0:
			return tailIf(len(b)-i, 3)
		case c < 0xF8:
			return tailIf(len(b)-i, 4)
		default:
			return 0
		}
	}
	return 0
}

func tailIf(have, need int) int {
	if have < need {
		return have
	}
	return 0
}
