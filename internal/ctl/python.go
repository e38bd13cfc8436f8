package ctl

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the few Python behaviours supervisorctl's output
// depends on: str.split/str.strip whitespace, repr() of a str, int() of
// a str, "%s" of a value, and cmd.Cmd.columnize.

// pyIsSpace reports whether Python's str.isspace holds for r (it counts
// the ASCII information separators \x1c-\x1f, which Go's unicode.IsSpace
// does not).
func pyIsSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// pySplit is str.split() without arguments.
func pySplit(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pyStrip is str.strip() without arguments.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyLen is len() of a str: code points, not bytes.
func pyLen(s string) int { return utf8.RuneCountInString(s) }

// pyLjust is "%-*s": s padded with spaces to width code points.
func pyLjust(s string, width int) string {
	if n := pyLen(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// pyRepr is repr() of a str: single quotes unless the text holds a
// single quote and no double quote, with backslash escapes for the
// quote, backslashes and characters that are not printable.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || pyIsPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyIsPrintable approximates str.isprintable for one non-ASCII code
// point: everything but separators (other than ' '), controls, format
// characters, surrogates, private use and unassigned code points.
func pyIsPrintable(r rune) bool {
	if r == utf8.RuneError {
		return true
	}
	return unicode.IsPrint(r) && !unicode.In(r, unicode.Zs)
}

// pyInt parses s as Python's int(s) does for base 10: white space around
// it, an optional sign, digits with single underscores between them.
func pyInt(s string) (*big.Int, bool) {
	s = pyStrip(s)
	digits := s
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return nil, false
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; c != '_' && (c < '0' || c > '9') {
			return nil, false
		}
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	return n, ok
}

// pyStr is "%s" of a value as supervisorctl received it from the server.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return pyFloat(v)
	case []byte:
		return "b" + pyRepr(string(v))
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyReprValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		// Python keeps the server's member order, which the decoded map
		// has lost; sorted keys make the text at least stable.
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyReprValue(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyReprValue is repr() of a value inside a list or dict.
func pyReprValue(v any) string {
	if s, ok := v.(string); ok {
		return pyRepr(s)
	}
	return pyStr(v)
}

// pyFloat is repr() of a float: the shortest text that reads back, with
// ".0" for integral values and Python's exponent form.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if abs := max(f, -f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if len(exp) < 2 {
			exp = strings.Repeat("0", 2-len(exp)) + exp
		}
		return mant + "e" + string(sign) + exp
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// columnize is cmd.Cmd.columnize: the words in as few rows as fit in
// displayWidth, filled column by column, columns as wide as their widest
// word and two spaces apart. Each line keeps the padding of its last
// word, as Python's does.
func columnize(list []string, displayWidth int) string {
	if len(list) == 0 {
		return "<empty>\n"
	}
	if len(list) == 1 {
		return list[0] + "\n"
	}
	size := len(list)
	nrows, ncols := 0, 0
	var colwidths []int
	found := false
	for nrows = 1; nrows < size; nrows++ {
		ncols = (size + nrows - 1) / nrows
		colwidths = colwidths[:0]
		totwidth := -2
		for col := 0; col < ncols; col++ {
			colwidth := 0
			for row := 0; row < nrows; row++ {
				i := row + nrows*col
				if i >= size {
					break
				}
				colwidth = max(colwidth, pyLen(list[i]))
			}
			colwidths = append(colwidths, colwidth)
			totwidth += colwidth + 2
			if totwidth > displayWidth {
				break
			}
		}
		if totwidth <= displayWidth {
			found = true
			break
		}
	}
	if !found {
		nrows, ncols = size, 1
		colwidths = []int{0}
	}
	var b strings.Builder
	for row := 0; row < nrows; row++ {
		var texts []string
		for col := 0; col < ncols; col++ {
			i := row + nrows*col
			x := ""
			if i < size {
				x = list[i]
			}
			texts = append(texts, x)
		}
		for len(texts) > 0 && texts[len(texts)-1] == "" {
			texts = texts[:len(texts)-1]
		}
		for col := range texts {
			texts[col] = pyLjust(texts[col], colwidths[col])
		}
		b.WriteString(strings.Join(texts, "  "))
		b.WriteByte('\n')
	}
	return b.String()
}
