package ctl

import (
	"context"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// pyOracleScript computes, with Debian's Python and Supervisor, what the
// helpers of python.go and options.go imitate.
const pyOracleScript = `
import cmd, io, json, sys
from supervisor.datatypes import url
req = json.load(sys.stdin)
out = {"repr": [repr(s) for s in req["repr"]], "split": [s.split() for s in req["split"]],
       "url": [], "int": [], "columnize": []}
for u in req["url"]:
    try:
        url(u)
        out["url"].append("")
    except ValueError as e:
        out["url"].append(str(e))
for s in req["int"]:
    try:
        out["int"].append(str(int(s)))
    except ValueError:
        out["int"].append("bad")
for c in req["columnize"]:
    buf = io.StringIO()
    cmd.Cmd(stdout=buf).columnize(c["words"], c["width"])
    out["columnize"].append(buf.getvalue())
json.dump(out, sys.stdout)
`

type columnizeCase struct {
	Words []string `json:"words"`
	Width int      `json:"width"`
}

func TestPythonHelpers(t *testing.T) {
	testreal.RequireSupervisor(t)
	req := struct {
		Repr      []string        `json:"repr"`
		Split     []string        `json:"split"`
		URL       []string        `json:"url"`
		Int       []string        `json:"int"`
		Columnize []columnizeCase `json:"columnize"`
	}{
		Repr: []string{"", "abc", "it's", `say "hi"`, `both ' and "`, "tab\there", "nl\n", "back\\slash", "\x00\x1f\x7f",
			"é", "\u00a0", "\u200b", "\U0001f600", "\u2028", "BAD_NAME: x"},
		Split: []string{"", "  a  b ", "a\x1cb\x1dc\x1ed\x1fe", "a\u00a0b\u2003c\u3000d", "a\u200bb", "a\u0085b"},
		URL: []string{"", "foo", "http://localhost:9001", "unix:///tmp/s.sock", "unix://", "http://", "http:x", "a:b",
			"//host", "x:;y", "http:;y", "http:/a;b", "ftp:;y", "1a:b", "a+b-c.d:x", " http://x", "\thttp://x",
			"http://[::1]:5", "http://[1.2.3.4]", "http://[zz]", "http://[::1", "http://::1]", "http://[v1.x]",
			"http://[vz.x]", "http://u@[::1]:80", "http://a[::1]", "http://[::1]x", "HTTP://X", "http:?q", "http:#f",
			"unix:/x", "a\nb:c"},
		Int: []string{"0", "-0", "10", "+5", " 7 ", "1_000", "_1", "1_", "1__0", "", "-", "x", "0x10", "007",
			"99999999999999999999", "1.5", "\u00a05\u2003"},
		Columnize: []columnizeCase{
			{[]string{"add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove", "reread",
				"restart", "shutdown", "signal", "start", "status", "stop", "tail", "update", "version"}, 79},
			{[]string{"a"}, 79}, {nil, 79}, {[]string{"aaaa", "bb", "c"}, 5}, {[]string{"aaaa", "bb", "c"}, 1},
			{[]string{"x", "y", "z", "w"}, 6}, {[]string{"é", "ü", "ß"}, 4},
		},
	}
	var want struct {
		Repr      []string   `json:"repr"`
		Split     [][]string `json:"split"`
		URL       []string   `json:"url"`
		Int       []string   `json:"int"`
		Columnize []string   `json:"columnize"`
	}
	testreal.RunPython(t, pyOracleScript, req, &want)
	for i, s := range req.Repr {
		if got := pyRepr(s); got != want.Repr[i] {
			t.Errorf("pyRepr(%q) = %s, Python: %s", s, got, want.Repr[i])
		}
	}
	for i, s := range req.Split {
		got := pySplit(s)
		if strings.Join(got, "|") != strings.Join(want.Split[i], "|") || len(got) != len(want.Split[i]) {
			t.Errorf("pySplit(%q) = %q, Python: %q", s, got, want.Split[i])
		}
	}
	for i, s := range req.URL {
		if got := checkURL(s); got != want.URL[i] {
			t.Errorf("checkURL(%q) = %q, Python: %q", s, got, want.URL[i])
		}
	}
	for i, s := range req.Int {
		got := "bad"
		if n, ok := pyInt(s); ok {
			got = n.String()
		}
		if got != want.Int[i] {
			t.Errorf("pyInt(%q) = %s, Python: %s", s, got, want.Int[i])
		}
	}
	for i, c := range req.Columnize {
		if got := columnize(c.Words, c.Width); got != want.Columnize[i] {
			t.Errorf("columnize(%q, %d) =\n%q\nPython:\n%q", c.Words, c.Width, got, want.Columnize[i])
		}
	}
}

// The status line: the name column is as wide as the longest name shown
// but at least 30, plus 3; the state column 10; no padding after the
// description.
func TestStatusWidth(t *testing.T) {
	c, out := testController(t, fakeConn{})
	c.showStatuses([]statusRow{
		{group: "a", name: "a", statename: "RUNNING", description: "pid 1, uptime 0:00:01"},
		{group: "g", name: "p", statename: "STARTING", description: ""},
	})
	want := "a                                RUNNING   pid 1, uptime 0:00:01\n" +
		"g:p                              STARTING  \n"
	if got := out.String(); got != want {
		t.Errorf("30 wide:\n%q\nwant\n%q", got, want)
	}
	out.Reset()
	long := strings.Repeat("x", 35)
	c.showStatuses([]statusRow{
		{group: long, name: long, statename: "STOPPED", description: "Not started"},
		{group: "é", name: "é", statename: "BACKOFF_LONGER", description: "d"},
	})
	want = long + "   STOPPED   Not started\n" +
		"é" + strings.Repeat(" ", 37) + "BACKOFF_LONGERd\n"
	if got := out.String(); got != want {
		t.Errorf("35 wide:\n%q\nwant\n%q", got, want)
	}
}

func TestParseline(t *testing.T) {
	for _, c := range []struct {
		in, cmd, arg, line string
		ok                 bool
	}{
		{"", "", "", "", false},
		{"   ", "", "", "", false},
		{"status", "status", "", "status", true},
		{"  status  a b ", "status", "a b", "status  a b", true},
		{"?", "help", "", "help ", true},
		{"?stop", "help", "stop", "help stop", true},
		{"!ls", "", "", "!ls", false},
		{"status,a", "status", ",a", "status,a", true},
		{"-x", "", "-x", "-x", true},
		{"é", "", "é", "é", true},
		{"tail_1 x", "tail_1", "x", "tail_1 x", true},
	} {
		cmd, arg, line, ok := parseline(c.in)
		if cmd != c.cmd || arg != c.arg || line != c.line || ok != c.ok {
			t.Errorf("parseline(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", c.in, cmd, arg, line, ok, c.cmd, c.arg, c.line, c.ok)
		}
	}
}

func TestSplitNamespec(t *testing.T) {
	for _, c := range []struct {
		in, group, process string
		has                bool
	}{
		{"a", "a", "a", true},
		{"g:p", "g", "p", true},
		{"g:*", "g", "", false},
		{"g:", "g", "", false},
		{"g:p:q", "g", "p:q", true},
		{":p", "", "p", true},
	} {
		g, p, has := splitNamespec(c.in)
		if g != c.group || p != c.process || has != c.has {
			t.Errorf("splitNamespec(%q) = %q, %q, %v", c.in, g, p, has)
		}
	}
}

// supersede's options are recognised only when spelt out, so that
// every abbreviation supervisorctl accepts keeps its meaning.
func TestSupersedeOptions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // option pairs, or the error
	}{
		{[]string{"--user", "status"}, "--user="},
		{[]string{"--system", "--prefix", "p-", "--log-files"}, "--system= --prefix=p- --log-files="},
		{[]string{"--prefix=x"}, "--prefix=x"},
		{[]string{"--user=bob"}, "--username=bob"},
		{[]string{"--us=bob"}, "--username=bob"},
		{[]string{"--p=x"}, "--password=x"},
		{[]string{"--s=unix:///x"}, "--serverurl=unix:///x"},
		{[]string{"--system=1"}, "error: option --system must not have an argument"},
		{[]string{"--prefix"}, "error: option --prefix requires argument"},
		{[]string{"--pre=x"}, "error: option --pre not recognized"},
		{[]string{"--log"}, "error: option --log not recognized"},
		{[]string{"-s", "x", "--user"}, "-s=x --user="},
	} {
		opts, _, err := getopt(c.args)
		var got []string
		for _, o := range opts {
			got = append(got, o[0]+"="+o[1])
		}
		g := strings.Join(got, " ")
		if err != "" {
			g = "error: " + string(err)
		}
		if g != c.want {
			t.Errorf("getopt(%q) = %s, want %s", c.args, g, c.want)
		}
	}
}

