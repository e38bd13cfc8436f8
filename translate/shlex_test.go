package translate

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"   \t\r\n", nil, ""},
		{"/bin/cat -n", []string{"/bin/cat", "-n"}, ""},
		{"a  b\nc", []string{"a", "b", "c"}, ""},
		{"a # b", []string{"a", "#", "b"}, ""},
		{`echo "a b" 'c d'`, []string{"echo", "a b", "c d"}, ""},
		{`a"b c"d`, []string{"ab cd"}, ""},
		{`''`, []string{""}, ""},
		{`a '' b`, []string{"a", "", "b"}, ""},
		{`a''`, []string{"a"}, ""},
		{`\a\ b`, []string{"a b"}, ""},
		{`"\a\"\\"`, []string{`\a"\`}, ""},
		{`'\a\'`, []string{`\a\`}, ""},
		{"a\\\nb", []string{"a\nb"}, ""},
		{"x\u00a0y \u00e9", []string{"x\u00a0y", "\u00e9"}, ""},
		{"x\vy", []string{"x\vy"}, ""},
		{`"abc`, nil, "No closing quotation"},
		{`'abc`, nil, "No closing quotation"},
		{`abc\`, nil, "No escaped character"},
		{`"abc\`, nil, "No escaped character"},
		{`"abc\"`, nil, "No closing quotation"},
	}
	for _, tt := range tests {
		t.Run("split="+tt.in, func(t *testing.T) {
			got, err := shlexSplit(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
}

func TestShlexKVPairs(t *testing.T) {
	tests := []struct {
		in   string
		want Env
		err  string
	}{
		{"", Env{}, ""},
		{"A=1", Env{{"A", "1"}}, ""},
		{"A=1,B=2", Env{{"A", "1"}, {"B", "2"}}, ""},
		{"A=1;B=2|C=3", Env{{"A", "1"}, {"B", "2"}, {"C", "3"}}, ""},
		{"A=1,", Env{{"A", "1"}}, ""},
		{"A=1,B=2,A=3", Env{{"A", "3"}, {"B", "2"}}, ""},
		{`A="x, y",B='z'`, Env{{"A", "x, y"}, {"B", "z"}}, ""},
		{`A='say "hi"'`, Env{{"A", "say \"hi"}}, ""},
		{`"K"=v`, Env{{`"K"`, "v"}}, ""},
		{"HASH=keep#dropped, LOST=x", Env{{"HASH", "keep"}}, ""},
		{"A=ke#c\nep,B=2", Env{{"A", "keep"}, {"B", "2"}}, ""},
		{"WORDS=two words", Env{{"WORDS", "two"}}, ""},
		{"P=/usr/bin:/bin,Q=(a)+b.c-d", Env{{"P", "/usr/bin:/bin"}, {"Q", "(a)+b.c-d"}}, ""},
		{"A=~/x", Env{{"A", "~"}}, ""},
		{"A=a\"b c\"", Env{{"A", "a\"b"}}, ""},
		{"A=\u00e9", Env{{"A", "\u00e9"}}, ""},
		{"A=1 B=2", nil, "Unexpected end of key/value pairs in value 'A=1 B=2'"},
		{"A=", nil, "Unexpected end of key/value pairs in value 'A='"},
		{"A=a*b", nil, "Unexpected end of key/value pairs in value 'A=a*b'"},
		{"A=1,B", nil, "Unexpected end of key/value pairs in value 'A=1,B'"},
		{"A:1", nil, "Unexpected end of key/value pairs in value 'A:1'"},
		{`A="1`, nil, "No closing quotation"},
		{`A=1,B='`, nil, "No closing quotation"},
	}
	for _, tt := range tests {
		t.Run("kv="+tt.in, func(t *testing.T) {
			got, err := kvPairs(tt.in)
			dtWant(t, got, err, tt.want, tt.err)
		})
	}
	// Many pairs use the index; order and last-wins must be unchanged.
	var b strings.Builder
	var want Env
	for i := 0; i < 100; i++ {
		b.WriteString("K" + strconv.Itoa(i%40) + "=v" + strconv.Itoa(i) + ",")
		want = want.Set("K"+strconv.Itoa(i%40), "v"+strconv.Itoa(i))
	}
	t.Run("kv=many", func(t *testing.T) {
		got, err := kvPairs(b.String())
		dtWant(t, got, err, want, "")
	})
}

// shlexAlphabet are the pieces random shlex inputs are made of.
var shlexAlphabet = append(dtPieces(`ab=,=,"'\#  `+"\t\n\r\v_-/.:()+;*~\u00e9\u00df\u00a0\u03a3\x00"), "A=", "x=1,", `"`, `'`, `\`, "#c\n")

func TestShlexDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var calls [][]any
	var ins []string
	for i := 0; i < 5000; i++ {
		s := dtRandString(rng, shlexAlphabet, 14)
		ins = append(ins, s)
		calls = append(calls, []any{"split", s}, []any{"kv", s})
	}
	res := dtPython(t, calls)
	for i, s := range ins {
		v, err := shlexSplit(s)
		if v == nil {
			v = []string{}
		}
		dtCheck(t, "shlex.split("+strconv.Quote(s)+")", res[2*i], v, err)
		env, err := kvPairs(s)
		pairs := [][2]string{}
		for _, e := range env {
			pairs = append(pairs, [2]string{e.Name, e.Value})
		}
		dtCheck(t, "dict_of_key_value_pairs("+strconv.Quote(s)+")", res[2*i+1], pairs, err)
		if t.Failed() && i > 100 {
			t.FailNow()
		}
	}
}

// FuzzShlexSplit checks that shlexSplit neither panics nor hangs (the
// fuzzing engine reports inputs that hang) and keeps its invariants.
func FuzzShlexSplit(f *testing.F) {
	for _, s := range []string{"", "a b", `"a b" 'c'`, `\`, `"\"`, "a\\\nb", "\xff\"'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := shlexSplit(s)
		if err != nil && v != nil {
			t.Fatalf("both a value and an error")
		}
		if err != nil && err != errShlexNoClosingQuotation && err != errShlexNoEscapedCharacter {
			t.Fatalf("unexpected error %v", err)
		}
		if n := 0; err == nil {
			for _, w := range v {
				n += len(w)
			}
			if n > len(s) {
				t.Fatalf("output longer than input")
			}
		}
	})
}

// FuzzKVPairs checks that kvPairs neither panics nor hangs and never
// returns a duplicate key.
func FuzzKVPairs(f *testing.F) {
	for _, s := range []string{"", "A=1,B=2", `A="x y"`, "A=a#b\nc", "A=\u00e9,B=\xff", `"`, "A=1 B=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		env, err := kvPairs(s)
		if err != nil && env != nil {
			t.Fatalf("both a value and an error")
		}
		seen := map[string]bool{}
		for _, e := range env {
			if seen[e.Name] {
				t.Fatalf("duplicate key %q", e.Name)
			}
			seen[e.Name] = true
		}
	})
}
