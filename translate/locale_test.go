package translate

import "testing"

func TestCoercedLocale(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{nil, "C.UTF-8"},
		{[]string{"PATH=/bin"}, "C.UTF-8"},
		{[]string{"LANG=C"}, "C.UTF-8"},
		{[]string{"LANG=POSIX"}, "C.UTF-8"},
		{[]string{"LC_CTYPE=C", "LANG=en_US.UTF-8"}, "C.UTF-8"},
		{[]string{"LANG=C.UTF-8"}, ""},
		{[]string{"LANG=en_US.UTF-8"}, ""},
		{[]string{"LC_CTYPE=de_DE.UTF-8"}, ""},
		{[]string{"LC_ALL=C"}, ""},
		{[]string{"LC_ALL="}, "C.UTF-8"},
		{[]string{"PYTHONCOERCECLOCALE=0"}, ""},
		{[]string{"PYTHONCOERCECLOCALE=warn"}, "C.UTF-8"},
		{[]string{"LANG=en_US.UTF-8", "LANG=C"}, "C.UTF-8"},
	} {
		if got := CoercedLocale(c.env); got != c.want {
			t.Errorf("CoercedLocale(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}
