package fallbacktest

import (
	"regexp"
	"strings"
)

var normalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Main log timestamps: 2026-11-27 12:51:32,262
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`), "YYYY-MM-DD HH:MM:SS,mmm"},
	// status: "pid 1234, uptime 0:00:05", "uptime 1 day, 2:03:04"
	{regexp.MustCompile(`\buptime (\d+ days?, )?\d+:\d\d:\d\d`), "uptime H:MM:SS"},
	// "pid 1234", "with pid 1234", "supervisord started with pid 1234"
	{regexp.MustCompile(`\bpid \d+`), "pid N"},
	// main log: "killing 'x' (1234) with SIGKILL"
	{regexp.MustCompile(`(killing '[^']*') \(\d+\)`), "$1 (N)"},
	// stop times in status: "Nov 27 10:44 AM"
	{regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d [AP]M\b`), "Mon DD HH:MM AM"},
	// `supervisorctl pid`: a line that is only a non-zero number.
	{regexp.MustCompile(`(?m)^[1-9]\d*$`), "N"},
}

// Normalize takes out of s what differs between two runs of the same
// scenario: d's directory becomes {DIR}; pids, uptimes, stop times and
// log timestamps become placeholders ("pid N", "uptime H:MM:SS",
// "Mon DD HH:MM AM", "YYYY-MM-DD HH:MM:SS,mmm"), and a line that is only
// a non-zero number (the output of `supervisorctl pid`) becomes "N".
func (d *Daemon) Normalize(s string) string {
	return Normalize(s, d.Dir)
}

// Normalize is Daemon.Normalize for a daemon whose directory is dir.
func Normalize(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "{DIR}")
	}
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

// NormalizeResult normalizes a supervisorctl run's outputs.
func (d *Daemon) NormalizeResult(r Result) Result {
	r.Stdout = d.Normalize(r.Stdout)
	r.Stderr = d.Normalize(r.Stderr)
	return r
}
