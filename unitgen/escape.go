package unitgen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The escaping here is ours because go-systemd's unit package leaves it to
// the caller: unit.Serialize writes values verbatim (a newline in a value
// would start a new directive), and unit.UnitNameEscape writes bytes below
// 0x10 as "\x9", which systemd refuses to unescape (reference/systemd.md
// §0.10). The rules follow systemd.syntax(7) and systemd.service(5) for
// systemd 252, as verified in reference/systemd.md §1.2–§1.3 and §2.2.

// escapeName escapes s for use inside a unit name. ASCII letters, digits,
// '_', '.' and '-' are kept (a leading '.' is not); every other byte
// becomes \xNN with two lower-case hex digits, as systemd-escape writes
// it. Unlike systemd-escape, '-' is kept so that "my-app" stays readable,
// '/' becomes \x2f rather than '-', and ':' is escaped too (systemd-analyze
// verify reads a ':' in a file name as FILE:ALIAS): the mapping stays
// one-to-one because '\' itself is escaped.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && i == 0:
			fmt.Fprintf(&b, `\x%02x`, c)
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// quoteWord writes one ExecStart= word so that systemd hands the program
// exactly s: double quotes, with '\' and '"' escaped, '$' doubled (no
// variable expansion), '%' doubled (no specifier expansion), and control
// bytes and bytes that are not UTF-8 as C escapes. The result never
// contains a newline, so it cannot end the directive.
func quoteWord(s string) string {
	if plainWord(s, true) {
		return "\"" + s + "\""
	}
	return escapeWord(s)
}

// escapeWord is quoteWord rune by rune.
func escapeWord(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '$':
			b.WriteString("$$")
		default:
			escapeRune(&b, r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// escapeRune writes r for a double-quoted word of a unit file: '\' and
// '"' escaped, '%' doubled (no specifier expansion), control characters
// as C escapes, anything else as it is.
// plainWord reports whether s is ASCII that quoteWord (dollar) or
// quoteEnv (!dollar) would copy between the quotes as it is, as most
// words are: then the rune by rune escaping is skipped.
func plainWord(s string, dollar bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '\\', c == '"', c == '%':
			return false
		case c == '$' && dollar:
			return false
		}
	}
	return true
}

func escapeRune(b *strings.Builder, r rune) {
	switch {
	case r == '\\':
		b.WriteString(`\\`)
	case r == '"':
		b.WriteString(`\"`)
	case r == '%':
		b.WriteString("%%")
	case r == '\n':
		b.WriteString(`\n`)
	case r == '\t':
		b.WriteString(`\t`)
	case r < 0x20 || r == 0x7f:
		fmt.Fprintf(b, `\x%02x`, r)
	default:
		b.WriteRune(r)
	}
}

// execLine is an ExecStart= value giving argv exactly, with filename as
// the program to execute. When argv[0] differs from filename, the '@'
// prefix hands systemd argv[0] separately, as Supervisor's execve does.
func execLine(filename string, argv []string) string {
	var b strings.Builder
	if len(argv) > 0 && argv[0] != filename {
		b.WriteByte('@')
		b.WriteString(quoteWord(filename))
	} else {
		argv = argv[1:]
		b.WriteString(quoteWord(filename))
	}
	for _, a := range argv {
		b.WriteByte(' ')
		b.WriteString(quoteWord(a))
	}
	return b.String()
}

// envError says why a value cannot be passed in Environment=.
type envError struct{ what string }

func (e *envError) Error() string { return e.what }

// quoteEnv writes one Environment= assignment. systemd splits the value
// into words with C escapes and expands '%' specifiers, but leaves '$'
// alone. Control characters are written as C escapes: systemd 252 hands
// "\t", "\n", "\r" and ESC to the program unchanged (verified on a real
// manager in systemd_test.go, although systemd.exec(5) says non-printable
// characters are refused). Only NUL cannot be passed.
func quoteEnv(name, value string) (string, error) {
	if !validEnvName(name) {
		return "", &envError{fmt.Sprintf("systemd accepts only letters, digits and '_' in an environment variable name (not starting with a digit); %q cannot be set", name)}
	}
	if !utf8.ValidString(value) {
		return "", &envError{fmt.Sprintf("the value of %s is not UTF-8, which systemd's Environment= refuses", name)}
	}
	if strings.IndexByte(value, 0) >= 0 {
		return "", &envError{fmt.Sprintf("the value of %s contains a NUL byte, which no environment can carry", name)}
	}
	if plainWord(value, false) {
		return "\"" + name + "=" + value + "\"", nil
	}
	return escapeEnv(name, value), nil
}

