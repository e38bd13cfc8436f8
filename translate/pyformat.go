package translate

// This file reproduces Python 3.11's `format % mapping` (CPython's
// PyUnicode_Format in Objects/unicodeobject.c) for the mappings Supervisor
// uses to expand configuration values, plus Supervisor's options.expand
// error texts and the Python reprs those texts contain.
//
// Strings are Go strings holding UTF-8. Python counts code points, so every
// length, width, precision and error index here counts code points. Bytes
// that are not valid UTF-8 are read the way Python's "surrogateescape" error
// handler would decode them (byte 0xNN becomes the lone surrogate U+DCNN) and
// a WTF-8 encoded surrogate (ED A0..BF 80..BF) is read as that surrogate, so
// every Go string maps to exactly one Python str and nothing panics.

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyValue is a value in an expansion mapping: a Python str, or an int
// (process_num, numprocs).
type pyValue struct {
	s     string
	n     int64
	isInt bool
}

// pyStr returns the Python str s as a pyValue.
func pyStr(s string) pyValue { return pyValue{s: s} }

// pyIntValue returns the Python int n as a pyValue.
func pyIntValue(n int64) pyValue { return pyValue{n: n, isInt: true} }

// expansions is an insertion-ordered Python dict of expansion names (str keys).
// The zero value is not usable; call newExpansions.
type expansions struct {
	dict[pyValue] // most program sections' dicts hold the four or six names Supervisor offers
	// under, when set, holds further keys: those not in this dict are
	// looked up there. In dict order, this dict's first head keys come
	// first, then under's (with this dict's values where it has the key),
	// then this dict's other keys. It lets a dict that Python would build
	// by copying the whole environment share it instead.
	under *expansions
	head  int
}

// smallStore holds a new dict's first smallDict keys and values: one
// allocation for a program section's dict instead of one per growth.
type smallStore struct {
	keys [smallDict]string
	vals [smallDict]pyValue
}

// layer returns Python's dict(base.items() + top.items()) as a read-only
// view that copies nothing. Supervisor's saneget builds that dict for
// every value it expands; copying the whole environment each time was
// most of the parse time for large configs. Modify neither base nor top
// while the view is in use.
func layer(base, top *expansions) *expansions {
	if top == nil || len(top.keys) == 0 {
		return base
	}
	if top.under != nil && top.under != base {
		top = top.clone()
	}
	return &expansions{dict: top.dict, under: base}
}

// delete removes name from this dict's own keys (not from under).
func (e *expansions) delete(name string) {
	if i, ok := e.dict.delete(name); ok && i < e.head {
		e.head--
	}
}

// newExpansions returns an empty expansion dict.
func newExpansions() *expansions {
	st := new(smallStore)
	return &expansions{dict: dict[pyValue]{keys: st.keys[:0], vals: st.vals[:0]}}
}

// setStr stores d[name] = s for a Python str s.
func (e *expansions) setStr(name, s string) { e.set(name, pyStr(s)) }

// get returns d[name] and whether name is present, in this dict or under.
func (e *expansions) get(name string) (pyValue, bool) {
	v, ok := e.dict.get(name)
	if !ok && e.under != nil {
		return e.under.get(name)
	}
	return v, ok
}

// clone returns an independent copy (Python d.copy()).
func (e *expansions) clone() *expansions {
	if e.under != nil {
		c := newExpansions()
		for i := range e.head {
			c.set(e.keys[i], e.vals[i])
		}
		c.update(e.under.clone())
		for i, k := range e.keys {
			c.set(k, e.vals[i])
		}
		return c
	}
	return &expansions{dict: e.dict.clone(8)}
}

// update merges o into e in o's order, as Python d.update(o) does.
func (e *expansions) update(o *expansions) {
	for i, k := range o.keys {
		e.set(k, o.vals[i])
	}
}

// names returns the keys sorted as Python's sorted() sorts str (code point
// order, which is byte order for UTF-8).
func (e *expansions) names() []string {
	n := slices.Clone(e.keys)
	if e.under != nil {
		for _, k := range e.under.names() {
			if _, own := e.find(k); !own {
				n = append(n, k)
			}
		}
	}
	slices.Sort(n)
	return n
}

// repr returns Python's repr(dict), e.g. {'a': 1, 'b': 'x'}.
func (e *expansions) repr() string { return e.reprMode(false) }

