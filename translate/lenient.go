package translate

import (
	"slices"
	"strings"
)

// This file gives unset %(ENV_X)s names their lenient placeholders,
// following shared/oracle/supervisor-parse.py (placeholders_for) exactly,
// so that a lenient run here and the oracle's agree.

// envUse is one %(ENV_X)s reference: the name, the section kind, the key
// and the whole raw value.
type envUse struct {
	name, kind, key, value string
}

// sectionKind is the kind of a section by the prefixes Supervisor tests.
func sectionKind(section string) string {
	for _, k := range [...]struct{ prefix, kind string }{
		{"program:", "program"},
		{"eventlistener:", "eventlistener"},
		{"fcgi-program:", "fcgi-program"},
		{"group:", "group"},
		{"unix_http_server", "unix_http_server"},
		{"inet_http_server", "inet_http_server"},
	} {
		if strings.HasPrefix(section, k.prefix) {
			return k.kind
		}
	}
	return section
}

// envRefs yields the X of every %(ENV_X) in value; the key ends at the
// matching ")". "%%(" is not skipped: log file names are expanded twice.
func envRefs(value string) []string {
	var out []string
	i := 0
	for {
		j := strings.Index(value[i:], "%(")
		if j < 0 {
			return out
		}
		i += j
		k, depth := i+2, 1
		for k < len(value) && depth > 0 {
			switch value[k] {
			case '(':
				depth++
			case ')':
				depth--
			}
			k++
		}
		if depth > 0 {
			return out
		}
		key := value[i+2 : k-1]
		if name, ok := strings.CutPrefix(key, "ENV_"); ok {
			out = append(out, name)
		}
		i = k
	}
}

// envUses lists the references in everything the ini parser holds
// ([DEFAULT] inherited), as the oracle's env_occurrences does.
func (l *loader) envUses() []envUse {
	var out []envUse
	if l.p == nil {
		return nil
	}
	for i, k := range l.p.defaults.keys {
		v := l.p.defaults.vals[i].value
		for _, n := range envRefs(v) {
			out = append(out, envUse{n, "DEFAULT", k, v})
		}
	}
	for _, s := range l.p.sections {
		kind := sectionKind(s.name)
		for _, k := range l.p.items(s.name) {
			iv, _ := l.p.get(s.name, k)
			for _, n := range envRefs(iv.value) {
				out = append(out, envUse{n, kind, k, iv.value})
			}
		}
	}
	return out
}

// typedDefault is a key that needs a number, boolean or keyword, with the
// value Supervisor uses when it is absent and the converter that checks it.
type typedDefault struct {
	value  string
	accept func(string) bool
}

func acceptErr[T any](f func(string) (T, error)) func(string) bool {
	return func(s string) bool { _, err := f(s); return err == nil }
}

var (
	tInt      = acceptErr(pyIntLiteral)
	tBool     = acceptErr(boolean)
	tSize     = acceptErr(byteSize)
	tOctal    = acceptErr(octalType)
	tSignal   = acceptErr(signalNumber)
	tExit     = acceptErr(listOfExitcodes)
	tRestart  = acceptErr(autoRestart)
	tLevel    = acceptErr(loggingLevel)
	tPort     = acceptErr(portNumber)
	tInetAddr = func(s string) bool { _, _, err := inetAddress(s); return err == nil }
)

// processTyped is the oracle's _PROCESS_TYPED.
func processTyped() map[string]typedDefault {
	m := map[string]typedDefault{
		"priority":        {"999", tInt},
		"autostart":       {"true", tBool},
		"autorestart":     {"unexpected", tRestart},
		"startsecs":       {"1", tInt},
		"startretries":    {"3", tInt},
		"stopsignal":      {"TERM", tSignal},
		"stopwaitsecs":    {"10", tInt},
		"stopasgroup":     {"false", tBool},
		"killasgroup":     {"true", tBool},
		"exitcodes":       {"0", tExit},
		"redirect_stderr": {"false", tBool},
		"numprocs":        {"1", tInt},
		"numprocs_start":  {"0", tInt},
		"umask":           {"022", tOctal},
	}
	for _, ch := range []string{"stdout", "stderr"} {
		m[ch+"_logfile_maxbytes"] = typedDefault{"50MB", tSize}
		m[ch+"_logfile_backups"] = typedDefault{"10", tInt}
		m[ch+"_capture_maxbytes"] = typedDefault{"0", tSize}
		m[ch+"_events_enabled"] = typedDefault{"false", tBool}
		m[ch+"_syslog"] = typedDefault{"false", tBool}
	}
	return m
}

