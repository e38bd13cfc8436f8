package translate

// Python's shlex, ported by hand from the read_token state machine of
// CPython 3.11 Lib/shlex.py, in the two modes Supervisor uses it.
//
// Why not a library: no maintained Go package reproduces Python's shlex
// quirks. github.com/google/shlex treats '#' as a comment in Split, has no
// non-POSIX mode and reports "EOF found when expecting closing quote";
// github.com/kballard/go-shellquote follows sh(1) instead (backslash-newline
// is a line continuation, backslash in double quotes also escapes $ and `,
// "Unterminated ..." errors) and has no non-POSIX mode either.
//
// All of shlex's special characters (whitespace ' \t\r\n', quotes, the
// backslash, '#' and the word characters) are ASCII, so the scanners work
// on bytes and only decode UTF-8 where a whole character becomes a token of
// its own (non-POSIX mode). Bytes that are not valid UTF-8 are kept as they
// are, one byte per character.

import (
	"errors"
	"unicode/utf8"
)

// errShlexNoClosingQuotation and errShlexNoEscapedCharacter are the
// ValueErrors Python's shlex raises, with Python's exact texts.
var (
	//lint:ignore ST1005 Python's exact text
	errShlexNoClosingQuotation = errors.New("No closing quotation")
	//lint:ignore ST1005 Python's exact text
	errShlexNoEscapedCharacter = errors.New("No escaped character")
)

// shlexIsSpace reports whether c is in shlex's whitespace ' \t\r\n'.
func shlexIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// shlexKVWord reports whether c is a word character of the non-POSIX lexer
// Supervisor's dict_of_key_value_pairs builds: ASCII letters, digits, '_'
// and the added '/.+-():'.
func shlexKVWord(c byte) bool {
	return shlexKVWordTable[c]
}

// shlexKVWordTable is the lookup table behind shlexKVWord.
var shlexKVWordTable = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_/.+-():" {
		t[c] = true
	}
	return t
}()

// shlexSplit is Python's shlex.split(s) (posix=True, comments=False,
// whitespace_split=True): how supervisord splits `command` at spawn time.
// Errors: "No closing quotation", "No escaped character" (exact Python texts).
func shlexSplit(s string) ([]string, error) {
	// Fast path: nothing but words and shlex whitespace.
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '"' || c == '\\' {
			simple = false
			break
		}
	}
	if simple {
		var out []string
		start := -1
		for i := 0; i < len(s); i++ {
			if shlexIsSpace(s[i]) {
				if start >= 0 {
					out = append(out, s[start:i])
					start = -1
				}
			} else if start < 0 {
				start = i
			}
		}
		if start >= 0 {
			out = append(out, s[start:])
		}
		return out, nil
	}

	// The state machine of shlex.read_token for posix=True,
	// whitespace_split=True, commenters='' and no punctuation_chars.
	// state is ' ' (between tokens), 'a' (in a word), '\'' or '"' (in
	// quotes) or '\\' (after an escape); escaped is the state to return to.
	var out []string
	tok := make([]byte, 0, 32)
	state, escaped := byte(' '), byte(' ')
	quoted := false
	emit := func() {
		out = append(out, string(tok))
		tok = tok[:0]
		quoted = false
	}
	for i := 0; ; i++ {
		eof := i >= len(s)
		var c byte
		if !eof {
			c = s[i]
		}
		switch state {
		case ' ':
			switch {
			case eof:
				return out, nil
			case shlexIsSpace(c):
			case c == '\\':
				escaped, state = 'a', '\\'
			case c == '\'' || c == '"':
				state = c
			default:
				tok = append(tok, c)
				state = 'a'
			}
		case '\'', '"':
			quoted = true
			switch {
			case eof:
				return nil, errShlexNoClosingQuotation
			case c == state:
				state = 'a'
			case c == '\\' && state == '"':
				escaped, state = state, '\\'
			default:
				tok = append(tok, c)
			}
		case '\\':
			if eof {
				return nil, errShlexNoEscapedCharacter
			}
			// In quotes only the quote itself and the backslash are
			// escaped; elsewhere the backslash is kept.
			if escaped != 'a' && c != '\\' && c != escaped {
				tok = append(tok, '\\')
			}
			tok = append(tok, c)
			state = escaped
		default: // 'a'
			switch {
			case eof:
				if len(tok) > 0 || quoted {
					emit()
				}
				return out, nil
			case shlexIsSpace(c):
				state = ' '
				if len(tok) > 0 || quoted {
					emit()
				}
			case c == '\'' || c == '"':
				state = c
			case c == '\\':
				escaped, state = 'a', '\\'
			default:
				tok = append(tok, c)
			}
		}
	}
}

