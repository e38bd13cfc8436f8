package oracle

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// jsonTestPython runs script with Debian's python3 (JSON in, JSON out).
func jsonTestPython(t *testing.T, script string, in, out any) {
	t.Helper()
	testreal.RunPython(t, script, in, out)
}

// TestMarshalTable checks fixed values; the expected texts were printed by
// Python's json.dumps(..., indent=1).
func TestMarshalTable(t *testing.T) {
	s := "x"
	n := 7
	var nilStr *string
	var nilInt *int
	type myInt int
	type myStr string
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "null"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int", -12, "-12"},
		{"int64", int64(math.MinInt64), "-9223372036854775808"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"string", "a/b\"c\\d\n\r\t\b\f\x00\x1f\x7f é€😀", `"a/b\"c\\d\n\r\t\b\f\u0000\u001f\u007f \u00e9\u20ac\ud83d\ude00"`},
		{"surrogates", "\xed\xa0\x80\x80", `"\ud800\udc80"`},
		{"*string", &s, `"x"`},
		{"nil *string", nilStr, "null"},
		{"*int", &n, "7"},
		{"nil *int", nilInt, "null"},
		{"empty list", []any{}, "[]"},
		{"empty object", Object{}, "{}"},
		{"nil object", Object(nil), "{}"},
		{"[]string", []string{"a", "b"}, "[\n \"a\",\n \"b\"\n]"},
		{"[]int", []int{1, 2}, "[\n 1,\n 2\n]"},
		{"empty []string", []string{}, "[]"},
		{"named int", myInt(3), "3"},
		{"named string", myStr("é"), `"\u00e9"`},
		{"map", map[string]int{"b": 1, "a": 2}, "{\n \"a\": 2,\n \"b\": 1\n}"},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.5, 1e16, 1e15, 123456789.125, 1e-5, 0.0001, math.Inf(1), math.Inf(-1), math.NaN()},
			"[\n 0.0,\n -0.0,\n 1.5,\n 1e+16,\n 1000000000000000.0,\n 123456789.125,\n 1e-05,\n 0.0001,\n Infinity,\n -Infinity,\n NaN\n]"},
		{"nested", Object{{"a", []any{}}, {"b", Object{}}, {"c", []any{1, Object{{"d", nil}}, []any{[]any{}}}}},
			"{\n \"a\": [],\n \"b\": {},\n \"c\": [\n  1,\n  {\n   \"d\": null\n  },\n  [\n   []\n  ]\n ]\n}"},
		{"struct fallback", struct{ A int }{1}, `"{1}"`},
		{"error fallback", errors.New("boom"), `"boom"`},
		{"complex fallback", complex(1, 2), `"(1+2i)"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Marshal(tc.v)); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestMarshalCycle checks that a self-containing slice does not recurse
// forever.
func TestMarshalCycle(t *testing.T) {
	s := []any{nil}
	s[0] = s
	if out := Marshal(s); !bytes.Contains(out, []byte(`"<too deep>"`)) {
		t.Fatal("cycle not cut")
	}
}

// jsonTestString returns a random string of troublesome code points, with
// surrogates written as WTF-8.
func jsonTestString(rng *rand.Rand) string {
	special := []rune{0, 1, 8, 9, 10, 12, 13, 31, ' ', '"', '\\', '/', '~', 0x7f, 0x80, 0xe9, 0xff, 0x2028,
		0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfeff, 0xffff, 0x10000, 0x1f600, 0x10ffff}
	b := []byte{}
	for n := rng.IntN(8); n > 0; n-- {
		var r rune
		switch rng.IntN(4) {
		case 0:
			r = rune(rng.IntN(0x110000))
		case 1:
			r = rune(' ' + rng.IntN(95))
		default:
			r = special[rng.IntN(len(special))]
		}
		if r >= 0xD800 && r <= 0xDFFF {
			b = append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
		} else {
			b = append(b, string(r)...)
		}
	}
	if rng.IntN(10) == 0 {
		b = append(b, 0x80+byte(rng.IntN(0x80))) // a byte that is not UTF-8
	}
	return string(b)
}

// jsonTestValue returns a random nested value.
func jsonTestValue(rng *rand.Rand, depth int) any {
	k := rng.IntN(14)
	if depth > 4 && k >= 10 {
		k = rng.IntN(10)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return rng.IntN(2000) - 1000
	case 3:
		return int64(rng.Uint64())
	case 4, 5:
		return jsonTestString(rng)
	case 6:
		s := jsonTestString(rng)
		return &s
	case 7:
		switch rng.IntN(4) {
		case 0:
			return math.Float64frombits(rng.Uint64())
		case 1:
			return float64(rng.IntN(1<<20)) / 64
		case 2:
			return math.Pow(10, float64(rng.IntN(40)-20)) * float64(rng.IntN(100)+1)
		}
		return rng.NormFloat64()
	case 8:
		return []string{jsonTestString(rng), jsonTestString(rng)}[:rng.IntN(3)]
	case 9:
		return []int{rng.IntN(100), -rng.IntN(100)}[:rng.IntN(3)]
	case 10, 11:
		l := make([]any, rng.IntN(4))
		for i := range l {
			l[i] = jsonTestValue(rng, depth+1)
		}
		return l
	}
	o := Object{}
	seen := map[string]bool{}
	for n := rng.IntN(4); n > 0; n-- {
		key := jsonTestString(rng)
		if seen[key] {
			continue
		}
		seen[key] = true
		o = append(o, Field{key, jsonTestValue(rng, depth+1)})
	}
	return o
}

// TestMarshalAgainstPython checks that Python's json.dumps(json.loads(out),
// indent=1) reproduces Marshal's output exactly for random nested values:
// any difference in layout, escaping or number format would show.
func TestMarshalAgainstPython(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var docs []string
	for range 2000 {
		docs = append(docs, string(Marshal(jsonTestValue(rng, 0))))
	}
	var got []string
	jsonTestPython(t, `
import sys, json
docs = json.load(sys.stdin)
json.dump([json.dumps(json.loads(d), indent=1) for d in docs], sys.stdout)
`, docs, &got)
	if len(got) != len(docs) {
		t.Fatalf("python3 returned %d documents for %d", len(got), len(docs))
	}
	fails := 0
	for i := range docs {
		if docs[i] != got[i] {
			t.Errorf("Marshal gave\n%s\nPython re-dumps it as\n%s", docs[i], got[i])
			if fails++; fails > 10 {
				t.Fatal("too many failures")
			}
		}
	}
}

// TestMarshalFloatsAgainstPython compares float formatting with Python's
// repr on random doubles.
func TestMarshalFloatsAgainstPython(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var bits []string
	var ours []string
	for range 3000 {
		var f float64
		switch rng.IntN(3) {
		case 0:
			f = math.Float64frombits(rng.Uint64())
		case 1:
			f = math.Pow(10, float64(rng.IntN(44)-22)) * float64(rng.IntN(1000))
		default:
			f = float64(rng.Int64N(1<<62)) / float64(int64(1)<<rng.IntN(62))
		}
		bits = append(bits, strconv.FormatUint(math.Float64bits(f), 16))
		ours = append(ours, string(Marshal(f)))
	}
	var got []string
	jsonTestPython(t, `
import sys, json, struct
bits = json.load(sys.stdin)
json.dump([json.dumps(struct.unpack('<d', int(b, 16).to_bytes(8, 'little'))[0], indent=1) for b in bits], sys.stdout)
`, bits, &got)
	for i := range ours {
		if ours[i] != got[i] {
			t.Errorf("float %s: got %s, Python %s", bits[i], ours[i], got[i])
		}
	}
}

// TestWriteEqualsMarshal checks that Write, which flushes as it goes,
// writes exactly what Marshal returns, across many flush boundaries.
func TestWriteEqualsMarshal(t *testing.T) {
	var list []any
	for i := range 5000 {
		list = append(list, Object{{"n", i}, {"s", strings.Repeat("é\"x", i%7)}, {"l", []any{nil, true, "a\nb"}}})
	}
	doc := Object{{"list", list}, {"empty", Object{}}}
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if want := Marshal(doc); !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Write and Marshal differ (%d vs %d bytes)", buf.Len(), len(want))
	}
}