// typedKeys is the oracle's _TYPED, by section kind.
var typedKeys = func() map[string]map[string]typedDefault {
	with := func(base map[string]typedDefault, extra map[string]typedDefault) map[string]typedDefault {
		for k, v := range extra {
			base[k] = v
		}
		return base
	}
	return map[string]map[string]typedDefault{
		"supervisord": {
			"minfds":           {"1024", tInt},
			"minprocs":         {"200", tInt},
			"umask":            {"022", tOctal},
			"logfile_maxbytes": {"50MB", tSize},
			"logfile_backups":  {"10", tInt},
			"loglevel":         {"info", tLevel},
			"nodaemon":         {"false", tBool},
			"silent":           {"false", tBool},
			"nocleanup":        {"false", tBool},
			"strip_ansi":       {"false", tBool},
		},
		"program": processTyped(),
		"eventlistener": with(processTyped(), map[string]typedDefault{
			"priority":    {"-1", tInt},
			"buffer_size": {"10", tInt},
		}),
		"fcgi-program": with(processTyped(), map[string]typedDefault{
			"socket_backlog": {"1024", tInt},
			"socket_mode":    {"0700", tOctal},
		}),
		"group":            {"priority": {"999", tInt}},
		"unix_http_server": {"chmod": {"0700", tOctal}},
		"inet_http_server": {"port": {"9001", tInetAddr}},
	}
}()

var portDefault = typedDefault{"9001", tPort}

// typedUse is the oracle's _typed_use.
func typedUse(u envUse) (typedDefault, bool) {
	ref := "%(ENV_" + u.name + ")s"
	if u.value == ref {
		if t, ok := typedKeys[u.kind][u.key]; ok {
			return t, true
		}
	}
	if strings.HasSuffix(u.value, ":"+ref) {
		if u.kind == "inet_http_server" && u.key == "port" {
			return portDefault, true
		}
		if u.kind == "fcgi-program" && u.key == "socket" && strings.HasPrefix(u.value, "tcp://") {
			return portDefault, true
		}
	}
	return typedDefault{}, false
}

// placeholdersFor is the oracle's placeholders_for: a value for every
// referenced name that osEnv does not set, sorted by name.
func placeholdersFor(uses []envUse, osEnv Env) Env {
	byName := map[string][]envUse{}
	var order []string
	for _, u := range uses {
		if _, set := osEnv.Get(u.name); set {
			continue
		}
		if _, seen := byName[u.name]; !seen {
			order = append(order, u.name)
		}
		byName[u.name] = append(byName[u.name], u)
	}
	var out Env
	for _, name := range order {
		where := byName[name]
		var typed []typedDefault
		for _, u := range where {
			if t, ok := typedUse(u); ok {
				typed = append(typed, t)
			}
		}
		var v string
		switch {
		case len(typed) > 0:
			v = typed[0].value
			for _, cand := range typed {
				all := true
				for _, t := range typed {
					if !t.accept(cand.value) {
						all = false
						break
					}
				}
				if all {
					v = cand.value
					break
				}
			}
		case envKeyUse(where):
			v = "(" + name + ")"
		default:
			v = "<" + name + ">"
		}
		out = append(out, EnvVar{name, v})
	}
	slices.SortFunc(out, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func envKeyUse(where []envUse) bool {
	for _, u := range where {
		switch u.kind {
		case "supervisord", "program", "eventlistener", "fcgi-program":
			if u.key == "environment" {
				return true
			}
		}
	}
	return false
}