// asciiRepr returns Python's ascii(dict): repr with non-ASCII escaped.
func (e *expansions) asciiRepr() string { return e.reprMode(true) }

// reprMode renders the dict with repr (ascii=false) or ascii (ascii=true).
func (e *expansions) reprMode(ascii bool) string {
	if e.under != nil {
		return e.clone().reprMode(ascii)
	}
	b := make([]byte, 0, 16*len(e.keys)+2)
	b = append(b, '{')
	for i, k := range e.keys {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		b = pyAppendRepr(b, k, ascii)
		b = append(b, ':', ' ')
		b = e.vals[i].appendRepr(b, ascii)
	}
	b = append(b, '}')
	return string(b)
}

// appendRepr appends repr(v) (or ascii(v)) to b.
func (v pyValue) appendRepr(b []byte, ascii bool) []byte {
	if v.isInt {
		return strconv.AppendInt(b, v.n, 10)
	}
	return pyAppendRepr(b, v.s, ascii)
}

// pyFormatError is a Python exception raised while formatting. kind is the
// Python exception class (KeyError, ValueError, TypeError, OverflowError,
// MemoryError) and msg is str(exception).
type pyFormatError struct {
	kind string
	msg  string
	key  string // the missing name when kind is KeyError
}

// Error returns Python's str() of the exception.
func (e *pyFormatError) Error() string { return e.msg }

// pyFormatMaxLen bounds the length (in code points) of one formatted field
// and of a whole result. Python would try to allocate such strings (and
// raise MemoryError, whose str() is empty, when that fails); we raise the
// MemoryError right away so that a hostile width cannot exhaust memory.
const pyFormatMaxLen = 1 << 24

// Flags of a conversion specifier.
const (
	pyFlagLJust = 1 << iota // '-'
	pyFlagSign              // '+'
	pyFlagBlank             // ' '
	pyFlagAlt               // '#'
	pyFlagZero              // '0'
)

// pyFormatErr returns a *pyFormatError of the given Python class.
func pyFormatErr(kind, msg string) error { return &pyFormatError{kind: kind, msg: msg} }

// pyErrNotEnough is the TypeError of a second positional conversion.
const pyErrNotEnough = "not enough arguments for format string"

// pyFormatter is the state of one pyFormat call (CPython's
// unicode_formatter_t for a dict argument).
type pyFormatter struct {
	s        string
	pos      int // byte offset of the next unread character
	m        *expansions
	cur      pyValue // current argument, unless curDict
	curDict  bool    // the current argument is the whole mapping
	consumed bool    // the current argument was used by a conversion
	buf      []byte
}

// pyFormat computes Python's `format % mapping` where mapping is a dict.
// A format without '%' is returned as is, without allocating.
func pyFormat(format string, m *expansions) (string, error) {
	i := strings.IndexByte(format, '%')
	if i < 0 {
		return format, nil
	}
	f := pyFormatter{s: format, m: m, curDict: true, buf: make([]byte, 0, len(format)+32)}
	f.buf = append(f.buf, format[:i]...)
	f.pos = i + 1
	for {
		if err := f.arg(); err != nil {
			return "", err
		}
		j := strings.IndexByte(f.s[f.pos:], '%')
		if j < 0 {
			f.buf = append(f.buf, f.s[f.pos:]...)
			break
		}
		f.buf = append(f.buf, f.s[f.pos:f.pos+j]...)
		f.pos += j + 1
	}
	return string(f.buf), nil
}

// next reads the next character (CPython's `if (--fmtcnt >= 0) ch = READ(fmtpos++)`).
func (f *pyFormatter) next() (rune, bool) {
	if f.pos >= len(f.s) {
		return 0, false
	}
	r, n := PyDecode(f.s, f.pos)
	f.pos += n
	return r, true
}

// advance returns the format's next character, or at its end ch again
// and true.
func (f *pyFormatter) advance(ch rune) (rune, bool) {
	if r, ok := f.next(); ok {
		return r, false
	}
	return ch, true
}

// starArg is the argument a '*' width or precision takes: an int.
func (f *pyFormatter) starArg() (int64, error) {
	v, isDict, err := f.nextArg()
	if err != nil {
		return 0, err
	}
	if isDict || !v.isInt {
		return 0, pyFormatErr("TypeError", "* wants int")
	}
	return v.n, nil
}

