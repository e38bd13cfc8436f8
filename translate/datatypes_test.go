package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode"

	"github.com/supersede/supersede/internal/testreal"
)

func TestDatatypeInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{" 12 ", 12, ""},
		{"+5", 5, ""},
		{"-0", 0, ""},
		{"1_000", 1000, ""},
		{"007", 7, ""},
		{"\t\v\f\r\n5\n", 5, ""},
		{"\u00a05\u3000", 5, ""},
		{"\u0663\u0664", 34, ""},
		{"9223372036854775807", 9223372036854775807, ""},
		{"-9223372036854775808", -9223372036854775808, ""},
		{"9223372036854775808", 0, "integer value too large: 9223372036854775808"},
		{"1__0", 0, "invalid literal for int() with base 10: '1__0'"},
		{"_1", 0, "invalid literal for int() with base 10: '_1'"},
		{"1_", 0, "invalid literal for int() with base 10: '1_'"},
		{"1.5", 0, "invalid literal for int() with base 10: '1.5'"},
		{"0x10", 0, "invalid literal for int() with base 10: '0x10'"},
		{"", 0, "invalid literal for int() with base 10: ''"},
		{"+ 5", 0, "invalid literal for int() with base 10: '+ 5'"},
		{"\x1c5", 0, `invalid literal for int() with base 10: '\x1c5'`},
		{"5\x00", 0, `invalid literal for int() with base 10: '5\x00'`},
		{"-", 0, "invalid literal for int() with base 10: '-'"},
		{strings.Repeat("1", 4301), 0, "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"},
		{strings.Repeat("x", 300), 0, "invalid literal for int() with base 10: '" + strings.Repeat("x", 199)},
	}
	for _, tt := range tests {
		t.Run("int="+tt.in, func(t *testing.T) {
			got, err := pyIntLiteral(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

// dtWant checks a (value, error) pair against the wanted value or error
// text ("" for none).
func dtWant(t *testing.T, got any, err error, want any, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("got %#v, %v; want error %q", got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error %q", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestDatatypeBool(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
		err  string
	}{
		{"yes", true, ""}, {"TRUE", true, ""}, {"On", true, ""}, {"1", true, ""},
		{"no", false, ""}, {"False", false, ""}, {"OFF", false, ""}, {"0", false, ""},
		{"y", false, "not a valid boolean value: 'y'"},
		{"", false, "not a valid boolean value: ''"},
		{" yes", false, "not a valid boolean value: ' yes'"},
		{"\u0130", false, "not a valid boolean value: '\u0130'"},
	} {
		t.Run("bool="+tt.in, func(t *testing.T) {
			got, err := boolean(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		err  string
	}{
		{"50MB", 50 << 20, ""}, {"50 MB", 50 << 20, ""}, {"1gb", 1 << 30, ""},
		{"-1", -1, ""}, {"0", 0, ""}, {"2kb", 2048, ""}, {" 3 KB", 3072, ""},
		{"\u212aB", 0, "invalid literal for int() with base 10: ''"},
		{"1K", 0, "invalid literal for int() with base 10: '1k'"},
		{"10b", 0, "invalid literal for int() with base 10: '10b'"},
		{"1.5MB", 0, "invalid literal for int() with base 10: '1.5'"},
		{"MB", 0, "invalid literal for int() with base 10: ''"},
		{"5XB", 0, "invalid literal for int() with base 10: '5xb'"},
	} {
		t.Run("bytes="+tt.in, func(t *testing.T) {
			got, err := byteSize(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeOctal(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  string
	}{
		{"022", 0o22, ""}, {"22", 0o22, ""}, {"0o22", 0o22, ""}, {"0", 0, ""},
		{"0O7", 7, ""}, {"0o_17", 0o17, ""}, {"-0o7", -7, ""}, {" 0o7 ", 7, ""}, {"0_7", 7, ""},
		{"999", 0, "999 can not be converted to an octal type"},
		{"0o", 0, "0o can not be converted to an octal type"},
		{"0x1", 0, "0x1 can not be converted to an octal type"},
		{"", 0, " can not be converted to an octal type"},
	} {
		t.Run("octal="+tt.in, func(t *testing.T) {
			got, err := octalType(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeSignal(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want syscall.Signal
		err  string
	}{
		{"term", syscall.SIGTERM, ""}, {"SIGTERM", syscall.SIGTERM, ""}, {" hup ", syscall.SIGHUP, ""},
		{"RTMIN", 34, ""}, {"rtmax", 64, ""}, {"CLD", syscall.SIGCHLD, ""}, {"IOT", syscall.SIGABRT, ""},
		{"poll", syscall.SIGIO, ""}, {"sig_dfl", 0, ""}, {"_IGN", 1, ""}, {"SIG_SETMASK", 2, ""},
		{"0", 0, ""}, {"31", 31, ""}, {"34", 34, ""}, {"64", 64, ""}, {" 9 ", 9, ""},
		{"\u017figterm", syscall.SIGTERM, ""}, {"s\u0131gkill", syscall.SIGKILL, ""},
		{"FOO", 0, "value 'FOO' is not a valid signal name"},
		{"SIG", 0, "value 'SIG' is not a valid signal name"},
		{"", 0, "value '' is not a valid signal name"},
		{"35", 0, "value '35' is not a valid signal number"},
		{"32", 0, "value '32' is not a valid signal number"},
		{"-1", 0, "value '-1' is not a valid signal number"},
		{"99999999999999999999", 0, "value '99999999999999999999' is not a valid signal number"},
	} {
		t.Run("signal="+tt.in, func(t *testing.T) {
			got, err := signalNumber(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
	for sig, want := range map[syscall.Signal]string{0: "0", 1: "HUP", 6: "ABRT", 17: "CHLD", 29: "IO", 32: "32", 34: "RTMIN", 64: "RTMAX", 65: "65", -1: "-1"} {
		t.Run("signame="+strconv.Itoa(int(sig)), func(t *testing.T) {
			if got := signalName(sig); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestDatatypeExitcodes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		err  string
	}{
		{"", []int{}, ""}, {"0", []int{0}, ""}, {"0,2", []int{0, 2}, ""}, {" 1 , 255", []int{1, 255}, ""},
		{"0,,1", nil, "not a valid list of exit codes: '0,,1'"},
		{"256", nil, "not a valid list of exit codes: '256'"},
		{"-1", nil, "not a valid list of exit codes: '-1'"},
		{"0,", nil, "not a valid list of exit codes: '0,'"},
		{"a", nil, "not a valid list of exit codes: 'a'"},
	} {
		t.Run("exitcodes="+tt.in, func(t *testing.T) {
			got, err := listOfExitcodes(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeStrings(t *testing.T) {
	for in, want := range map[string][]string{
		"": {}, "a": {"a"}, " a , b ,": {"a", "b", ""}, ",": {"", ""}, "\u00a0x\u2003": {"x"},
	} {
		t.Run("strings="+in, func(t *testing.T) {
			if got := listOfStrings(in); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestDatatypeAutoRestart(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Restart
		err  string
	}{
		{"true", RestartAlways, ""}, {"YES", RestartAlways, ""}, {"1", RestartAlways, ""},
		{"false", RestartNever, ""}, {"Off", RestartNever, ""},
		{"unexpected", RestartUnexpected, ""}, {"UNEXPECTED", RestartUnexpected, ""},
		{"Always", 0, "invalid 'autorestart' value 'always'"},
		{"\u0130", 0, "invalid 'autorestart' value 'i\u0307'"},
		{"\u0391\u03a3", 0, "invalid 'autorestart' value '\u03b1\u03c2'"},
	} {
		t.Run("autorestart="+tt.in, func(t *testing.T) {
			got, err := autoRestart(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeLogLevel(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{"info", "info", ""}, {"WARN", "warn", ""}, {"Blather", "blather", ""}, {"critical", "critical", ""},
		{"__init__", "__init__", ""}, {"MRO", "mro", ""},
		{"warning", "", "bad logging level name 'warning'"},
		{"", "", "bad logging level name ''"},
		{"__doc__", "", "bad logging level name '__doc__'"},
	} {
		t.Run("loglevel="+tt.in, func(t *testing.T) {
			got, err := loggingLevel(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeName(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{"web", "web", ""}, {" web\t", "web", ""}, {"", "", ""},
		{"a b", "", "Invalid name: 'a b' because of character: ' '"},
		{"a:b/c", "", "Invalid name: 'a:b/c' because of character: ':'"},
		{"/x ", "", "Invalid name: '/x ' because of character: '/'"},
		{"a/b c", "", "Invalid name: 'a/b c' because of character: ' '"},
	} {
		t.Run("name="+tt.in, func(t *testing.T) {
			got, err := processOrGroupName(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestDatatypeInet(t *testing.T) {
	for _, tt := range []struct {
		in, host string
		port     int
		err      string
	}{
		{"9001", "", 9001, ""}, {"LocalHost:9001", "localhost", 9001, ""}, {"*:80", "", 80, ""},
		{":80", "", 80, ""}, {"[::1]:80", "[::1]", 80, ""},
		{"70000", "", 0, "not a valid port number: '70000' "},
		{"abc", "", 0, "not a valid port number: 'abc' "},
		{"host:", "", 0, "no port number specified in ''"},
		{"host:0", "", 0, "0 is below lower bound (1)"},
		{"host:70000", "", 0, "70000 is above upper bound (65535)"},
		{"host:99999999999999999999999", "", 0, "99999999999999999999999 is above upper bound (65535)"},
		{"host:-99999999999999999999999", "", 0, "-99999999999999999999999 is below lower bound (1)"},
		{"host:x", "", 0, "invalid literal for int() with base 10: 'x'"},
	} {
		t.Run("inet="+tt.in, func(t *testing.T) {
			h, p, err := inetAddress(tt.in)
			dtWant(t, [2]any{h, p}, err, [2]any{tt.host, tt.port}, tt.err)
		})
	}
}

func TestDatatypeUserGroup(t *testing.T) {
	fake := func(kind string) func(string) (int, error) {
		return func(s string) (int, error) {
			if n, err := strconv.Atoi(s); err == nil {
				return n, nil
			}
			return 0, fmt.Errorf("Invalid %s name %s", kind, s)
		}
	}
	for _, tt := range []struct {
		in       string
		uid, gid int
		err      string
	}{
		{"1", 1, -1, ""}, {"1:2", 1, 2, ""}, {"1:2:3", 0, 0, "Invalid user:group definition 1:2:3"},
		{"x:2", 0, 0, "Invalid user:group definition x:2"}, {"1:", 0, 0, "Invalid user:group definition 1:"},
	} {
		t.Run("usergroup="+tt.in, func(t *testing.T) {
			u, g, err := userGroup(tt.in, fake("user"), fake("group"))
			dtWant(t, [2]int{u, g}, err, [2]int{tt.uid, tt.gid}, tt.err)
		})
	}
	root, err := user.LookupId("0")
	if err != nil {
		t.Skip("no uid 0 in the password database")
	}
	for _, tt := range []struct {
		in, err string
		want    int
	}{
		{root.Username, "", 0}, {"0", "", 0}, {" 0 ", "", 0}, {"00", "", 0},
		{"-1", "Invalid user id -1", 0}, {"4000000000", "Invalid user id 4000000000", 0},
		{"no such user", "Invalid user name no such user", 0}, {"a\x00b", "embedded null byte", 0},
	} {
		t.Run("uid="+tt.in, func(t *testing.T) {
			got, err := nameToUID(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
	for _, tt := range []struct {
		in, err string
		want    int
	}{
		{"0", "", 0}, {"-1", "Invalid group id -1", 0}, {"-5", "gid is less than minimum", 0},
		{"99999999999999999999", "gid is greater than maximum", 0},
		{"no such group", "Invalid group name no such group", 0},
	} {
		t.Run("gid="+tt.in, func(t *testing.T) {
			got, err := nameToGID(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

// dtIntAlphabet are the pieces random int-like inputs are made of.
var dtIntAlphabet = append(dtPieces("0123456789012345678901234567890_+- \t\n\v\f\r\x1c\u00a0\u2003\u0663\uff19\U0001d7d9oOxkKmMgGbB.é\u0130\u212a"), "kb", "MB", "gb")

// dtNameAlphabet are the pieces random names, levels and signals are made of.
var dtNameAlphabet = append(dtPieces("abcdefghijklmnopqrstuvwxyzSIGTERM_ :/\t\u00a0\u0130\u0131\u017f\u00df\ufb05\u212a\u03a3\u03c3\u0391.'\"\x00"),
	"sig", "term", "hup", "rtmin", "rtmax", "__init__", "__doc__", "mro", "__name__", "__abstractmethods__",
	"info", "warn", "yes", "no", "on", "off", "true", "false", "unexpected", "debug", "blather", "1", "0", "34")

func TestDatatypeDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var calls [][]any
	var checks []func(r dtPyResult)
	add := func(name, in string, check func(r dtPyResult)) {
		calls = append(calls, []any{name, in})
		checks = append(checks, check)
	}
	for i := 0; i < 3000; i++ {
		s := dtRandString(rng, dtIntAlphabet, 8)
		if i%10 == 0 {
			s = strconv.FormatInt(rng.Int63()-rng.Int63(), 10) + strings.Repeat("0", rng.Intn(4))
		}
		add("int", s, func(r dtPyResult) { v, err := pyIntLiteral(s); dtCheck(t, "int("+strconv.Quote(s)+")", r, v, err) })
		add("bytesize", s, func(r dtPyResult) { v, err := byteSize(s); dtCheck(t, "byte_size("+strconv.Quote(s)+")", r, v, err) })
		add("octal", s, func(r dtPyResult) { v, err := octalType(s); dtCheck(t, "octal_type("+strconv.Quote(s)+")", r, v, err) })
		add("port", s, func(r dtPyResult) {
			v, err := portNumber(s)
			dtCheck(t, "port_number("+strconv.Quote(s)+")", r, v, err)
		})
		add("signum", s, func(r dtPyResult) {
			v, err := signalNumber(s)
			dtCheck(t, "signal_number("+strconv.Quote(s)+")", r, int(v), err)
		})
		e := dtRandString(rng, append(dtIntAlphabet, ",", ",", "2", "55"), 10)
		add("exitcodes", e, func(r dtPyResult) {
			v, err := listOfExitcodes(e)
			dtCheck(t, "list_of_exitcodes("+strconv.Quote(e)+")", r, v, err)
		})
		a := dtRandString(rng, append(dtIntAlphabet, ":", ":", "*", "Host", "\u0130"), 10)
		add("inet", a, func(r dtPyResult) {
			h, p, err := inetAddress(a)
			dtCheck(t, "inet_address("+strconv.Quote(a)+")", r, []any{h, p}, err)
		})
		n := dtRandString(rng, dtNameAlphabet, 5)
		add("signum", n, func(r dtPyResult) {
			v, err := signalNumber(n)
			dtCheck(t, "signal_number("+strconv.Quote(n)+")", r, int(v), err)
		})
		add("bool", n, func(r dtPyResult) { v, err := boolean(n); dtCheck(t, "boolean("+strconv.Quote(n)+")", r, v, err) })
		add("autorestart", n, func(r dtPyResult) {
			v, err := autoRestart(n)
			dtCheck(t, "auto_restart("+strconv.Quote(n)+")", r, v.String(), err)
		})
		add("loglevel", n, func(r dtPyResult) {
			v, err := loggingLevel(n)
			dtCheck(t, "logging_level("+strconv.Quote(n)+")", r, v, err)
		})
		add("name", n, func(r dtPyResult) {
			v, err := processOrGroupName(n)
			dtCheck(t, "process_or_group_name("+strconv.Quote(n)+")", r, v, err)
		})
		add("strings", n, func(r dtPyResult) { dtCheck(t, "list_of_strings("+strconv.Quote(n)+")", r, listOfStrings(n), nil) })
		add("lower", n, func(r dtPyResult) { dtCheck(t, "lower("+strconv.Quote(n)+")", r, pyLower(n), nil) })
		add("strip", n, func(r dtPyResult) { dtCheck(t, "strip("+strconv.Quote(n)+")", r, pyStrip(n), nil) })
	}
	for _, s := range []string{strings.Repeat("1", 4300), strings.Repeat("1", 4301), strings.Repeat("1", 4301) + "x", "0o" + strings.Repeat("7", 30), strings.Repeat("9", 300) + "_"} {
		add("int", s, func(r dtPyResult) { v, err := pyIntLiteral(s); dtCheck(t, "int(long)", r, v, err) })
		add("port", s, func(r dtPyResult) { v, err := portNumber(s); dtCheck(t, "port_number(long)", r, v, err) })
	}
	for i := -2; i < 70; i++ {
		add("signame", strconv.Itoa(i), nil)
		calls[len(calls)-1][1] = i
		checks[len(checks)-1] = func(r dtPyResult) { dtCheck(t, "signame("+strconv.Itoa(i)+")", r, signalName(syscall.Signal(i)), nil) }
	}
	for _, u := range []string{"0", "00", " 0", "-1", "1", "65534", "4294967295", "99999999999999999999999", "root", "nobody", "daemon", "nosuchuser", "", "0x0", "\u0660"} {
		add("uid", u, func(r dtPyResult) { v, err := nameToUID(u); dtCheck(t, "name_to_uid("+strconv.Quote(u)+")", r, v, err) })
		add("gid", u, func(r dtPyResult) { v, err := nameToGID(u); dtCheck(t, "name_to_gid("+strconv.Quote(u)+")", r, v, err) })
	}
	res := dtPython(t, calls)
	for i, r := range res {
		checks[i](r)
		if t.Failed() && i > 0 && i%500 == 0 {
			t.FailNow()
		}
	}
}

// TestDatatypeUnicodeTables checks the hand-made Unicode tables (isspace,
// decimal digits, lower(), final sigma) against Python over every code
// point.
func TestDatatypeUnicodeTables(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	var calls [][]any
	var ins []string
	for r := rune(0); r < 0x110000; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		ins = append(ins, string(r))
	}
	// Characters Python 3.11 (Unicode 14) does not know but Go (Unicode 15)
	// does may differ: Python treats them as unassigned.
	unassigned := map[string]bool{}
	var all []string
	for _, r := range dtPython(t, [][]any{{"unassigned", strings.Join(ins, "")}}) {
		if json.Unmarshal(r.Ok, &all) != nil {
			t.Fatalf("bad oracle answer %v", r)
		}
	}
	for _, c := range all {
		unassigned[c] = true
	}
	// One call per chunk keeps the JSON small: lower() alone and in the
	// contexts of the final sigma rule.
	const chunk = 4096
	for i := 0; i < len(ins); i += chunk {
		j := min(i+chunk, len(ins))
		calls = append(calls, []any{"lower", strings.Join(ins[i:j], "\x00")})
		calls = append(calls, []any{"lower", "A" + strings.Join(ins[i:j], "\u03a3\x00A") + "\u03a3"})
		calls = append(calls, []any{"lower", strings.Join(ins[i:j], "\u03a3\x00") + "\u03a3"})
		calls = append(calls, []any{"lower", "A\u03a3" + strings.Join(ins[i:j], "\x00A\u03a3")})
	}
	res := dtPython(t, calls)
	skipped := 0
	for k, r := range res {
		var want string
		if r.Ok == nil || json.Unmarshal(r.Ok, &want) != nil {
			t.Fatalf("bad oracle answer %v", r)
		}
		got := pyLower(calls[k][1].(string))
		if got != want {
			in := strings.Split(calls[k][1].(string), "\x00")
			g, w := strings.Split(got, "\x00"), strings.Split(want, "\x00")
			for x := range min(len(g), len(w)) {
				if g[x] != w[x] {
					if c := strings.Trim(in[x], "A\u03a3"); unassigned[c] {
						skipped++
						continue
					}
					t.Errorf("lower(%+q) = %+q, Python %+q", in[x], g[x], w[x])
				}
			}
		}
	}
	t.Logf("%d lower() differences on characters new in Unicode 15 ignored", skipped)
	// isspace and decimal digits.
	calls = calls[:0]
	for i := 0; i < len(ins); i += chunk {
		j := min(i+chunk, len(ins))
		calls = append(calls, []any{"strip", strings.Join(ins[i:j], "x")})
	}
	res = dtPython(t, calls)
	for k, r := range res {
		var want string
		if json.Unmarshal(r.Ok, &want) != nil {
			t.Fatalf("bad oracle answer %v", r)
		}
		in := calls[k][1].(string)
		if got := pyStrip(in); got != want {
			t.Errorf("strip(chunk %d): %+q vs %+q", k, got[:min(20, len(got))], want[:min(20, len(want))])
		}
	}
	calls = calls[:0]
	var digitIns []string
	for _, s := range ins {
		r := []rune(s)[0]
		if (r > 127 && dtDecimal(r) >= 0 || unicode.IsNumber(r)) && !unassigned[s] {
			digitIns = append(digitIns, "1"+s)
			calls = append(calls, []any{"int", "1" + s})
		}
	}
	res = dtPython(t, calls)
	for k, r := range res {
		v, err := pyIntLiteral(digitIns[k])
		dtCheck(t, "int("+strconv.QuoteToASCII(digitIns[k])+")", r, v, err)
	}
}

// The Python oracle shared by the differential tests of shlex.go,
// datatypes.go and paths.go: one python3 subprocess per test, a JSON list of
// calls in, a JSON list of results out.

// dtOracleScript evaluates [name, arg...] calls with Supervisor's own code
// when it is importable, else with verbatim copies of the 4.2.5 functions.
const dtOracleScript = `
import sys, json, shlex, signal, os, posixpath
sys.path.append('/usr/lib/python3/dist-packages')
try:
    from supervisor import datatypes as D
    from supervisor.options import normalize_path
except Exception:
    D = None
if D is None:
    class LevelsByDescription:
        critical = 50; error = 40; warn = 30; info = 20; debug = 10; trace = 5; blather = 3
    class _D: pass
    D = _D()
    def process_or_group_name(name):
        s = str(name).strip()
        for character in ' :/':
            if character in s:
                raise ValueError("Invalid name: %r because of character: %r" % (name, character))
        return s
    def integer(value):
        try:
            return int(value)
        except (ValueError, OverflowError):
            return int(value)
    TRUTHY_STRINGS = ('yes', 'true', 'on', '1')
    FALSY_STRINGS  = ('no', 'false', 'off', '0')
    def boolean(s):
        ss = str(s).lower()
        if ss in TRUTHY_STRINGS: return True
        elif ss in FALSY_STRINGS: return False
        else: raise ValueError("not a valid boolean value: " + repr(s))
    def list_of_strings(arg):
        if not arg: return []
        return [x.strip() for x in arg.split(',')]
    def list_of_ints(arg):
        if not arg: return []
        try: return list(map(int, arg.split(",")))
        except: raise ValueError("not a valid list of ints: " + repr(arg))
    def list_of_exitcodes(arg):
        try:
            vals = list_of_ints(arg)
            for val in vals:
                if (val > 255) or (val < 0):
                    raise ValueError('Invalid exit code "%s"' % val)
            return vals
        except:
            raise ValueError("not a valid list of exit codes: " + repr(arg))
    def dict_of_key_value_pairs(arg):
        lexer = shlex.shlex(str(arg))
        lexer.wordchars += '/.+-():'
        tokens = list(lexer)
        tokens_len = len(tokens)
        D = {}
        i = 0
        while i < tokens_len:
            k_eq_v = tokens[i:i+3]
            if len(k_eq_v) != 3 or k_eq_v[1] != '=':
                raise ValueError("Unexpected end of key/value pairs in value '%s'" % arg)
            D[k_eq_v[0]] = k_eq_v[2].strip('\'"')
            i += 4
        return D
    class RangeCheckedConversion:
        def __init__(self, conversion, min=None, max=None):
            self._min = min; self._max = max; self._conversion = conversion
        def __call__(self, value):
            v = self._conversion(value)
            if self._min is not None and v < self._min:
                raise ValueError("%s is below lower bound (%s)" % (repr(v), repr(self._min)))
            if self._max is not None and v > self._max:
                raise ValueError("%s is above upper bound (%s)" % (repr(v), repr(self._max)))
            return v
    port_number = RangeCheckedConversion(integer, min=1, max=0xffff).__call__
    def inet_address(s):
        host = ''
        if ":" in s:
            host, s = s.rsplit(":", 1)
            if not s:
                raise ValueError("no port number specified in %r" % s)
            port = port_number(s)
            host = host.lower()
        else:
            try:
                port = port_number(s)
            except ValueError:
                raise ValueError("not a valid port number: %r " %s)
        if not host or host == '*':
            host = ''
        return host, port
    def name_to_uid(name):
        import pwd
        try:
            uid = int(name)
        except ValueError:
            try:
                pwdrec = pwd.getpwnam(name)
            except KeyError:
                raise ValueError("Invalid user name %s" % name)
            uid = pwdrec[2]
        else:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                raise ValueError("Invalid user id %s" % name)
        return uid
    def name_to_gid(name):
        import grp
        try:
            gid = int(name)
        except ValueError:
            try:
                grprec = grp.getgrnam(name)
            except KeyError:
                raise ValueError("Invalid group name %s" % name)
            gid = grprec[2]
        else:
            try:
                grp.getgrgid(gid)
            except KeyError:
                raise ValueError("Invalid group id %s" % name)
        return gid
    def octal_type(arg):
        try: return int(arg, 8)
        except (TypeError, ValueError):
            raise ValueError('%s can not be converted to an octal type' % arg)
    def logging_level(value):
        s = str(value).lower()
        level = getattr(LevelsByDescription, s, None)
        if level is None:
            raise ValueError('bad logging level name %r' % value)
        return level
    class SuffixMultiplier:
        def __init__(self, d, default=1):
            self._d = d; self._default = default; self._keysz = 2
        def __call__(self, v):
            v = v.lower()
            for s, m in self._d.items():
                if v[-self._keysz:] == s:
                    return int(v[:-self._keysz]) * m
            return int(v) * self._default
    byte_size = SuffixMultiplier({'kb': 1024, 'mb': 1024*1024, 'gb': 1024*1024*1024})
    SIGNUMS = [ getattr(signal, k) for k in dir(signal) if k.startswith('SIG') ]
    def signal_number(value):
        try:
            num = int(value)
        except (ValueError, TypeError):
            name = value.strip().upper()
            if not name.startswith('SIG'):
                name = 'SIG' + name
            num = getattr(signal, name, None)
            if num is None:
                raise ValueError('value %r is not a valid signal name' % value)
        if num not in SIGNUMS:
            raise ValueError('value %r is not a valid signal number' % value)
        return num
    def auto_restart(value):
        value = str(value.lower())
        if value in TRUTHY_STRINGS: return True
        if value in FALSY_STRINGS: return False
        if value == 'unexpected': return 'unexpected'
        raise ValueError("invalid 'autorestart' value %r" % value)
    for _n, _f in list(globals().items()):
        if callable(_f) and not _n.startswith('_'):
            setattr(D, _n, _f)
    def normalize_path(v):
        return os.path.normpath(os.path.abspath(os.path.expanduser(v)))

def autorestart(v):
    r = D.auto_restart(v)
    if r is True or r is getattr(D, 'RestartUnconditionally', None): return 'true'
    if r is False: return 'false'
    return 'unexpected'

def loglevel(v):
    D.logging_level(v)
    return v.lower()

def signame(n):
    try:
        return signal.Signals(n).name[3:]
    except ValueError:
        return str(n)

def abspath(p, cwd):
    os.chdir(cwd)
    return posixpath.abspath(p)

F = {
    'split': shlex.split,
    'kv': lambda s: list(D.dict_of_key_value_pairs(s).items()),
    'int': int,
    'bool': D.boolean,
    'bytesize': D.byte_size,
    'octal': D.octal_type,
    'signum': lambda s: int(D.signal_number(s)),
    'signame': signame,
    'exitcodes': D.list_of_exitcodes,
    'strings': D.list_of_strings,
    'autorestart': lambda v: autorestart(v),
    'loglevel': loglevel,
    'name': D.process_or_group_name,
    'port': D.port_number,
    'inet': lambda s: list(D.inet_address(s)),
    'uid': D.name_to_uid,
    'gid': D.name_to_gid,
    'normpath': posixpath.normpath,
    'abspath': abspath,
    'normalize': lambda p, cwd: (os.chdir(cwd), normalize_path(p))[1],
    'expanduser': posixpath.expanduser,
    'lower': str.lower,
    'unassigned': lambda s: [c for c in s if __import__('unicodedata').category(c) == 'Cn'],
    'strip': str.strip,
}
BIG = 2**63
out = []
for call in json.load(sys.stdin):
    try:
        v = F[call[0]](*call[1:])
        if isinstance(v, int) and not isinstance(v, bool) and not -BIG <= v < BIG:
            out.append({'big': str(v)})
        else:
            out.append({'ok': v})
    except Exception as e:
        out.append({'err': str(e), 'type': type(e).__name__})
json.dump(out, sys.stdout)
`

// dtPyResult is one oracle answer: Ok (JSON), Err (exception text) or Big
// (an int beyond int64, in decimal).
type dtPyResult struct {
	Ok   json.RawMessage `json:"ok"`
	Err  *string         `json:"err"`
	Type string          `json:"type"`
	Big  *string         `json:"big"`
}

// dtPython runs calls through one process of Debian's python3.
func dtPython(t *testing.T, calls [][]any) []dtPyResult {
	t.Helper()
	var res []dtPyResult
	testreal.RunPython(t, dtOracleScript, calls, &res)
	if len(res) != len(calls) {
		t.Fatalf("python3 oracle: %d results for %d calls", len(res), len(calls))
	}
	return res
}

// dtCheck compares a Go result (value v, error err) with Python's answer r
// for the call described by what.
func dtCheck(t *testing.T, what string, r dtPyResult, v any, err error) {
	t.Helper()
	switch {
	case r.Big != nil:
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s: Python gives the big int %s, Go gives %v, %v", what, *r.Big, v, err)
		}
	case r.Err != nil:
		if err == nil {
			t.Errorf("%s: Python raises %s(%q), Go returns %#v", what, r.Type, *r.Err, v)
		} else if err.Error() != *r.Err {
			t.Errorf("%s: error text\n  python: %q\n  go:     %q", what, *r.Err, err.Error())
		}
	default:
		if err != nil {
			t.Errorf("%s: Python returns %s, Go fails: %q", what, r.Ok, err.Error())
			return
		}
		got, e := json.Marshal(v)
		if e != nil {
			t.Fatal(e)
		}
		if !dtJSONEqual(got, r.Ok) {
			t.Errorf("%s: value\n  python: %s\n  go:     %s", what, r.Ok, got)
		}
	}
}

// dtJSONEqual compares two JSON texts as values.
func dtJSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// dtRandString builds a random string of up to max pieces of the alphabet.
func dtRandString(rng *rand.Rand, alphabet []string, max int) string {
	n := rng.Intn(max + 1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

// dtPieces splits a string of characters into single-character pieces.
func dtPieces(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}