// shlexKVTokens is list(shlex.shlex(s)) with wordchars += '/.+-():': the
// non-POSIX lexer with '#' comments, as Supervisor's
// dict_of_key_value_pairs runs it.
func shlexKVTokens(s string) ([]string, error) {
	var out []string
	// A token is s[start:i] unless a comment interrupted a word; then the
	// pieces are gathered in buf.
	var buf []byte
	useBuf := false
	start := 0
	state := byte(' ')
	// skipComment moves i to the last byte of the line (its '\n'), as
	// instream.readline() consumes it, or to the last byte of s.
	skipComment := func(i int) int {
		for i < len(s)-1 && s[i] != '\n' {
			i++
		}
		return i
	}
	emitWord := func(end int) {
		if useBuf {
			buf = append(buf, s[start:end]...)
			out = append(out, string(buf))
			buf = buf[:0]
			useBuf = false
		} else {
			out = append(out, s[start:end])
		}
	}
	for i := 0; ; i++ {
		if i >= len(s) { // EOF
			switch state {
			case ' ':
				return out, nil
			case 'a':
				emitWord(i)
				return out, nil
			default:
				return nil, errShlexNoClosingQuotation
			}
		}
		c := s[i]
		switch state {
		case ' ':
			switch {
			case shlexIsSpace(c):
			case c == '#':
				i = skipComment(i)
			case shlexKVWord(c):
				start, state = i, 'a'
			case c == '\'' || c == '"':
				start, state = i, c
			default:
				// A single character of its own.
				n := 1
				if c >= utf8.RuneSelf {
					_, n = utf8.DecodeRuneInString(s[i:])
				}
				out = append(out, s[i:i+n])
				i += n - 1
			}
		case '\'', '"':
			if c == state {
				out = append(out, s[start:i+1])
				state = ' '
			}
		default: // 'a'
			switch {
			case shlexIsSpace(c):
				emitWord(i)
				state = ' '
			case c == '#':
				// Non-POSIX: the comment ends the line, not the word.
				buf = append(buf, s[start:i]...)
				useBuf = true
				i = skipComment(i)
				start = i + 1
			case shlexKVWord(c) || c == '\'' || c == '"':
			default:
				// The character is pushed back and becomes the next token.
				emitWord(i)
				n := 1
				if c >= utf8.RuneSelf {
					_, n = utf8.DecodeRuneInString(s[i:])
				}
				out = append(out, s[i:i+n])
				i += n - 1
				state = ' '
			}
		}
	}
}

// kvPairs is Supervisor's datatypes.dict_of_key_value_pairs: shlex.shlex(s)
// in NON-posix mode with wordchars += '/.+-():', tokens taken KEY '=' VALUE
// SEP (stride 4), VALUE stripped of all leading/trailing ' and "
// characters, later duplicates win (Python dict: first position kept).
// Error text exactly: "Unexpected end of key/value pairs in value '<s>'".
func kvPairs(s string) (Env, error) {
	toks, err := shlexKVTokens(s)
	if err != nil {
		return nil, err
	}
	env := make(Env, 0, (len(toks)+3)/4)
	var index map[string]int // only for long lists: Env.Set is linear
	for i := 0; i < len(toks); i += 4 {
		if i+3 > len(toks) || toks[i+1] != "=" {
			return nil, errors.New("Unexpected end of key/value pairs in value '" + s + "'")
		}
		k, v := toks[i], shlexTrimQuotes(toks[i+2])
		if index == nil && len(env) >= 16 {
			index = make(map[string]int, len(toks)/4)
			for j, e := range env {
				index[e.Name] = j
			}
		}
		if index != nil {
			if j, ok := index[k]; ok {
				env[j].Value = v
			} else {
				index[k] = len(env)
				env = append(env, EnvVar{k, v})
			}
			continue
		}
		env = env.Set(k, v)
	}
	return env, nil
}

// shlexTrimQuotes is Python's v.strip('\'"').
func shlexTrimQuotes(v string) string {
	i, j := 0, len(v)
	for i < j && (v[i] == '\'' || v[i] == '"') {
		i++
	}
	for j > i && (v[j-1] == '\'' || v[j-1] == '"') {
		j--
	}
	return v[i:j]
}
