package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
)

// typed turns a decoded value into a JSON-able form that keeps its type,
// the same shape the Python side prints.
func typed(v any) any {
	switch v := v.(type) {
	case nil:
		return map[string]any{"none": true}
	case bool:
		return map[string]any{"bool": v}
	case int:
		return map[string]any{"int": float64(v)}
	case int64:
		return map[string]any{"int": float64(v)}
	case string:
		return map[string]any{"str": v}
	case float64:
		return map[string]any{"float": pythonRepr(v)}
	case time.Time:
		return map[string]any{"dt": v.Format("2006-01-02T15:04:05")}
	case []byte:
		return map[string]any{"bytes": base64.StdEncoding.EncodeToString(v)}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = typed(e)
		}
		return map[string]any{"list": out}
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = typed(e)
		}
		return map[string]any{"dict": out}
	}
	return map[string]any{"unknown": fmt.Sprintf("%T", v)}
}

const pyTyped = `
import base64, datetime, json, sys
def typed(v):
    if v is None: return {"none": True}
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": v}
    if isinstance(v, str): return {"str": v}
    if isinstance(v, float): return {"float": repr(v)}
    if isinstance(v, datetime.datetime): return {"dt": v.strftime("%Y-%m-%dT%H:%M:%S")}
    if isinstance(v, bytes): return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)): return {"list": [typed(e) for e in v]}
    if isinstance(v, dict): return {"dict": {k: typed(e) for k, e in v.items()}}
    return {"unknown": type(v).__name__}
`

// callBodies are request bodies aimed at the corners of Supervisor's
// loads: loose types, unknown tags, missing parts, malformed XML.
var callBodies = []string{
	`<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>untyped</value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>  spaced  </value></param><param><value></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><int> 42 </int></value></param><param><value><i4>-7</i4></value></param><param><value><int>1_000</int></value></param><param><value><int>+3</int></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><int>abc</int></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><int></int></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><boolean>1</boolean></value></param><param><value><boolean>true</boolean></value></param><param><value><boolean>0</boolean></value></param><param><value><boolean></boolean></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><string></string></value></param><param><value><string>a &amp; &lt;b&gt; &#x41;&#66;</string></value></param><param><value><string><![CDATA[<raw>]]></string></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><double>1.5</double></value></param><param><value><double> -2e3 </double></value></param><param><value><double>inf</double></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><double>x</double></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><dateTime.iso8601>20261127T10:44:30</dateTime.iso8601></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><dateTime.iso8601>yesterday</dateTime.iso8601></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><base64>aGVsbG8=</base64></value></param><param><value><base64>
aGVs
bG8=
</base64></value></param><param><value><base64></base64></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><base64>/w==</base64></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><base64>aGVsbG8</base64></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><array><data><value>a</value><value><int>1</int></value><value><array><data></data></array></value></data></array></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><array></array></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><struct><member><name>x</name><value><int>1</int></value></member><member><name></name><value>e</value></member><member><name>x</name><value>dup</value></member></struct></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><struct><member><name>x</name></member></struct></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><struct><member><name>x</name><value>1</value><extra/></member></struct></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><struct></struct></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><nil/></value></param><param><value><i8>5</i8></value></param><param><value><foo>bar</foo></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>a</value><value>b</value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>lead<string>typed</string>tail</value></param></params></methodCall>`,
	`<methodCall><methodName>first.one</methodName><methodName>second.one</methodName></methodCall>`,
	`<methodCall><methodName></methodName></methodCall>`,
	`<methodCall><params/></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>1</value></param></params><params><param><value>2</value></param></params></methodCall>`,
	`<anything><methodName>x.y</methodName><params><param><value>v</value></param></params></anything>`,
	`<methodCall xmlns="urn:x"><methodName>a.b</methodName></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><x:int xmlns:x="urn:x">5</x:int></value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value><!-- c -->text<!-- d -->more</value></param></params></methodCall>`,
	`<methodCall><methodName>a.b</methodName><params><param><value>caf` + "\u00e9 \u2603" + `</value></param></params></methodCall>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>a.b</methodName></methodCall>`,
	`garbage`,
	``,
	`<methodCall><methodName>a.b</methodName>`,
	`<methodCall><methodName>a.b</methodName></methodCall><second/>`,
	`<methodCall><methodName>a.b</methodName></methodCall>trailing`,
	`<a><b></a></b>`,
	`<methodCall><methodName>a&bogus;</methodName></methodCall>`,
	`<!DOCTYPE x [<!ENTITY e "boom">]><methodCall><methodName>a.&e;</methodName></methodCall>`,
	`<!DOCTYPE x [<!ENTITY e "one"><!ENTITY e "two">]><methodCall><methodName>a.&e;</methodName></methodCall>`,
	`<!DOCTYPE x [<!ENTITY e "boom">]><!DOCTYPE y><methodCall><methodName>a.b</methodName></methodCall>`,
	`<methodCall><!DOCTYPE x [<!ENTITY e "boom">]><methodName>a.b</methodName></methodCall>`,
	`<methodCall><methodName>a.b</methodName></methodCall><!DOCTYPE x>`,
	`<!DOCTYPE x [<!ENTITY e "boom">]><methodCall><methodName>a.b</methodName><params><param><value><![CDATA[&e;]]></value></param></params></methodCall>`,
}