// digits reads a width or precision (what) whose first digit is ch: it
// returns the number, the character after it and whether the format
// ended there; a number over limit is CPython's ValueError.
func (f *pyFormatter) digits(ch rune, limit int64, what string) (n int64, after rune, eof bool, err error) {
	n = int64(ch - '0')
	for {
		if ch, eof = f.advance(ch); eof || ch < '0' || ch > '9' {
			return n, ch, eof, nil
		}
		d := int64(ch - '0')
		if n > (limit-d)/10 {
			return 0, ch, false, pyFormatErr("ValueError", what+" too big")
		}
		n = n*10 + d
	}
}

// nextArg returns the argument of the next conversion.
func (f *pyFormatter) nextArg() (pyValue, bool, error) {
	if f.consumed {
		return pyValue{}, false, pyFormatErr("TypeError", pyErrNotEnough)
	}
	f.consumed = true
	return f.cur, f.curDict, nil
}

// pyFormatTypeName is Python's type(v).__name__ of an argument.
func pyFormatTypeName(v pyValue, isDict bool) string {
	switch {
	case isDict:
		return "dict"
	case v.isInt:
		return "int"
	}
	return "str"
}

// arg handles one conversion; f.pos is just after its '%'
// (CPython's unicode_format_arg).
func (f *pyFormatter) arg() error {
	s := f.s
	if f.pos < len(s) && s[f.pos] == '%' {
		f.pos++
		f.buf = append(f.buf, '%')
		return nil
	}
	flags := 0
	width, prec := int64(-1), int64(-1)
	var ch rune
	eof := false

	// %(key)
	if f.pos < len(s) && s[f.pos] == '(' {
		f.pos++
		start, depth := f.pos, 1
		for depth > 0 && f.pos < len(s) {
			switch s[f.pos] {
			case ')':
				depth--
			case '(':
				depth++
			}
			f.pos++
		}
		if depth > 0 {
			return pyFormatErr("ValueError", "incomplete format key")
		}
		key := s[start : f.pos-1]
		v, ok := f.m.get(key)
		if !ok {
			return &pyFormatError{kind: "KeyError", msg: pyRepr(key), key: key}
		}
		f.cur, f.curDict, f.consumed = v, false, false
		ch = ')'
	}

	// Flags.
flagLoop:
	for {
		r, ok := f.next()
		if !ok {
			eof = true
			break
		}
		ch = r
		switch r {
		case '-':
			flags |= pyFlagLJust
		case '+':
			flags |= pyFlagSign
		case ' ':
			flags |= pyFlagBlank
		case '#':
			flags |= pyFlagAlt
		case '0':
			flags |= pyFlagZero
		default:
			break flagLoop
		}
	}

	// Width.
	var err error
	if ch == '*' {
		if width, err = f.starArg(); err != nil {
			return err
		}
		if width < 0 {
			flags |= pyFlagLJust
			width = -width
		}
		ch, eof = f.advance(ch)
	} else if ch >= '0' && ch <= '9' {
		if width, ch, eof, err = f.digits(ch, math.MaxInt64, "width"); err != nil {
			return err
		}
	}

	// Precision.
	if ch == '.' {
		prec = 0
		ch, eof = f.advance(ch)
		if ch == '*' {
			n, err := f.starArg()
			if err != nil {
				return err
			}
			if n > math.MaxInt32 || n < math.MinInt32 {
				return pyFormatErr("OverflowError", "Python int too large to convert to C int")
			}
			prec = max(n, 0)
			ch, eof = f.advance(ch)
		} else if ch >= '0' && ch <= '9' {
			if prec, ch, eof, err = f.digits(ch, math.MaxInt32, "precision"); err != nil {
				return err
			}
		}
	}

	// Length modifier: one of h, l, L is skipped.
	if !eof && (ch == 'h' || ch == 'l' || ch == 'L') {
		ch, eof = f.advance(ch)
	}
	if eof {
		return pyFormatErr("ValueError", "incomplete format")
	}
	return f.format(ch, flags, width, prec)
}

