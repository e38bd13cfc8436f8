package translate

import "testing"

// TestFactorySpecExtras pins pkg_resources' parsing of the "[extras]" of
// a factory spec; the expected texts are what Debian's python3 printed.
func TestFactorySpecExtras(t *testing.T) {
	const expected = "Expected string_end"
	tests := []struct{ spec, err string }{
		{"a:b [x]", ""},
		{"a:b [ x , y ]", ""},
		{"a:b []", ""},
		{"a:b [x-1.2_z]", ""},
		{"a:b [x..y]", ""},
		{"a:b [\tx]", ""},
		{"a:b [eventlistener:stdout]", `Parse error at "'[eventli'": ` + expected},
		{"a:b [x y]", `Parse error at "'[x y]'": ` + expected},
		{"a:b [x,]", `Parse error at "'[x,]'": ` + expected},
		{"a:b [x-]", `Parse error at "'[x-]'": ` + expected},
		{"a:b [é]", `Parse error at "'[é]'": ` + expected},
		{"a:b [a'b]", `Parse error at ""[a'b]"": ` + expected},
		{"a:b [x]]", `Parse error at "']'": ` + expected},
		{"a:b [x] [y]", `Parse error at "'[y]'": ` + expected},
		{"a:b [x]z", `("EntryPoint must be in 'name=module:attrs [extras]' format", 'x=a:b [x]z')`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := factorySpec(tt.spec)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("got %q, want %q", got, tt.err)
			}
		})
	}
}