// escapeEnv is quoteEnv's line rune by rune.
func escapeEnv(name, value string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(name)
	b.WriteByte('=')
	for _, r := range value {
		escapeRune(&b, r)
	}
	b.WriteByte('"')
	return b.String()
}

func validEnvName(s string) bool {
	if s == "" || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// plainError says why a value cannot be written as a plain setting.
type plainError struct{ what string }

func (e *plainError) Error() string { return e.what }

// plain checks a value written without quoting (a path, a user name) and
// escapes '%' when the setting expands specifiers. A value must be UTF-8,
// free of control characters (a newline would start a new directive),
// must not end in a backslash (it would continue the line) and must not
// start or end with white space (systemd strips it).
func plain(value string, specifiers bool) (string, error) {
	switch {
	case !utf8.ValidString(value):
		return "", &plainError{"it is not UTF-8"}
	case strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", &plainError{"it contains a control character"}
	case strings.HasSuffix(value, `\`):
		return "", &plainError{"it ends in a backslash, which systemd reads as a line continuation"}
	case strings.TrimSpace(value) != value:
		return "", &plainError{"it starts or ends with white space, which systemd strips"}
	}
	if specifiers {
		value = strings.ReplaceAll(value, "%", "%%")
	}
	return value, nil
}

// text makes free text (Description=) safe: control characters become
// spaces, a trailing backslash is dropped and '%' is escaped. Nothing
// depends on the exact text, so it is cleaned rather than refused.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(strings.TrimRight(s, `\`))
	return strings.ReplaceAll(s, "%", "%%")
}

// unquoteWord reads back the first word quoteWord wrote at the start of
// s, and returns it with the rest of s.
func unquoteWord(s string) (word, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), s[i+1:], true
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'x':
				if i+2 >= len(s) {
					return "", s, false
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return "", s, false
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				b.WriteByte(s[i])
			}
		case (c == '%' || c == '$') && i+1 < len(s) && s[i+1] == c:
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return "", s, false
}

// ShimOf is the compatibility step's binary that a unit unitgen wrote
// runs (Options.Shim), read from its ExecStartPre=; ok is false when the
// unit runs none.
func ShimOf(data []byte) (shim string, ok bool) {
	for line := range strings.Lines(string(data)) {
		v, found := strings.CutPrefix(line, "ExecStartPre=")
		if !found {
			continue
		}
		w, rest, ok := unquoteWord(v)
		if ok && strings.HasPrefix(rest, ` "shim" "backoff" `) {
			return w, true
		}
	}
	return "", false
}

// WithoutExecStep is a unit's text with its ExecStart= written as
// without the compatibility step's exec (`"SHIM" "shim" "exec" [--state
// STATE] "PATH" "ARGV0" ARGS...` becomes `"PATH" ARGS...`, or `@"PATH" "ARGV0" ARGS...`
// where argv[0] differs): the program and its argv are the same, only how
// it is started changed. ctl's update compares units through it, so that
// a supersede upgrade that added the step restarts no program.
func WithoutExecStep(data []byte) []byte {
	const key = "\nExecStart="
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return data
	}
	start := i + len(key)
	end := bytes.IndexByte(data[start:], '\n')
	if end < 0 {
		end = len(data) - start
	}
	line := string(data[start : start+end])
	var words [5]string
	rest := line
	for k := range words {
		if k == 3 {
			// the step's own --state STATE, unquoted
			if r, ok := strings.CutPrefix(rest, "--state "); ok {
				if _, r, ok = strings.Cut(r, " "); ok {
					rest = r
				}
			}
		}
		w, r, ok := quotedWord(rest)
		if !ok {
			return data
		}
		words[k], rest = w, strings.TrimPrefix(r, " ")
	}
	if words[1] != `"shim"` || words[2] != `"exec"` {
		return data
	}
	direct := words[3]
	if words[4] != words[3] {
		direct = "@" + words[3] + " " + words[4]
	}
	if rest != "" {
		direct += " " + rest
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:start]...)
	out = append(out, direct...)
	return append(out, data[start+end:]...)
}

// quotedWord splits the double-quoted word that s starts with, quotes
// and escapes as they are, from the rest.
func quotedWord(s string) (word, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i+1], s[i+1:], true
		}
	}
	return "", s, false
}
