package xmlrpc

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The fast path of parseResponse. encoding/xml builds a token (and we a
// node) per element, which for getAllProcessInfo at 1000 processes
// (1.3 MB, 60 000 elements) costs tens of milliseconds; supersede ctl
// status must answer in less. Responses from supervisord and from this
// package are the plain layout Python's xmlrpc.client.dumps writes, which
// this scanner reads in one pass. Anything else it does not know
// (DOCTYPE, CDATA, namespaces, attributes, comments inside values) makes
// it give up, and parseResponse falls back to the general parser.

var errSlowPath = errors.New("not the plain layout")

type scanner struct {
	b []byte
	i int
}

// fastResponse reads a methodResponse in the plain layout.
func fastResponse(body []byte) (any, error) {
	s := &scanner{b: body}
	s.skipProlog()
	if !s.open("methodResponse") {
		return nil, errSlowPath
	}
	s.space()
	switch {
	case s.open("params"):
		if !s.open("param") || !s.open("value") {
			return nil, errSlowPath
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		if !s.close("param") || !s.close("params") || !s.close("methodResponse") {
			return nil, errSlowPath
		}
		s.space()
		if s.i != len(s.b) {
			return nil, errSlowPath
		}
		return v, nil
	case s.open("fault"):
		if !s.open("value") {
			return nil, errSlowPath
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		if !s.close("fault") || !s.close("methodResponse") {
			return nil, errSlowPath
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errSlowPath
		}
		code, _ := m["faultCode"].(int)
		str, _ := m["faultString"].(string)
		return nil, &Fault{Code: code, String: str}
	}
	return nil, errSlowPath
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// skipProlog skips an XML declaration and white space.
func (s *scanner) skipProlog() {
	s.space()
	if bytes.HasPrefix(s.b[s.i:], []byte("<?xml")) {
		if j := bytes.Index(s.b[s.i:], []byte("?>")); j >= 0 {
			s.i += j + 2
		}
	}
	s.space()
}

// open consumes white space and <name>.
func (s *scanner) open(name string) bool {
	s.space()
	j := s.i
	if j+len(name)+2 > len(s.b) || s.b[j] != '<' || string(s.b[j+1:j+1+len(name)]) != name || s.b[j+1+len(name)] != '>' {
		return false
	}
	s.i = j + len(name) + 2
	return true
}

// close consumes white space and </name>.
func (s *scanner) close(name string) bool {
	s.space()
	j := s.i
	if j+len(name)+3 > len(s.b) || s.b[j] != '<' || s.b[j+1] != '/' || string(s.b[j+2:j+2+len(name)]) != name || s.b[j+2+len(name)] != '>' {
		return false
	}
	s.i = j + len(name) + 3
	return true
}

// tag reads the next tag's name at s.i (which is at '<'): "x" for <x>,
// "/x" for </x>, "x/" for <x/>.
func (s *scanner) tag() (string, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '<' {
		return "", false
	}
	j := bytes.IndexByte(s.b[s.i:], '>')
	if j < 0 {
		return "", false
	}
	name := string(s.b[s.i+1 : s.i+j])
	if strings.ContainsAny(name, " \t\r\n=\"'!?:") {
		return "", false
	}
	s.i += j + 1
	return name, true
}

// text reads character data up to the next '<', decoding entities and
// line ends as an XML parser does.
func (s *scanner) text() (string, bool) {
	j := bytes.IndexByte(s.b[s.i:], '<')
	if j < 0 {
		return "", false
	}
	raw := s.b[s.i : s.i+j]
	s.i += j
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		if !utf8.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
	var out strings.Builder
	out.Grow(len(raw))
	for k := 0; k < len(raw); k++ {
		c := raw[k]
		switch c {
		case '\r':
			out.WriteByte('\n')
			if k+1 < len(raw) && raw[k+1] == '\n' {
				k++
			}
		case '&':
			end := bytes.IndexByte(raw[k:], ';')
			if end < 0 {
				return "", false
			}
			ent := string(raw[k+1 : k+end])
			switch ent {
			case "amp":
				out.WriteByte('&')
			case "lt":
				out.WriteByte('<')
			case "gt":
				out.WriteByte('>')
			case "quot":
				out.WriteByte('"')
			case "apos":
				out.WriteByte('\'')
			default:
				var n uint64
				var err error
				switch {
				case strings.HasPrefix(ent, "#x"):
					n, err = strconv.ParseUint(ent[2:], 16, 32)
				case strings.HasPrefix(ent, "#"):
					n, err = strconv.ParseUint(ent[1:], 10, 32)
				default:
					return "", false
				}
				if err != nil || !utf8.ValidRune(rune(n)) {
					return "", false
				}
				out.WriteRune(rune(n))
			}
			k += end
		default:
			out.WriteByte(c)
		}
	}
	if !utf8.ValidString(out.String()) {
		return "", false
	}
	return out.String(), true
}

// value reads what follows <value> up to and including </value>.
func (s *scanner) value() (any, error) {
	lead, ok := s.text()
	if !ok {
		return nil, errSlowPath
	}
	name, ok := s.tag()
	if !ok {
		return nil, errSlowPath
	}
	if name == "/value" { // untyped: a string
		return lead, nil
	}
	if strings.TrimSpace(lead) != "" {
		return nil, errSlowPath
	}
	var v any
	switch name {
	case "nil/":
		v = nil
	case "string/":
		v = ""
	case "array":
		list := []any{}
		s.space()
		if s.open("data") {
			for {
				if s.close("data") {
					break
				}
				if !s.open("value") {
					return nil, errSlowPath
				}
				e, err := s.value()
				if err != nil {
					return nil, err
				}
				list = append(list, e)
			}
		} else if n, ok := s.tag(); !ok || n != "data/" {
			return nil, errSlowPath
		}
		if !s.close("array") {
			return nil, errSlowPath
		}
		v = list
	case "struct":
		m := map[string]any{}
		for {
			if s.close("struct") {
				break
			}
			if !s.open("member") || !s.open("name") {
				return nil, errSlowPath
			}
			k, ok := s.text()
			if !ok || !s.close("name") || !s.open("value") {
				return nil, errSlowPath
			}
			e, err := s.value()
			if err != nil {
				return nil, err
			}
			if !s.close("member") {
				return nil, errSlowPath
			}
			m[k] = e
		}
		v = m
	case "string", "int", "i4", "i8", "i1", "i2", "biginteger", "boolean", "double", "float", "bigdecimal", "dateTime.iso8601", "base64":
		t, ok := s.text()
		if !ok || !s.close(name) {
			return nil, errSlowPath
		}
		var err error
		v, err = scalar(name, t)
		if err != nil {
			return nil, err
		}
	default:
		return nil, errSlowPath
	}
	if !s.close("value") {
		return nil, errSlowPath
	}
	return v, nil
}

// scalar converts a typed scalar's text as Python's xmlrpc.client does.
func scalar(typ, text string) (any, error) {
	switch typ {
	case "string":
		return text, nil
	case "boolean":
		switch text {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, errors.Join(ErrMalformed, errors.New("bad boolean value "+strconv.Quote(text)))
	case "int", "i4", "i8", "i1", "i2", "biginteger":
		if n, err := strconv.Atoi(text); err == nil { // the common case
			return n, nil
		}
		i, err := pythonInt(text)
		if err != nil || int64(int(i)) != i {
			return nil, errors.Join(ErrMalformed, errors.New("bad int "+strconv.Quote(text)))
		}
		return int(i), nil
	case "double", "float", "bigdecimal":
		f, err := pythonFloat(text)
		if err != nil {
			return nil, errors.Join(ErrMalformed, err)
		}
		return f, nil
	case "dateTime.iso8601":
		t, err := time.Parse("20060102T15:04:05", strings.TrimSpace(text))
		if err != nil {
			return nil, errors.Join(ErrMalformed, err)
		}
		return t, nil
	case "base64":
		b, err := pythonBase64(text)
		if err != nil {
			return nil, errors.Join(ErrMalformed, err)
		}
		return b, nil
	}
	return nil, errSlowPath
}