// entityBodies are requests whose entity references expand to megabytes:
// expat's limit (amplification 100 once past 8 MiB, checked at each
// reference) decides which Supervisor reads.
var entityBodies = []string{
	entityBody(1000, 100_000, "", ""),                                    // 100 MB from 101 KB: refused
	entityBody(97, 100_000, "", ""),                                      // 9.7 MB from 100 KB, 97 times: read
	entityBody(103, 100_000, "", ""),                                     // 103 times: refused
	entityBody(900, 10_000, "", strings.Repeat("y", 200_000)),            // 43 times in the end, 690 times when it passes 8 MiB: refused
	entityBody(0, 100_000, strings.Repeat("&e;", 1000), ""),              // in an attribute: refused
	entityBody(0, 100_000, "", "<!--"+strings.Repeat("&e;", 1000)+"-->"), // in a comment, not expanded: read
}

// entityBody is a call whose first parameter is n references to an
// entity of size bytes, with attr as the root's attribute and tail after
// the params.
func entityBody(n, size int, attr, tail string) string {
	return `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "` + strings.Repeat("x", size) + `">]>` +
		`<methodCall a="` + attr + `"><methodName>a.b</methodName><params><param><value><string>` +
		strings.Repeat("&e;", n) + `</string></value></param>` + tail + `</params></methodCall>`
}

// TestParseCallLikeSupervisor compares parseCall with Supervisor's own
// supervisor_xmlrpc_handler.loads on every body of callBodies.
func TestParseCallLikeSupervisor(t *testing.T) {
	script := pyTyped + `
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from supervisor.xmlrpc import supervisor_xmlrpc_handler
h = supervisor_xmlrpc_handler.__new__(supervisor_xmlrpc_handler)
out = []
for body in json.load(sys.stdin):
    try:
        params, method = h.loads(body)
    except Exception as e:
        out.append({"error": True})
        continue
    out.append({"method": method or "", "params": None if params is None else typed(list(params))})
print(json.dumps(out))
`
	testreal.RequireSupervisor(t)
	bodies := append(callBodies[:len(callBodies):len(callBodies)], entityBodies...)
	var want []map[string]any
	testreal.RunPython(t, script, bodies, &want)
	for i, body := range bodies {
		method, params, _, err := parseCall([]byte(body), nil)
		got := map[string]any{}
		if err != nil {
			got["error"] = true
		} else {
			got["method"] = method
			got["params"] = nil
			if params != nil {
				got["params"] = typed(params)
			}
		}
		if g, w := fmt.Sprint(got), fmt.Sprint(want[i]); g != w {
			t.Errorf("body %q:\n got  %.300s\n want %.300s (Supervisor)", truncate([]byte(body)), g, w)
		}
	}
}

