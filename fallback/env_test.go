package fallback

import (
	"slices"
	"testing"
)

// Children get LC_CTYPE=C.UTF-8 when supervisord's Python would have
// coerced its C locale, and nothing new otherwise.
func TestEnvBaseLocaleCoercion(t *testing.T) {
	for _, c := range []struct {
		environ, want []string
	}{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "LC_CTYPE=C.UTF-8"}},
		{[]string{"LC_CTYPE=C", "PATH=/bin"}, []string{"LC_CTYPE=C.UTF-8", "PATH=/bin"}},
		{[]string{"LANG=en_US.UTF-8", "PATH=/bin"}, []string{"LANG=en_US.UTF-8", "PATH=/bin"}},
		{[]string{"LC_ALL=C", "PATH=/bin"}, []string{"LC_ALL=C", "PATH=/bin"}},
	} {
		if got := newEnvBase(c.environ).kv; !slices.Equal(got, c.want) {
			t.Errorf("newEnvBase(%q) = %q, want %q", c.environ, got, c.want)
		}
	}
}
