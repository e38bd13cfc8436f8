package daemon

import "strings"

// UsageError is a problem supervisord reports with its usage(): it
// prints "Error: " and Msg, then "For help, use PROG -h", and exits 2.
// Msg is supervisord's own text.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Repr is Python's repr of a simple string, as supervisord's messages
// quote paths and names.
func Repr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}
