package translate

// Supervisor 4.2.5's value converters (supervisor/datatypes.py), written by
// hand because they lean on Python built-ins whose acceptance rules no Go
// library reproduces: int() (surrounding Unicode whitespace, '_' between
// digits, any Unicode decimal digit, the 4300-digit limit, "%.200R" in its
// message), str.strip()/lower()/upper() (Unicode whitespace, full case
// mappings such as 'ß'.upper() == 'SS' and the final sigma), and the signal
// module's table. strconv.ParseInt and strings.TrimSpace/ToLower differ on
// every one of these points.
//
// The error values' Error() texts are exactly the ValueError messages
// Supervisor produces; the caller wraps them.

import (
	"errors"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// dtIntKind says how Python's int() would end.
type dtIntKind int

const (
	dtIntOK       dtIntKind = iota // a valid literal within int64
	dtIntInvalid                   // "invalid literal for int() ..."
	dtIntOverflow                  // a valid literal beyond int64 (Python would accept it)
	dtIntLimit                     // more than 4300 digits in base 10 (Python's limit)
)

// dtInt is the outcome of dtParseInt.
type dtInt struct {
	v      int64
	kind   dtIntKind
	neg    bool
	digits string // base 10 dtIntOverflow: the digits without underscores and leading zeros
	ndig   int    // number of digits (for dtIntLimit)
}

// dtMaxStrDigits is Python 3.11's default sys.get_int_max_str_digits().
const dtMaxStrDigits = 4300

// dtDecimalZeros are the code points of Unicode 14.0 (Python 3.11) decimal
// digit zeros; each starts a run of ten digits 0..9.
var dtDecimalZeros = [...]rune{
	0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66,
	0xce6, 0xd66, 0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810,
	0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
	0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30,
	0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
	0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
	0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140,
	0x1e2f0, 0x1e950, 0x1fbf0,
}

// dtDecimal is Python's unicodedata.decimal(r, -1).
func dtDecimal(r rune) int {
	lo, hi := 0, len(dtDecimalZeros)
	for lo < hi {
		m := (lo + hi) / 2
		if dtDecimalZeros[m] <= r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return -1
	}
	if d := r - dtDecimalZeros[lo-1]; d < 10 {
		return int(d)
	}
	return -1
}

// pyIsSpace is Python's str.isspace() for one character (Unicode 14.0).
func pyIsSpace(r rune) bool {
	switch {
	case r <= 0x20:
		return r == ' ' || (r >= 0x09 && r <= 0x0d) || (r >= 0x1c && r <= 0x1f)
	case r < 0x85:
		return false
	}
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string {
	i, j := 0, len(s)
	for i < j {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !pyIsSpace(r) {
			break
		}
		i += n
	}
	for j > i {
		r, n := rune(s[j-1]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeLastRuneInString(s[i:j])
		}
		if !pyIsSpace(r) {
			break
		}
		j -= n
	}
	return s[i:j]
}

// dtIntASCII is CPython's _PyUnicode_TransformDecimalAndSpaceToASCII: the
// text PyLong_FromString parses. Characters up to 126 stay, other
// whitespace becomes ' ', decimal digits their ASCII digit, and the first
// other character '?' (ending the text).
func dtIntASCII(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 127 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s { // invalid UTF-8 reads as U+FFFD: '?'
		switch {
		case r < 127:
			b = append(b, byte(r))
		case pyIsSpace(r):
			b = append(b, ' ')
		default:
			d := dtDecimal(r)
			if d < 0 {
				return string(append(b, '?'))
			}
			b = append(b, byte('0'+d))
		}
	}
	return string(b)
}

// dtIsCSpace is CPython's Py_ISSPACE (C locale isspace).
func dtIsCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// dtParseInt is Python's int(s, base) for base 10 or 8, which are the only
// bases Supervisor uses.
func dtParseInt(s string, base int) dtInt {
	t := dtIntASCII(s)
	i, n := 0, len(t)
	for i < n && dtIsCSpace(t[i]) {
		i++
	}
	var r dtInt
	if i < n && (t[i] == '+' || t[i] == '-') {
		r.neg = t[i] == '-'
		i++
	}
	if base == 8 && i+1 < n && t[i] == '0' && (t[i+1] == 'o' || t[i+1] == 'O') {
		i += 2
		if i < n && t[i] == '_' {
			i++
		}
	}
	if i < n && t[i] == '_' {
		r.kind = dtIntInvalid
		return r
	}
	start := i
	var prev byte
	var u uint64
	over := false
	maxDigit := byte('0' + base)
	for ; i < n; i++ {
		c := t[i]
		if c == '_' {
			if prev == '_' {
				r.kind = dtIntInvalid
				return r
			}
		} else if c >= '0' && c < maxDigit {
			r.ndig++
			d := uint64(c - '0')
			if u > (1<<64-1-d)/uint64(base) {
				over = true
			} else {
				u = u*uint64(base) + d
			}
		} else {
			break
		}
		prev = c
	}
	if prev == '_' {
		r.kind = dtIntInvalid
		return r
	}
	if base == 10 && r.ndig > dtMaxStrDigits {
		r.kind = dtIntLimit
		return r
	}
	if i == start {
		r.kind = dtIntInvalid
		return r
	}
	end := i
	for i < n && dtIsCSpace(t[i]) {
		i++
	}
	if i != n {
		r.kind = dtIntInvalid
		return r
	}
	switch {
	case over || (!r.neg && u > 1<<63-1) || (r.neg && u > 1<<63):
		r.kind = dtIntOverflow
		r.digits = strings.TrimLeft(strings.ReplaceAll(t[start:end], "_", ""), "0")
	case r.neg:
		r.v = -int64(u)
	default:
		r.v = int64(u)
	}
	return r
}

// dtIntRepr is Python's repr() of the value r holds (decimal for base 10).
func dtIntRepr(r dtInt) string {
	if r.kind == dtIntOverflow {
		if r.neg {
			return "-" + r.digits
		}
		return r.digits
	}
	return strconv.FormatInt(r.v, 10)
}

// dtIntError is the ValueError int(s, base) raises for r.
func dtIntError(s string, base int, r dtInt) error {
	switch r.kind {
	case dtIntLimit:
		return errors.New("Exceeds the limit (4300 digits) for integer string conversion: value has " +
			strconv.Itoa(r.ndig) + " digits; use sys.set_int_max_str_digits() to increase the limit")
	case dtIntOverflow:
		return errors.New("integer value too large: " + dtIntRepr(r))
	}
	return errors.New("invalid literal for int() with base " + strconv.Itoa(base) + ": " + dtTrunc(pyRepr(s), 200))
}

// dtTrunc is the "%.Nx" precision of PyUnicode_FromFormat: at most n
// characters.
func dtTrunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// pyIntLiteral is Python's int(s) in base 10: surrounding whitespace
// (Python str.strip() whitespace, Unicode), sign, '_' between digits,
// Unicode Nd digits. Error "invalid literal for int() with base 10: %r" with
// the Python repr of the original string (truncated to 200 characters as
// Python's %.200R does). Values beyond int64 return an error "integer value
// too large: N" (a documented divergence: Python accepts them).
func pyIntLiteral(s string) (int64, error) {
	r := dtParseInt(s, 10)
	if r.kind != dtIntOK {
		return 0, dtIntError(s, 10, r)
	}
	return r.v, nil
}

// dtLowerASCII is an ASCII-only lower-casing; ok is false when s is not ASCII.
func dtLowerASCII(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}

// pyLower is Python's str.lower(): full case mapping (U+0130 becomes
// "i\u0307") and the final sigma rule.
func pyLower(s string) string {
	if l, ok := dtLowerASCII(s); ok {
		return l
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if dtFinalSigma(rs, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// dtFinalSigma is CPython's handle_capital_sigma: whether the capital sigma
// at rs[i] ends a word (\p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})).
func dtFinalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && dtCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !dtCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && dtCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !dtCased(rs[j])
}

// dtCased is the Unicode Cased property.
func dtCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// dtCaseIgnorable is the Unicode Case_Ignorable property.
func dtCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xa8, 0xad, 0xaf, 0xb4, 0xb7, 0xb8, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// dtUpperASCII is Python's str.upper() when its result is pure ASCII (the
// only results that can name a signal); ok is false otherwise.
func dtUpperASCII(s string) (string, bool) {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				if b == nil {
					b = make([]byte, i, len(s)+2)
					copy(b, s[:i])
				}
				c -= 'a' - 'A'
			}
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		var up string
		switch r {
		case 0xdf:
			up = "SS"
		case 0x131:
			up = "I"
		case 0x17f:
			up = "S"
		case 0xfb00:
			up = "FF"
		case 0xfb01:
			up = "FI"
		case 0xfb02:
			up = "FL"
		case 0xfb03:
			up = "FFI"
		case 0xfb04:
			up = "FFL"
		case 0xfb05, 0xfb06:
			up = "ST"
		default:
			return "", false
		}
		if b == nil {
			b = make([]byte, i, len(s)+2)
			copy(b, s[:i])
		}
		b = append(b, up...)
		i += n - 1
	}
	if b == nil {
		return s, true
	}
	return string(b), true
}

// pyUpper is Python's str.upper(): exact where the result is ASCII (the
// only results Supervisor compares: signal and event names, "AUTO"),
// Go's simple case mapping elsewhere.
func pyUpper(s string) string {
	if u, ok := dtUpperASCII(s); ok {
		return u
	}
	return strings.ToUpper(s)
}

// dtErr builds an error whose text is Supervisor's message.
func dtErr(parts ...string) error {
	return errors.New(strings.Join(parts, ""))
}

// boolean is Supervisor's datatypes.boolean: yes/true/on/1 and
// no/false/off/0, case-insensitive. Error "not a valid boolean value: %r".
func boolean(s string) (bool, error) {
	switch pyLower(s) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, dtErr("not a valid boolean value: ", pyRepr(s))
}

// byteSize is Supervisor's datatypes.byte_size, a SuffixMultiplier: the
// lower-cased string ending in kb/mb/gb multiplies int() of the rest by
// 1024/1024²/1024³; errors are int()'s messages on the (lower-cased)
// remainder.
func byteSize(s string) (int64, error) {
	v := pyLower(s)
	mult := int64(1)
	if n := len(v); n >= 2 {
		switch v[n-2:] {
		case "kb":
			mult, v = 1024, v[:n-2]
		case "mb":
			mult, v = 1024*1024, v[:n-2]
		case "gb":
			mult, v = 1024*1024*1024, v[:n-2]
		}
	}
	r := dtParseInt(v, 10)
	if r.kind != dtIntOK {
		return 0, dtIntError(v, 10, r)
	}
	if r.v > (1<<63-1)/mult || r.v < -(1<<63)/mult {
		return 0, dtErr("integer value too large: ", strconv.FormatInt(r.v, 10), " * ", strconv.FormatInt(mult, 10))
	}
	return r.v * mult, nil
}

// octalType is Supervisor's datatypes.octal_type: int(s, 8) including the
// 0o prefix, sign and underscores. Error "%s can not be converted to an
// octal type".
func octalType(s string) (int, error) {
	r := dtParseInt(s, 8)
	switch r.kind {
	case dtIntOK:
		return int(r.v), nil
	case dtIntOverflow:
		return 0, dtErr("integer value too large: ", s)
	}
	return 0, dtErr(s, " can not be converted to an octal type")
}

// dtSignalNames are the attributes of Python 3.11's signal module on Linux
// whose names start with "SIG", with their values.
var dtSignalNames = map[string]syscall.Signal{
	"SIGABRT": 6, "SIGALRM": 14, "SIGBUS": 7, "SIGCHLD": 17, "SIGCLD": 17,
	"SIGCONT": 18, "SIGFPE": 8, "SIGHUP": 1, "SIGILL": 4, "SIGINT": 2,
	"SIGIO": 29, "SIGIOT": 6, "SIGKILL": 9, "SIGPIPE": 13, "SIGPOLL": 29,
	"SIGPROF": 27, "SIGPWR": 30, "SIGQUIT": 3, "SIGRTMAX": 64, "SIGRTMIN": 34,
	"SIGSEGV": 11, "SIGSTKFLT": 16, "SIGSTOP": 19, "SIGSYS": 31, "SIGTERM": 15,
	"SIGTRAP": 5, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23,
	"SIGUSR1": 10, "SIGUSR2": 12, "SIGVTALRM": 26, "SIGWINCH": 28,
	"SIGXCPU": 24, "SIGXFSZ": 25, "SIG_BLOCK": 0, "SIG_DFL": 0, "SIG_IGN": 1,
	"SIG_SETMASK": 2, "SIG_UNBLOCK": 1,
}

// dtSignalMembers are the names of Python's signal.Signals members without
// the "SIG" prefix, indexed by number ("" when n is not a member).
var dtSignalMembers = [65]string{
	1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS",
	8: "FPE", 9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE",
	14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD", 18: "CONT", 19: "STOP",
	20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ",
	26: "VTALRM", 27: "PROF", 28: "WINCH", 29: "IO", 30: "PWR", 31: "SYS",
	34: "RTMIN", 64: "RTMAX",
}

// dtValidSignum is whether n is in Supervisor's SIGNUMS (the values of all
// signal.SIG* attributes: 0..31, 34 and 64 on Linux).
func dtValidSignum(n int64) bool {
	return (n >= 0 && n <= 31) || n == 34 || n == 64
}

// signalNumber is Supervisor's datatypes.signal_number with Python 3.11's
// Linux signal module: an int equal to a signal.SIG* value, or a name
// (stripped, upper-cased, "SIG" prefixed if missing) of a signal.SIG*
// attribute. Errors "value %r is not a valid signal name" / "value %r is
// not a valid signal number".
func signalNumber(s string) (syscall.Signal, error) {
	r := dtParseInt(s, 10)
	var num syscall.Signal
	switch r.kind {
	case dtIntOK:
		if !dtValidSignum(r.v) {
			return 0, dtErr("value ", pyRepr(s), " is not a valid signal number")
		}
		return syscall.Signal(r.v), nil
	case dtIntOverflow:
		return 0, dtErr("value ", pyRepr(s), " is not a valid signal number")
	default:
		name, ok := dtUpperASCII(pyStrip(s))
		if ok {
			if !strings.HasPrefix(name, "SIG") {
				name = "SIG" + name
			}
			num, ok = dtSignalNames[name]
		}
		if !ok {
			return 0, dtErr("value ", pyRepr(s), " is not a valid signal name")
		}
	}
	return num, nil
}

// signalName is Python's signal.Signals(n).name[3:], or str(n) if n is not
// a Signals member (e.g. 0).
func signalName(sig syscall.Signal) string {
	if sig >= 0 && int(sig) < len(dtSignalMembers) && dtSignalMembers[sig] != "" {
		return dtSignalMembers[sig]
	}
	return strconv.Itoa(int(sig))
}

// listOfExitcodes is Supervisor's datatypes.list_of_exitcodes: comma
// separated int() values 0..255; "" is the empty list. Error "not a valid
// list of exit codes: %r".
func listOfExitcodes(s string) ([]int, error) {
	if s == "" {
		return []int{}, nil
	}
	out := make([]int, 0, strings.Count(s, ",")+1)
	rest := s
	for {
		item, tail, more := strings.Cut(rest, ",")
		r := dtParseInt(item, 10)
		if r.kind != dtIntOK || r.v < 0 || r.v > 255 {
			return nil, dtErr("not a valid list of exit codes: ", pyRepr(s))
		}
		out = append(out, int(r.v))
		if !more {
			return out, nil
		}
		rest = tail
	}
}

// listOfStrings is Supervisor's datatypes.list_of_strings: split on ',' and
// strip each item (empty items kept); "" is the empty list.
func listOfStrings(s string) []string {
	if s == "" {
		return []string{}
	}
	out := strings.Split(s, ",")
	for i, x := range out {
		out[i] = pyStrip(x)
	}
	return out
}

// autoRestart is Supervisor's datatypes.auto_restart: boolean spellings or
// "unexpected", case-insensitive. Error "invalid 'autorestart' value %r"
// with the lower-cased value.
func autoRestart(s string) (Restart, error) {
	v := pyLower(s)
	switch v {
	case "yes", "true", "on", "1":
		return RestartAlways, nil
	case "no", "false", "off", "0":
		return RestartNever, nil
	case "unexpected":
		return RestartUnexpected, nil
	}
	return 0, dtErr("invalid 'autorestart' value ", pyRepr(v))
}

// dtLevelAttrs are the lower-case names other than the seven levels for
// which getattr(LevelsByDescription, name, None) is not None (attributes of
// the class, object and type): Supervisor accepts them as log levels.
var dtLevelAttrs = map[string]bool{
	"__annotations__": true, "__base__": true, "__bases__": true,
	"__basicsize__": true, "__call__": true, "__class__": true,
	"__delattr__": true, "__dict__": true, "__dictoffset__": true,
	"__dir__": true, "__eq__": true, "__flags__": true, "__format__": true,
	"__ge__": true, "__getattribute__": true, "__getstate__": true,
	"__gt__": true, "__hash__": true, "__init__": true,
	"__init_subclass__": true, "__instancecheck__": true, "__itemsize__": true,
	"__le__": true, "__lt__": true, "__module__": true, "__mro__": true,
	"__name__": true, "__ne__": true, "__new__": true, "__or__": true,
	"__prepare__": true, "__qualname__": true, "__reduce__": true,
	"__reduce_ex__": true, "__repr__": true, "__ror__": true,
	"__setattr__": true, "__sizeof__": true, "__str__": true,
	"__subclasscheck__": true, "__subclasses__": true, "__subclasshook__": true,
	"__weakref__": true, "__weakrefoffset__": true, "mro": true,
}

// loggingLevel is Supervisor's datatypes.logging_level: the lower-cased
// value must be an attribute of loggers.LevelsByDescription: critical,
// error, warn, info, debug, trace or blather (not "warning"). It returns
// that lower-case name. Error "bad logging level name %r".
//
// Supervisor's getattr also finds the class machinery ("__init__",
// "__module__", "mro", ...); those names are accepted here too and returned
// lower-cased, since supervisord accepts them at parse time.
func loggingLevel(s string) (string, error) {
	v := pyLower(s)
	switch v {
	case "critical", "error", "warn", "info", "debug", "trace", "blather":
		return v, nil
	}
	if dtLevelAttrs[v] {
		return v, nil
	}
	return "", dtErr("bad logging level name ", pyRepr(s))
}

// processOrGroupName is Supervisor's datatypes.process_or_group_name:
// stripped; ' ', ':' and '/' are rejected, checked in that order. Error
// "Invalid name: %r because of character: %r" (repr of the original name).
func processOrGroupName(s string) (string, error) {
	v := pyStrip(s)
	for _, c := range []string{" ", ":", "/"} {
		if strings.Contains(v, c) {
			return "", dtErr("Invalid name: ", pyRepr(s), " because of character: ", pyRepr(c))
		}
	}
	return v, nil
}

// portNumber is Supervisor's datatypes.port_number,
// RangeCheckedConversion(integer, 1, 65535): "%r is below lower bound (1)"
// / "%r is above upper bound (65535)" with the int's repr, or int()'s error.
func portNumber(s string) (int, error) {
	r := dtParseInt(s, 10)
	switch r.kind {
	case dtIntOK:
	case dtIntOverflow:
	default:
		return 0, dtIntError(s, 10, r)
	}
	if r.kind == dtIntOverflow && r.neg || r.kind == dtIntOK && r.v < 1 {
		return 0, dtErr(dtIntRepr(r), " is below lower bound (1)")
	}
	if r.kind == dtIntOverflow || r.v > 65535 {
		return 0, dtErr(dtIntRepr(r), " is above upper bound (65535)")
	}
	return int(r.v), nil
}

// inetAddress is Supervisor's datatypes.inet_address: PORT, HOST:PORT,
// *:PORT or :PORT; host lower-cased, "" or "*" meaning all interfaces.
// Errors "no port number specified in %r" (of the empty port text), "not a
// valid port number: %r " (with the trailing blank) or port_number's.
func inetAddress(s string) (host string, port int, err error) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, s = s[:i], s[i+1:]
		if s == "" {
			return "", 0, dtErr("no port number specified in ", pyRepr(s))
		}
		if port, err = portNumber(s); err != nil {
			return "", 0, err
		}
		host = pyLower(host)
	} else if port, err = portNumber(s); err != nil {
		return "", 0, dtErr("not a valid port number: ", pyRepr(s), " ")
	}
	if host == "*" {
		host = ""
	}
	return host, port, nil
}