// format converts the next argument with conversion ch and writes it
// (CPython's unicode_format_arg_format).
func (f *pyFormatter) format(ch rune, flags int, width, prec int64) error {
	v, isDict, err := f.nextArg()
	if err != nil {
		return err
	}
	switch ch {
	case 's', 'r', 'a':
		var str string
		switch {
		case !isDict && v.isInt:
			if width == -1 && prec == -1 {
				f.buf = strconv.AppendInt(f.buf, v.n, 10)
				return nil
			}
			str = strconv.FormatInt(v.n, 10)
		case isDict && ch == 'a':
			str = f.m.asciiRepr()
		case isDict:
			str = f.m.repr()
		case ch == 's':
			str = v.s
		default:
			str = string(pyAppendRepr(nil, v.s, ch == 'a'))
		}
		return f.output(str, ch, flags, width, prec, false)

	case 'd', 'i', 'u', 'o', 'x', 'X':
		if isDict || !v.isInt {
			what := "a real number"
			if ch == 'o' || ch == 'x' || ch == 'X' {
				what = "an integer"
			}
			return pyFormatErr("TypeError", "%"+string(ch)+" format: "+what+" is required, not "+pyFormatTypeName(v, isDict))
		}
		if prec > math.MaxInt32-3 {
			return pyFormatErr("OverflowError", "precision too large")
		}
		if prec > pyFormatMaxLen {
			return pyFormatErr("MemoryError", "")
		}
		if width == -1 && prec == -1 && flags&(pyFlagSign|pyFlagBlank) == 0 {
			f.buf = pyAppendLong(f.buf, v.n, flags&pyFlagAlt != 0, -1, ch)
			return nil
		}
		var tmp [32]byte
		str := string(pyAppendLong(tmp[:0], v.n, flags&pyFlagAlt != 0, prec, ch))
		return f.output(str, ch, flags, width, prec, true)

	case 'e', 'E', 'f', 'F', 'g', 'G':
		if isDict || !v.isInt {
			return pyFormatErr("TypeError", "must be real number, not "+pyFormatTypeName(v, isDict))
		}
		p := prec
		if p < 0 {
			p = 6
		}
		if p > pyFormatMaxLen {
			return pyFormatErr("MemoryError", "")
		}
		if width == -1 && prec == -1 && flags&(pyFlagSign|pyFlagBlank) == 0 {
			f.buf = pyAppendFloat(f.buf, v.n, ch, int(p), flags&pyFlagAlt != 0)
			return nil
		}
		var tmp [48]byte
		str := string(pyAppendFloat(tmp[:0], v.n, ch, int(p), flags&pyFlagAlt != 0))
		return f.output(str, ch, flags, width, prec, true)

	case 'c':
		var c rune
		switch {
		case isDict:
			return pyFormatErr("TypeError", "%c requires int or char")
		case v.isInt:
			if v.n < 0 || v.n > unicode.MaxRune {
				return pyFormatErr("OverflowError", "%c arg not in range(0x110000)")
			}
			c = rune(v.n)
		default:
			var r rune
			n := 0
			if v.s != "" {
				r, n = PyDecode(v.s, 0)
			}
			if n == 0 || n != len(v.s) {
				return pyFormatErr("TypeError", "%c requires int or char")
			}
			c = r
		}
		if width == -1 && prec == -1 {
			f.buf = pyAppendRune(f.buf, c)
			return nil
		}
		return f.output(string(pyAppendRune(nil, c)), ch, flags, width, prec, false)
	}

	shown := '?'
	if ch >= 31 && ch <= 126 {
		shown = ch
	}
	b := make([]byte, 0, 64)
	b = append(b, "unsupported format character '"...)
	b = append(b, byte(shown))
	b = append(b, "' (0x"...)
	b = strconv.AppendInt(b, int64(ch), 16)
	b = append(b, ") at index "...)
	b = strconv.AppendInt(b, int64(pyStrLen(f.s[:f.pos])-1), 10)
	return pyFormatErr("ValueError", string(b))
}

