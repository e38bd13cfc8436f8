package ctl

import (
	"slices"
	"testing"
)

func TestComplete(t *testing.T) {
	procs := [][2]string{{"gunicorn", "gunicorn"}, {"web", "web_00"}, {"web", "web_01"}}
	for _, c := range []struct {
		line, text string
		want       []string
	}{
		{"", "", vocabSpaced()},
		{"re", "re", []string{"reload ", "remove ", "reread ", "restart "}},
		{"restart ", "", []string{"gunicorn ", "web:web_00 ", "web:* ", "web:web_01 "}},
		{"restart g", "g", []string{"gunicorn "}},
		{"stop web:", "web:", []string{"web:web_00 ", "web:* ", "web:web_01 "}},
		{"update ", "", []string{"gunicorn ", "web "}},
		{"help st", "st", []string{"start ", "status ", "stop "}},
		{"version ", "", nil},
	} {
		if got := Complete(c.line, c.text, procs); !slices.Equal(got, c.want) {
			t.Errorf("Complete(%q, %q) = %q, want %q", c.line, c.text, got, c.want)
		}
	}
}

func vocabSpaced() []string {
	var out []string
	for _, v := range vocab() {
		out = append(out, v+" ")
	}
	return out
}
