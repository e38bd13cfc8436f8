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

// TestFactorySpecVersionExtras: extras followed by a version parse as a
// requirement, which pkg_resources then refuses with an empty message;
// Supervisor prints that empty message, supersede says more on file:line.
func TestFactorySpecVersionExtras(t *testing.T) {
	_, err := factorySpec("a:b [x]>=1]")
	if err == nil || err.Error() != "" {
		t.Fatalf("got %v, want an error with Python's empty text", err)
	}
	dir := writeTree(t, map[string]string{"s.conf": "[supervisord]\n[rpcinterface:x]\nsupervisor.rpcinterface_factory = a:b [x]>=1]\n"})
	list := configErrors(t, dir, "s.conf", true)
	if got := SupervisorMessage(list); got != "" {
		t.Errorf("Supervisor's message %q, want empty", got)
	}
	if got := list[0].Error(); got != "s.conf:3: invalid value: Supervisor rejects this without saying why (write module:attribute, such as supervisor.rpcinterface:make_main_rpcinterface)" {
		t.Errorf("message %q", got)
	}
}