// userGroup is Supervisor's datatypes.colon_separated_user_group: "user" or
// "user:group", resolved with lookupUser and lookupGroup (normally
// nameToUID and nameToGID); gid is -1 without a group. Error "Invalid
// user:group definition %s".
func userGroup(s string, lookupUser, lookupGroup func(string) (int, error)) (uid, gid int, err error) {
	u, g, hasGroup := strings.Cut(s, ":")
	gid = -1
	uid, err = lookupUser(u)
	if err == nil && hasGroup {
		gid, err = lookupGroup(g)
	}
	if err != nil {
		return 0, 0, dtErr("Invalid user:group definition ", s)
	}
	return uid, gid, nil
}

// errDtEmbeddedNull is the ValueError pwd/grp raise for a name containing
// NUL (Supervisor does not catch it).
var errDtEmbeddedNull = errors.New("embedded null byte")

// nameToUID is Supervisor's datatypes.name_to_uid: int() of the string must
// be a uid in the password database, otherwise it is looked up as a user
// name (os/user: /etc/passwd without cgo). Errors "Invalid user name %s" /
// "Invalid user id %s".
func nameToUID(name string) (int, error) {
	r := dtParseInt(name, 10)
	switch r.kind {
	case dtIntOK, dtIntOverflow:
		// pwd.getpwuid(-1) looks up (uid_t)-1; other values out of range
		// are not found.
		if r.kind == dtIntOK && r.v >= -1 && r.v <= 0xffffffff {
			if _, err := user.LookupId(strconv.FormatUint(uint64(uint32(r.v)), 10)); err == nil {
				return int(r.v), nil
			}
		}
		return 0, dtErr("Invalid user id ", name)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return 0, errDtEmbeddedNull
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, dtErr("Invalid user name ", name)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, dtErr("Invalid user name ", name)
	}
	return uid, nil
}

// nameToGID is Supervisor's datatypes.name_to_gid, as nameToUID for
// groups. Errors "Invalid group name %s" / "Invalid group id %s", and
// grp's uncaught "gid is less than minimum" / "gid is greater than maximum"
// for ids out of range.
func nameToGID(name string) (int, error) {
	r := dtParseInt(name, 10)
	switch r.kind {
	case dtIntOK, dtIntOverflow:
		// grp.getgrgid's argument conversion raises OverflowError, which
		// Supervisor does not catch, outside -1..2**32-1.
		switch {
		case r.kind == dtIntOverflow && !r.neg:
			return 0, errors.New("gid is greater than maximum")
		case r.kind == dtIntOverflow || r.v < -1 || r.v > 0xffffffff:
			return 0, errors.New("gid is less than minimum")
		}
		if _, err := user.LookupGroupId(strconv.FormatUint(uint64(uint32(r.v)), 10)); err == nil {
			return int(r.v), nil
		}
		return 0, dtErr("Invalid group id ", name)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return 0, errDtEmbeddedNull
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, dtErr("Invalid group name ", name)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, dtErr("Invalid group name ", name)
	}
	return gid, nil
}