// output writes a converted field with padding, sign and truncation
// (CPython's unicode_format_arg_output). sign is true for numeric
// conversions.
func (f *pyFormatter) output(str string, ch rune, flags int, width, prec int64, sign bool) error {
	fill := byte(' ')
	if sign && flags&pyFlagZero != 0 {
		fill = '0'
	}
	ln := int64(pyStrLen(str))
	if (width == -1 || width <= ln) && (prec == -1 || prec >= ln) && flags&(pyFlagSign|pyFlagBlank) == 0 {
		f.buf = append(f.buf, str...)
		return nil
	}
	end := len(str)
	if (ch == 's' || ch == 'r' || ch == 'a') && prec >= 0 && ln > prec {
		ln = prec
		end = pyStrOffset(str, int(prec))
	}
	pindex := 0
	var signchar byte
	if sign {
		if c := str[0]; c == '-' || c == '+' {
			signchar = c
			ln--
			pindex++
		} else if flags&pyFlagSign != 0 {
			signchar = '+'
		} else if flags&pyFlagBlank != 0 {
			signchar = ' '
		} else {
			sign = false
		}
	}
	if width < ln {
		width = ln
	}
	if width >= pyFormatMaxLen || int64(len(f.buf))+width >= pyFormatMaxLen {
		return pyFormatErr("MemoryError", "")
	}
	if sign {
		if fill != ' ' {
			f.buf = append(f.buf, signchar)
		}
		if width > ln {
			width--
		}
	}
	prefix := flags&pyFlagAlt != 0 && (ch == 'x' || ch == 'X' || ch == 'o')
	if prefix {
		if fill != ' ' {
			f.buf = append(f.buf, str[pindex:pindex+2]...)
			pindex += 2
		}
		width = max(width-2, 0)
		ln -= 2
	}
	if width > ln && flags&pyFlagLJust == 0 {
		f.buf = pyAppendFill(f.buf, fill, width-ln)
		width = ln
	}
	if fill == ' ' {
		if sign {
			f.buf = append(f.buf, signchar)
		}
		if prefix {
			f.buf = append(f.buf, str[pindex:pindex+2]...)
			pindex += 2
		}
	}
	f.buf = append(f.buf, str[pindex:end]...)
	if width > ln {
		f.buf = pyAppendFill(f.buf, ' ', width-ln)
	}
	return nil
}

// pyAppendFill appends n copies of c.
func pyAppendFill(b []byte, c byte, n int64) []byte {
	if n <= 0 {
		return b
	}
	b = slices.Grow(b, int(n))
	for ; n > 0; n-- {
		b = append(b, c)
	}
	return b
}

// pyAppendLong appends n formatted as CPython's _PyUnicode_FormatLong does
// for conversion ch (d i u o x X): sign, "0o"/"0x"/"0X" prefix when alt,
// digits zero-filled to prec.
func pyAppendLong(b []byte, n int64, alt bool, prec int64, ch rune) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u
	}
	base := 10
	switch ch {
	case 'o':
		base = 8
		if alt {
			b = append(b, '0', 'o')
		}
	case 'x':
		base = 16
		if alt {
			b = append(b, '0', 'x')
		}
	case 'X':
		base = 16
		if alt {
			b = append(b, '0', 'X')
		}
	}
	var tmp [64]byte
	digits := strconv.AppendUint(tmp[:0], u, base)
	b = pyAppendFill(b, '0', prec-int64(len(digits)))
	if ch == 'X' {
		for _, c := range digits {
			if c >= 'a' && c <= 'f' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		return b
	}
	return append(b, digits...)
}

