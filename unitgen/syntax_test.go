package unitgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads unit files back the way systemd 252 does, for the
// subset of the syntax unitgen writes, so tests can check that what
// systemd will see is what Supervisor had. Anything outside that subset
// is an error: if unitgen ever writes it, the tests notice.

type option struct{ section, name, value string }

// parseUnit splits a unit file into options as systemd's config parser
// does: comments and blank lines skipped, "[Section]" headers, Name=Value
// with surrounding white space stripped. A line ending in a backslash
// would continue; unitgen must never write one.
func parseUnit(data []byte) ([]option, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8")
	}
	var out []option
	section := ""
	for n, line := range strings.Split(string(data), "\n") {
		if strings.ContainsAny(line, "\r\x00") {
			return nil, fmt.Errorf("line %d: CR or NUL", n+1)
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';':
			continue
		case strings.HasSuffix(t, `\`):
			return nil, fmt.Errorf("line %d ends in a backslash: %q", n+1, line)
		case t[0] == '[':
			if !strings.HasSuffix(t, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n+1, line)
			}
			section = t[1 : len(t)-1]
		default:
			name, value, ok := strings.Cut(t, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: no '=' in %q", n+1, line)
			}
			out = append(out, option{section, strings.TrimSpace(name), strings.TrimSpace(value)})
		}
	}
	return out, nil
}

// unspecify undoes specifier escaping: "%%" is "%", any other '%' is an
// error (systemd would expand it, or refuse the unit).
func unspecify(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		return "", fmt.Errorf("specifier %q in %q", s[i:min(i+2, len(s))], s)
	}
	return b.String(), nil
}

// splitWords splits a value into words as extract_first_word does with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE, for double-quoted words only.
func splitWords(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return words, nil
		}
		if s[i] != '"' {
			return nil, fmt.Errorf("unquoted word at %d in %q", i, s)
		}
		i++
		var b []byte
		for {
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			c := s[i]
			if c == '"' {
				i++
				break
			}
			if c != '\\' {
				b = append(b, c)
				i++
				continue
			}
			if i+1 >= len(s) {
				return nil, fmt.Errorf("trailing backslash in %q", s)
			}
			switch e := s[i+1]; e {
			case '\\', '"':
				b = append(b, e)
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'x':
				if i+4 > len(s) {
					return nil, fmt.Errorf("short \\x in %q", s)
				}
				v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
				if err != nil || s[i+2:i+4] != strings.ToLower(s[i+2:i+4]) {
					return nil, fmt.Errorf("bad \\x in %q", s)
				}
				b = append(b, byte(v))
				i += 4
			default:
				return nil, fmt.Errorf("escape \\%c outside unitgen's subset in %q", e, s)
			}
		}
		if i < len(s) && s[i] != ' ' {
			return nil, fmt.Errorf("word does not end at its closing quote in %q", s)
		}
		words = append(words, string(b))
	}
}

// undollar undoes '$' escaping in an ExecStart= word: "$$" is "$", and a
// lone '$' is an error (systemd might expand it).
func undollar(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		return "", fmt.Errorf("unescaped $ in %q", s)
	}
	return b.String(), nil
}

// parseExec reads an ExecStart= value back into the file to execute and
// argv, as systemd hands them to execve.
func parseExec(v string) (filename string, argv []string, err error) {
	v, err = unspecify(v)
	if err != nil {
		return "", nil, err
	}
	at := strings.HasPrefix(v, "@")
	v = strings.TrimPrefix(v, "@")
	words, err := splitWords(v)
	if err != nil {
		return "", nil, err
	}
	if len(words) == 0 || (at && len(words) < 2) {
		return "", nil, fmt.Errorf("too few words in %q", v)
	}
	for i, w := range words {
		if words[i], err = undollar(w); err != nil {
			return "", nil, err
		}
	}
	if at {
		return words[0], words[1:], nil
	}
	return words[0], words, nil
}

// parseEnv reads an Environment= value back into NAME and value.
func parseEnv(v string) (name, value string, err error) {
	v, err = unspecify(v)
	if err != nil {
		return "", "", err
	}
	words, err := splitWords(v)
	if err != nil {
		return "", "", err
	}
	if len(words) != 1 {
		return "", "", fmt.Errorf("%d assignments in %q", len(words), v)
	}
	name, value, ok := strings.Cut(words[0], "=")
	if !ok {
		return "", "", fmt.Errorf("no '=' in %q", words[0])
	}
	return name, value, nil
}
