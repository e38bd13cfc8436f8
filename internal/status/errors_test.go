package status

import (
	"errors"
	"fmt"
	"testing"
)

func TestError(t *testing.T) {
	err := &Error{Kind: ErrNoFile, Detail: "can't find command '/x'"}
	if got := err.Error(); got != "no such file: can't find command '/x'" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, ErrNoFile) || errors.Is(err, ErrNotExecutable) {
		t.Error("errors.Is does not see the kind")
	}
	if got := (&Error{Kind: ErrNotRunning}).Error(); got != "not running" {
		t.Errorf("no detail: %q", got)
	}
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		kind   error
		detail string
	}{
		{"bare", ErrAlreadyStarted, ErrAlreadyStarted, ""},
		{"wrapped", fmt.Errorf("start web: %w", ErrSpawnError), ErrSpawnError, ""},
		{"detail", &Error{Kind: ErrCantReread, Detail: "x.conf:3: bad"}, ErrCantReread, "x.conf:3: bad"},
		{"wrapped detail", fmt.Errorf("stop: %w", &Error{Kind: ErrFailed, Detail: "EPERM"}), ErrFailed, "EPERM"},
		{"joined", errors.Join(errors.New("x"), ErrBadName), ErrBadName, ""},
		{"other", errors.New("disk on fire"), nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			kind, detail := KindOf(c.err)
			if kind != c.kind || detail != c.detail {
				t.Errorf("KindOf = %v, %q; want %v, %q", kind, detail, c.kind, c.detail)
			}
		})
	}
	seen := map[string]bool{}
	for _, k := range Kinds {
		if seen[k.Error()] {
			t.Errorf("two kinds say %q", k)
		}
		seen[k.Error()] = true
	}
}