// completeOracleScript asks supervisorctl's own Controller.complete for
// every completion of each case, with a given getAllProcessInfo.
const completeOracleScript = `
import json, sys
from supervisor.options import ClientOptions
from supervisor.supervisorctl import Controller
req = json.load(sys.stdin)
o = ClientOptions()
o.realize(["-c", ""], doc="")
c = Controller(o)
c._complete_info = req["info"]
out = []
for case in req["cases"]:
    res, state = [], 0
    while True:
        m = c.complete(case["text"], state, line=case["line"])
        if m is None:
            break
        res.append(m)
        state += 1
    out.append(res)
json.dump(out, sys.stdout)
`

func TestCompleteOracle(t *testing.T) {
	testreal.RequireSupervisor(t)
	type completeCase struct {
		Text string `json:"text"`
		Line string `json:"line"`
	}
	var infos []map[string]any
	for _, gn := range [][2]string{{"sleeper", "sleeper"}, {"grp", "ga"}, {"grp", "gb"}, {"multi", "multi_0"},
		{"multi", "multi_1"}, {"a-b", "a-b"}, {"sleepy", "sleepy"}} {
		infos = append(infos, map[string]any{"group": gn[0], "name": gn[1]})
	}
	var cases []completeCase
	for _, line := range []string{"", "   ", "s", "st", "h", "he", "status ", "status s", "status grp:", "status g",
		"status sleeper gr", "add ", "remove m", "update s", "help ", "help s", "p ", "he x ", "elp ", "foo s", "tail x",
		"start a b ", "signal HUP m", "fg multi:", "clear a", "pid a-", "stop grp:*", "version ", "status multi:m"} {
		text := line
		if i := strings.LastIndexAny(line, " "); i >= 0 {
			text = line[i+1:]
		}
		cases = append(cases, completeCase{Text: text, Line: line})
	}
	var want [][]string
	testreal.RunPython(t, completeOracleScript, map[string]any{"info": infos, "cases": cases}, &want)
	c, _ := testController(t, fakeConn{})
	c.completeInfo = infos
	for i, cc := range cases {
		got := c.complete(context.Background(), cc.Text, cc.Line)
		if strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("complete(%q, line %q) = %q, supervisorctl: %q", cc.Text, cc.Line, got, want[i])
		}
	}
}