// pyAppendFloat appends float(n) formatted as Python's '%.<prec><ch>'
// (PyOS_double_to_string) for ch in e E f F g G. Because the value is an
// integer converted to a double, its exact decimal digits are those of an
// integer and the rounding (half to even on the exact value) is done here
// on those digits.
func pyAppendFloat(b []byte, n int64, ch rune, prec int, alt bool) []byte {
	x := float64(n)
	if x < 0 {
		b = append(b, '-')
		x = -x
	}
	var tmp [24]byte
	digits := strconv.AppendUint(tmp[:0], uint64(x), 10) // exact: |x| <= 2^63
	expChar := byte('e')
	if ch == 'E' || ch == 'G' {
		expChar = 'E'
	}
	switch ch {
	case 'f', 'F':
		b = append(b, digits...)
		if prec > 0 || alt {
			b = append(b, '.')
		}
		return pyAppendFill(b, '0', int64(prec))
	case 'e', 'E':
		d, decpt := pyRoundDigits(digits, prec+1)
		b = append(b, d[0])
		if prec > 0 || alt {
			b = append(b, '.')
		}
		b = append(b, d[1:]...)
		b = pyAppendFill(b, '0', int64(prec+1-len(d)))
		return pyAppendExp(b, expChar, decpt-1)
	}
	// g, G
	if prec == 0 {
		prec = 1
	}
	d, decpt := pyRoundDigits(digits, prec)
	nd := len(d) // significant digits to show
	if alt {
		nd = prec
	}
	exp := decpt - 1
	if exp < -4 || exp >= prec {
		b = append(b, d[0])
		if nd > 1 || alt {
			b = append(b, '.')
		}
		b = append(b, d[1:]...)
		b = pyAppendFill(b, '0', int64(nd-len(d)))
		return pyAppendExp(b, expChar, exp)
	}
	// Fixed notation; 0 <= exp < prec, so decpt >= 1.
	if len(d) <= decpt {
		b = append(b, d...)
		b = pyAppendFill(b, '0', int64(decpt-len(d)))
	} else {
		b = append(b, d[:decpt]...)
	}
	if nd > decpt || alt {
		b = append(b, '.')
		if len(d) > decpt {
			b = append(b, d[decpt:]...)
			b = pyAppendFill(b, '0', int64(nd-len(d)))
		} else {
			b = pyAppendFill(b, '0', int64(nd-decpt))
		}
	}
	return b
}

// pyAppendExp appends an exponent such as e+01 (at least two digits).
func pyAppendExp(b []byte, e byte, exp int) []byte {
	b = append(b, e)
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}

// pyRoundDigits rounds the decimal digits of a non-negative integer to at
// most n >= 1 significant digits (half to even) and strips trailing zeros.
// It returns the digits (at least one) and the position of the decimal
// point (the number of integer digits; 1 for zero).
func pyRoundDigits(digits []byte, n int) ([]byte, int) {
	decpt := len(digits)
	d := digits
	if len(d) > n {
		up := false
		switch r := d[n]; {
		case r > '5':
			up = true
		case r == '5':
			up = (d[n-1]-'0')%2 == 1
			for _, c := range d[n+1:] {
				if c != '0' {
					up = true
					break
				}
			}
		}
		d = d[:n]
		if up {
			i := n - 1
			for i >= 0 && d[i] == '9' {
				d[i] = '0'
				i--
			}
			if i < 0 {
				d = append(d[:0], '1')
				decpt++
			} else {
				d[i]++
			}
		}
	}
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	return d, decpt
}

// PyDecode returns the code point at s[i] as Python sees it, and its length
// in bytes: valid UTF-8 is decoded, a WTF-8 encoded surrogate gives that
// surrogate, and any other invalid byte 0xNN gives U+DCNN (surrogateescape).
func PyDecode(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r != utf8.RuneError || n > 1 {
		return r, n
	}
	if c == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	return 0xDC00 + rune(c), 1
}

// pyAppendRune appends r as UTF-8, or as WTF-8 for a surrogate.
func pyAppendRune(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

// pyStrLen returns len(s) in Python terms (code points, see pyDecode).
func pyStrLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := PyDecode(s, i)
			i += size
		}
		n++
	}
	return n
}

// pyStrOffset returns the byte offset of the code point with index n in s
// (len(s) if s is shorter).
func pyStrOffset(s string, n int) int {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := PyDecode(s, i)
			i += size
		}
	}
	return i
}

// pyUnicode15 lists the ranges of code points that are printable in Go's
// Unicode 15.0 tables but unassigned (so not printable) in Python 3.11's
// Unicode 14.0 database. Generated by comparing unicode.IsPrint with
// str.isprintable over every code point; TestPyIsPrintableAgainstPython
// re-checks the whole range.
var pyUnicode15 = [...][2]rune{
	{0x0CF3, 0x0CF3}, {0x0ECE, 0x0ECE}, {0x10EFD, 0x10EFF}, {0x1123F, 0x11241},
	{0x11B00, 0x11B09}, {0x11F00, 0x11F10}, {0x11F12, 0x11F3A}, {0x11F3E, 0x11F59},
	{0x1342F, 0x1342F}, {0x13440, 0x13455}, {0x1B132, 0x1B132}, {0x1B155, 0x1B155},
	{0x1D2C0, 0x1D2D3}, {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D}, {0x1E08F, 0x1E08F},
	{0x1E4D0, 0x1E4F9}, {0x1F6DC, 0x1F6DC}, {0x1F774, 0x1F776}, {0x1F77B, 0x1F77F},
	{0x1F7D9, 0x1F7D9}, {0x1FA75, 0x1FA77}, {0x1FA87, 0x1FA88}, {0x1FAAD, 0x1FAAF},
	{0x1FABB, 0x1FABD}, {0x1FABF, 0x1FABF}, {0x1FACE, 0x1FACF}, {0x1FADA, 0x1FADB},
	{0x1FAE8, 0x1FAE8}, {0x1FAF7, 0x1FAF8}, {0x2B739, 0x2B739}, {0x31350, 0x323AF},
}