// encodeCases are values to write as Python's xmlrpc.client.dumps does.
var encodeCases = []struct {
	name string
	v    any
	py   string // the same value in Python
}{
	{"int", 42, "42"},
	{"negative int", -7, "-7"},
	{"int64", int64(1795783944), "1795783944"},
	{"true", true, "True"},
	{"false", false, "False"},
	{"string", "a & <b> 'c' \"d\"", `"a & <b> 'c' \"d\""`},
	{"empty string", "", `""`},
	{"unicode", "caf\u00e9 \u2603 \U0001F600", `"caf\u00e9 \u2603 \U0001F600"`},
	{"newlines", "a\r\nb\tc\n", `"a\r\nb\tc\n"`},
	{"float", 1.5, "1.5"},
	{"float whole", 123.0, "123.0"},
	{"float tenth", 0.1, "0.1"},
	{"float big", 1e16, "1e16"},
	{"float below big", 1234567890123456.0, "1234567890123456.0"},
	{"float small", 1.5e-5, "1.5e-5"},
	{"float 1e-4", 0.0001, "0.0001"},
	{"float huge", 1.7976931348623157e308, "1.7976931348623157e308"},
	{"float negative zero", math.Copysign(0, -1), "-0.0"},
	{"float inf", math.Inf(1), "float('inf')"},
	{"datetime", time.Date(2026, 11, 27, 10, 44, 30, 0, time.UTC), "datetime.datetime(2026, 11, 27, 10, 44, 30)"},
	{"base64", []byte("hello"), `xmlrpc.client.Binary(b"hello")`},
	{"base64 long", bytes.Repeat([]byte("0123456789"), 20), `xmlrpc.client.Binary(b"0123456789" * 20)`},
	{"base64 empty", []byte{}, `xmlrpc.client.Binary(b"")`},
	{"empty array", []any{}, "[]"},
	{"array", []any{1, "a", []any{true}}, `[1, "a", [True]]`},
	{"strings", []string{"a", "b"}, `["a", "b"]`},
	{"ints", []int{0, 2}, `[0, 2]`},
	{"struct", Struct{{"name", "web"}, {"group", "g"}, {"pid", 7}}, `{"name": "web", "group": "g", "pid": 7}`},
	{"empty struct", Struct{}, `{}`},
	{"map sorted", map[string]any{"b": 1, "a": "x"}, `{"a": "x", "b": 1}`},
	{"structs", []Struct{{{"a", 1}}, {{"b", []any{}}}}, `[{"a": 1}, {"b": []}]`},
}

