package translate

import (
	"fmt"
	"slices"
	"strings"
)

// Notice is something Supervisor accepts silently that is probably a
// mistake: a key or section it ignores. Notices never fail a load.
type Notice struct {
	Pos Pos
	Msg string
}

func (n Notice) String() string { return n.Pos.String() + ": " + n.Msg }

// Keys Supervisor 4.2.5 reads, by section kind (options.py).
var (
	programKeys = strings.Fields(`command process_name numprocs numprocs_start priority
		autostart autorestart startsecs startretries exitcodes stopsignal stopwaitsecs
		stopasgroup killasgroup user directory umask redirect_stderr environment serverurl
		stdout_logfile stdout_logfile_maxbytes stdout_logfile_backups stdout_capture_maxbytes
		stdout_events_enabled stdout_syslog stderr_logfile stderr_logfile_maxbytes
		stderr_logfile_backups stderr_capture_maxbytes stderr_events_enabled stderr_syslog`)
	knownKeys = map[string][]string{
		"supervisord": strings.Fields(`logfile logfile_maxbytes logfile_backups loglevel pidfile
			umask nodaemon silent minfds minprocs nocleanup childlogdir user directory
			strip_ansi environment identifier`),
		"program":          programKeys,
		"eventlistener":    append(slices.Clone(programKeys), "events", "buffer_size", "result_handler"),
		"fcgi-program":     append(slices.Clone(programKeys), "socket", "socket_backlog", "socket_owner", "socket_mode"),
		"group":            {"programs", "priority"},
		"include":          {"files"},
		"unix_http_server": {"file", "chmod", "chown", "username", "password"},
		"inet_http_server": {"port", "username", "password"},
		"supervisorctl":    {"serverurl", "username", "password", "prompt", "history_file"},
	}
	knownSections = []string{"supervisord", "program:", "group:", "eventlistener:", "fcgi-program:",
		"rpcinterface:", "ctlplugin:", "unix_http_server", "inet_http_server", "supervisorctl", "include"}
)

// notices lists the keys and sections Supervisor ignores.
func (l *loader) notices() []Notice {
	var out []Notice
	for _, s := range l.p.sections {
		kind := sectionKind(s.name)
		if strings.HasPrefix(s.name, "rpcinterface:") || strings.HasPrefix(s.name, "ctlplugin:") {
			continue // every key is handed to the factory
		}
		keys, known := knownKeys[kind]
		if !known {
			msg := fmt.Sprintf("section [%s] is not one Supervisor reads; it ignores the whole section", s.name)
			if near := nearest(pyLower(s.name), knownSections); near != "" {
				if strings.HasSuffix(near, ":") {
					_, rest, _ := strings.Cut(s.name, ":")
					near += rest
				}
				msg += fmt.Sprintf(" (did you mean [%s]?", near)
				if pyLower(near) == pyLower(s.name) {
					msg += " section names are case-sensitive"
				}
				msg += ")"
			}
			out = append(out, Notice{s.pos, msg})
			continue
		}
		for i, k := range s.keys {
			if _, inherited := l.p.defaults.find(k); inherited || slices.Contains(keys, k) {
				continue // [DEFAULT] keys reach every section, by design
			}
			msg := fmt.Sprintf("unknown key %q in [%s]; Supervisor ignores it", k, s.name)
			if near := nearest(k, keys); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			out = append(out, Notice{s.vals[i].pos, msg})
		}
	}
	return out
}

// nearest returns the candidate within edit distance 2 of s (or that s
// starts with, for section prefixes), or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if strings.HasSuffix(c, ":") && strings.HasPrefix(s, c) {
			return c
		}
		t := s
		if strings.HasSuffix(c, ":") {
			t, _, _ = strings.Cut(s, ":")
			t += ":"
		}
		if d := editDistance(t, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