// pyIsPrintable reports whether Python 3.11's str.isprintable() is true for
// the single character r (Unicode 14.0: not Cc, Cf, Cs, Co, Cn, Zl, Zp, or a
// Zs other than the ASCII space).
func pyIsPrintable(r rune) bool {
	if !unicode.IsPrint(r) {
		return false
	}
	if r < 0x0CF3 {
		return true
	}
	_, found := slices.BinarySearchFunc(pyUnicode15[:], r, func(e [2]rune, t rune) int {
		switch {
		case e[1] < t:
			return -1
		case e[0] > t:
			return 1
		}
		return 0
	})
	return !found
}

// pyRepr returns Python's repr(s) for a str s.
func pyRepr(s string) string {
	// Fast path: printable ASCII without backslash.
	squote, dquote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < ' ' || c >= 0x7F || c == '\\':
			return string(pyAppendRepr(make([]byte, 0, len(s)+8), s, false))
		case c == '\'':
			squote = true
		case c == '"':
			dquote = true
		}
	}
	if squote && dquote {
		return string(pyAppendRepr(make([]byte, 0, len(s)+8), s, false))
	}
	q := "'"
	if squote {
		q = `"`
	}
	return q + s + q
}

// pyASCII returns Python's ascii(s) for a str s.
func pyASCII(s string) string { return string(pyAppendRepr(nil, s, true)) }

// pyAppendRepr appends repr(s), or ascii(s) when ascii is set, to b.
func pyAppendRepr(b []byte, s string, ascii bool) []byte {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	const hex = "0123456789abcdef"
	b = append(b, quote)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == quote || c == '\\':
				b = append(b, '\\', c)
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < ' ' || c == 0x7F:
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := PyDecode(s, i)
		switch {
		case !ascii && pyIsPrintable(r):
			b = append(b, s[i:i+n]...)
		case r <= 0xFF:
			b = append(b, '\\', 'x', hex[r>>4], hex[r&0xF])
		case r <= 0xFFFF:
			b = append(b, '\\', 'u', hex[r>>12], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
		default:
			b = append(b, '\\', 'U')
			for sh := 28; sh >= 0; sh -= 4 {
				b = append(b, hex[r>>sh&0xF])
			}
		}
		i += n
	}
	return append(b, quote)
}

// expand is Supervisor's options.expand(s, expansions, name): s % expansions
// with Supervisor's error texts. Every error is a *pyFormatError of kind
// ValueError whose message is exactly Supervisor's.
func expand(s string, m *expansions, name string) (string, error) {
	out, err := pyFormat(s, m)
	if err == nil {
		return out, nil
	}
	pe, ok := err.(*pyFormatError)
	if !ok {
		pe = &pyFormatError{kind: "Exception", msg: err.Error()}
	}
	b := make([]byte, 0, 128+len(s))
	b = append(b, "Format string "...)
	b = pyAppendRepr(b, s, false)
	b = append(b, " for "...)
	b = pyAppendRepr(b, name, false)
	if pe.kind == "KeyError" {
		b = append(b, " contains names ("...)
		b = append(b, pe.msg...)
		b = append(b, ") which cannot be expanded. Available names: "...)
		for i, k := range m.names() {
			if i > 0 {
				b = append(b, ',', ' ')
			}
			b = append(b, k...)
		}
	} else {
		b = append(b, " is badly formatted: "...)
		b = append(b, pe.msg...)
	}
	return "", &pyFormatError{kind: "ValueError", msg: string(b)}
}
