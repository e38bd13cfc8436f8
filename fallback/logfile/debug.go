package logfile

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// DebugMessage is the main-log message (at DEBG) that Supervisor logs for
// each chunk of a process's output when loglevel is debug or lower
// (POutputDispatcher._log): "'NAME' CHANNEL output:\n" then the chunk
// decoded as UTF-8, or "Undecodable: b'...'" (Python's repr) when it is
// not UTF-8. Event listeners' stdout has its own line, which
// fallback/events writes.
func DebugMessage(name, channel string, data []byte) string {
	b := make([]byte, 0, len(name)+len(channel)+len(data)+24)
	b = appendStrRepr(b, name)
	b = append(b, ' ')
	b = append(b, channel...)
	b = append(b, " output:\n"...)
	if utf8.Valid(data) {
		b = append(b, data...)
	} else {
		b = append(b, "Undecodable: "...)
		b = appendBytesRepr(b, data)
	}
	return string(b)
}

// pyStrRepr is Python's repr() of a str.
func pyStrRepr(s string) string { return string(appendStrRepr(nil, s)) }

// appendStrRepr appends Python's repr() of s. Bytes that are not UTF-8
// are written as the lone surrogates Python's file-system decoding
// (surrogateescape) gives them: \udcXX.
func appendStrRepr(b []byte, s string) []byte {
	q := byte('\'')
	if containsByte(s, '\'') && !containsByte(s, '"') {
		q = '"'
	}
	b = append(b, q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\udc`...)
			b = appendHex(b, uint32(s[i]), 2)
			i++
			continue
		}
		i += size
		switch {
		case r == rune(q) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(r), 2)
		case r < 0x7f:
			b = append(b, byte(r))
		case unicode.IsPrint(r):
			b = utf8.AppendRune(b, r)
		case r < 0x100:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(r), 2)
		case r < 0x10000:
			b = append(b, `\u`...)
			b = appendHex(b, uint32(r), 4)
		default:
			b = append(b, `\U`...)
			b = appendHex(b, uint32(r), 8)
		}
	}
	return append(b, q)
}

// appendBytesRepr appends Python's repr() of a bytes object.
func appendBytesRepr(b, data []byte) []byte {
	q := byte('\'')
	if containsByte(string(data), '\'') && !containsByte(string(data), '"') {
		q = '"'
	}
	b = append(b, 'b', q)
	for _, c := range data {
		switch {
		case c == q || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20 || c >= 0x7f:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		default:
			b = append(b, c)
		}
	}
	return append(b, q)
}

func appendHex(b []byte, v uint32, digits int) []byte {
	s := strconv.FormatUint(uint64(v), 16)
	for i := len(s); i < digits; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
