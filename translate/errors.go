package translate

import (
	"errors"
	"fmt"
	"strings"
)

// Pos is a place in a configuration file.
type Pos struct {
	File string // as the user named it (or as the include glob found it)
	Line int    // 1-based; 0 when only the file is known
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// IsValid reports whether p names a file.
func (p Pos) IsValid() bool { return p.File != "" }

// Error is a problem at a place in the configuration.
//
// Err says what is wrong for a reader of file:line. Supervisor is the
// exact text supervisord 4.2.5 prints after "Error: " when this is the
// first problem it meets; it is empty when that text is Err's.
type Error struct {
	Pos        Pos
	Err        error
	Supervisor string
	Hint       string // what to do about it, if there is something to say

	silent bool // Supervisor's text is empty (not "the same as Err")
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Pos.IsValid() {
		s = e.Pos.String() + ": " + s
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// SupervisorText is what supervisord would print after "Error: ".
func (e *Error) SupervisorText() string {
	if e.silent || e.Supervisor != "" {
		return e.Supervisor
	}
	return e.Err.Error()
}

// Sentinel errors; errors.Is sees them through an Error.
var (
	ErrSyntax    = errors.New("syntax error")
	ErrValue     = errors.New("invalid value")
	ErrExpansion = errors.New("cannot expand")
	ErrMissing   = errors.New("missing setting")
	ErrHost      = errors.New("host check failed")
	ErrNoConfig  = errors.New("no config file")
	ErrInclude   = errors.New("include failed")
	ErrReference = errors.New("unknown reference")
)

// ErrorList is every problem found in one run, in the order supervisord
// would meet them: the first is the one supervisord reports.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see every error in the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// SupervisorMessage returns the text supervisord would print after
// "Error: " for err: the first problem in Supervisor's order.
func SupervisorMessage(err error) string {
	var list ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return list[0].SupervisorText()
	}
	var e *Error
	if errors.As(err, &e) {
		return e.SupervisorText()
	}
	return err.Error()
}