// TestEncodeLikePython compares the response bytes with Python's
// xmlrpc.client.dumps, which Supervisor uses.
func TestEncodeLikePython(t *testing.T) {
	var exprs []string
	for _, c := range encodeCases {
		exprs = append(exprs, c.py)
	}
	exprs = append(exprs, `xmlrpc.client.Fault(10, "BAD_NAME: a & <b>")`, `CALL`)
	script := `
import datetime, json, sys, xmlrpc.client
out = []
for e in json.load(sys.stdin):
    if e == "CALL":
        out.append(xmlrpc.client.dumps((1, "x", [True]), "supervisor.startProcess"))
        continue
    v = eval(e)
    if isinstance(v, xmlrpc.client.Fault):
        out.append(xmlrpc.client.dumps(v))
    else:
        out.append(xmlrpc.client.dumps((v,), methodresponse=True))
print(json.dumps(out))
`
	var want []string
	testreal.RunPython(t, script, exprs, &want)
	for i, c := range encodeCases {
		var buf bytes.Buffer
		if err := encodeResponse(&buf, c.v); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if buf.String() != want[i] {
			t.Errorf("%s:\n got  %q\n want %q", c.name, buf.String(), want[i])
		}
	}
	var buf bytes.Buffer
	encodeFault(&buf, &Fault{Code: 10, String: "BAD_NAME: a & <b>"})
	if got := buf.String(); got != want[len(encodeCases)] {
		t.Errorf("fault:\n got  %q\n want %q", got, want[len(encodeCases)])
	}
	buf.Reset()
	if err := encodeCall(&buf, "supervisor.startProcess", []any{1, "x", []any{true}}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want[len(encodeCases)+1] {
		t.Errorf("call:\n got  %q\n want %q", got, want[len(encodeCases)+1])
	}
}

// TestRoundTrip encodes values as responses and reads them back with the
// client's parser.
func TestRoundTrip(t *testing.T) {
	for _, c := range encodeCases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := encodeResponse(&buf, c.v); err != nil {
				t.Fatal(err)
			}
			got, err := parseResponse(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if want := normalize(c.v); !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
	t.Run("fault", func(t *testing.T) {
		var buf bytes.Buffer
		encodeFault(&buf, newFault(FaultNotRunning, "web:web1"))
		_, err := parseResponse(buf.Bytes())
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultNotRunning || f.String != "NOT_RUNNING: web:web1" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("invalid characters", func(t *testing.T) {
		var buf bytes.Buffer
		if err := encodeResponse(&buf, "a\x00b\x1bc\xffd\xe2\x82e\uFFFEf"); err != nil {
			t.Fatal(err)
		}
		got, err := parseResponse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if want := "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// normalize is what the client decodes a value into: Local's
// clientShape, which this test thereby checks against the codec.
func normalize(v any) any { return clientShape(v) }

func TestPythonRepr(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {1e15, "1000000000000000.0"},
		{1e16, "1e+16"}, {1.5e-5, "1.5e-05"}, {0.0001, "0.0001"}, {1e-300, "1e-300"},
		{123456.789, "123456.789"}, {math.NaN(), "nan"}, {math.Inf(-1), "-inf"},
	} {
		if got := pythonRepr(c.f); got != c.want {
			t.Errorf("pythonRepr(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestPythonBase64(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"aGVsbG8=", "hello", true},
		{"aGVs\nbG8=\n", "hello", true},
		{"aGVsbG8", "", false},
		{"aGVsbA==", "hell", true},
		{"a", "", false},
		{"", "", true},
		{"aGVsbG8=junk", "hello", true},
	} {
		got, err := pythonBase64(c.in)
		if (err == nil) != c.ok || string(got) != c.want {
			t.Errorf("pythonBase64(%q) = %q, %v; want %q, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzParseCall feeds any body to the request parser and the server:
// never a panic, and a body the parser refuses is answered with HTTP 400,
// as Supervisor answers it.
func FuzzParseCall(f *testing.F) {
	for _, b := range callBodies {
		f.Add([]byte(b))
	}
	w := newWorld(f)
	s := w.server()
	h := s.Handler(Auth{})
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, _, perr := parseCall(body, nil)
		code, resp := post(h, string(body))
		if perr != nil && code != 400 {
			t.Fatalf("unparsable body answered %d", code)
		}
		if perr == nil && code == 200 {
			if _, err := parseResponse([]byte(resp)); err != nil {
				var fault *Fault
				if !errors.As(err, &fault) {
					t.Fatalf("response does not parse: %v\n%s", err, resp)
				}
			}
		}
	})
}

// FuzzParseResponse: the client's parser never panics.
func FuzzParseResponse(f *testing.F) {
	for _, c := range encodeCases {
		var buf bytes.Buffer
		encodeResponse(&buf, c.v)
		f.Add(buf.Bytes())
	}
	f.Add([]byte("<methodResponse><fault><value><int>1</int></value></fault></methodResponse>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := parseResponse(body)
		if err == nil {
			var buf bytes.Buffer
			if strings.Contains(fmt.Sprintf("%T", v), "unknown") {
				t.Fatalf("odd value %T", v)
			}
			_ = encodeResponse(&buf, v)
		}
	})
}

// An entity of 100 KB referenced 1000 times (101 KB that would expand to
// 100 MB) is refused before anything is expanded: little memory, and
// HTTP 400 as supervisord answers (expat's amplification limit). A body
// that expands within the limit has its expansion charged first.
func TestEntityExpansionBounded(t *testing.T) {
	body := []byte(entityBodies[0])
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, _, err := parseCall(body, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("parseCall = %v, want ErrMalformed", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("refusing a %d-byte body allocated %d MB", len(body), alloc>>20)
	}
	if code, _ := post(newWorld(t).server().Handler(Auth{}), string(body)); code != 400 {
		t.Errorf("answered %d, want 400", code)
	}

	ok := []byte(entityBodies[1]) // 97 × 100 KB
	charged := 0
	if _, _, _, err := parseCall(ok, func(extra int) error { charged = extra; return nil }); err != nil {
		t.Fatal(err)
	}
	if charged != 97*100_000 {
		t.Errorf("charged %d bytes, want %d", charged, 97*100_000)
	}
	busy := errors.New("busy")
	if _, _, _, err := parseCall(ok, func(int) error { return busy }); err != busy {
		t.Errorf("parseCall with a failing charge = %v", err)
	}
}
