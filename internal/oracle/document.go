package oracle

import (
	"fmt"
	"strings"
	"time"

	"github.com/supersede/supersede/translate"
)

// Options say how to render a document.
type Options struct {
	Lenient bool     // add "snippet" and "placeholders", and the lenient-only fields
	Exec    bool     // add each process's "exec" (a host fact: PATH search)
	Environ []string // supervisord's environment, for the PATH search
	Dir     string   // supervisord's current directory, for relative commands
}

// Document renders cfg as shared/oracle/supervisor-parse.py prints what
// Supervisor understood: the same keys, in the same order, with the same
// value conventions.
func Document(cfg *translate.Config, o Options) Object {
	sd := cfg.Supervisord
	doc := Object{
		{"configfile", cfg.File},
		{"here", cfg.Here},
	}
	if o.Lenient {
		doc = append(doc, Field{"snippet", cfg.Snippet}, Field{"placeholders", envObject(cfg.Placeholders)})
	}
	doc = append(doc,
		Field{"supervisord", Object{
			{"logfile", sd.Logfile},
			{"logfile_maxbytes", sd.LogfileMaxBytes},
			{"logfile_backups", sd.LogfileBackups},
			{"loglevel", sd.LogLevel},
			{"pidfile", sd.Pidfile},
			{"umask", octal(sd.Umask)},
			{"nodaemon", sd.Nodaemon},
			{"silent", sd.Silent},
			{"minfds", sd.MinFDs},
			{"minprocs", sd.MinProcs},
			{"nocleanup", sd.NoCleanup},
			{"childlogdir", sd.ChildLogDir},
			{"user", sd.User},
			{"uid", sd.UID},
			{"directory", sd.Directory},
			{"strip_ansi", sd.StripANSI},
			{"environment", envObject(sd.Environment)},
			{"identifier", sd.Identifier},
		}},
		Field{"servers", servers(cfg.Servers, o.Lenient)},
		Field{"serverurl", cfg.ServerURL},
		Field{"rpcinterfaces", rpcInterfaces(cfg.RPCInterfaces)},
		Field{"groups", groups(cfg, o)},
		Field{"sections", stringList(cfg.Sections)},
		Field{"warnings", stringList(cfg.Warnings)},
		Field{"infos", stringList(cfg.Infos)},
		Field{"supervisorctl", ctl(cfg.Ctl)},
	)
	return doc
}

// ErrorDocument is the oracle's document for a config Supervisor rejects.
func ErrorDocument(err error, cfg *translate.Config, lenient bool) Object {
	doc := Object{{"error", translate.SupervisorMessage(err)}}
	if lenient {
		snippet := false
		var ph translate.Env
		if cfg != nil {
			snippet, ph = cfg.Snippet, cfg.Placeholders
		}
		doc = append(doc, Field{"snippet", snippet}, Field{"placeholders", envObject(ph)})
	}
	return doc
}

func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func envObject(e translate.Env) Object {
	out := make(Object, len(e))
	for i, kv := range e {
		out[i] = Field{kv.Name, kv.Value}
	}
	return out
}

// octal is the oracle's octal_str: "%03o".
func octal(n int) string { return fmt.Sprintf("%03o", n) }

func octalPtr(n *int) any {
	if n == nil {
		return nil
	}
	return octal(*n)
}

func servers(list []translate.Server, lenient bool) []any {
	out := make([]any, 0, len(list))
	for _, s := range list {
		o := Object{
			{"section", s.Section},
			{"name", s.Name},
			{"username", s.Username},
			{"password", s.Password},
		}
		if s.Unix {
			o = append(o,
				Field{"type", "unix_http_server"},
				Field{"file", s.File},
				Field{"chmod", octal(s.Chmod)},
				Field{"chown", []any{intPtr(s.Chown[0]), intPtr(s.Chown[1])}},
			)
			if lenient {
				o = append(o, Field{"chown_names", []any{s.ChownNames[0], s.ChownNames[1]}})
			}
		} else {
			o = append(o, Field{"type", "inet_http_server"}, Field{"host", s.Host}, Field{"port", s.Port})
		}
		out = append(out, o)
	}
	return out
}

func intPtr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func rpcInterfaces(list []translate.RPCInterface) []any {
	out := make([]any, 0, len(list))
	for _, r := range list {
		out = append(out, Object{{"name", r.Name}, {"factory", r.Factory}, {"extras", envObject(r.Extras)}})
	}
	return out
}

// groupSection finds the section the oracle names for a group: the
// [group:x] of that name, else the first [program:x] whose stripped name
// matches. programs maps stripped program names to their first section.
func groupSection(cfg *translate.Config, g *translate.Group, programs map[string]string) (string, bool) {
	switch g.Type {
	case translate.GroupEventListener:
		return "eventlistener:" + g.Name, true
	case translate.GroupFCGI:
		return "fcgi-program:" + g.Name, true
	}
	if _, ok := cfg.SectionFiles["group:"+g.Name]; ok {
		return "group:" + g.Name, true
	}
	s, ok := programs[g.Name]
	return s, ok
}

func groups(cfg *translate.Config, o Options) []any {
	out := make([]any, 0, len(cfg.Groups))
	programs := map[string]string{}
	for _, s := range cfg.Sections {
		if rest, ok := strings.CutPrefix(s, "program:"); ok {
			name := strings.TrimSpace(rest)
			if _, dup := programs[name]; !dup {
				programs[name] = s
			}
		}
	}
	for _, g := range cfg.Groups {
		section, ok := groupSection(cfg, g, programs)
		d := Object{
			{"name", g.Name},
			{"type", g.Type.String()},
		}
		if ok {
			file, found := cfg.SectionFiles[section]
			if !found {
				file = cfg.File // the oracle's section_to_file.get(section, configfile)
			}
			d = append(d, Field{"section", section}, Field{"priority", g.Priority}, Field{"file", file})
		} else {
			d = append(d, Field{"section", nil}, Field{"priority", g.Priority})
		}
		if g.Type == translate.GroupEventListener {
			d = append(d,
				Field{"buffer_size", g.BufferSize},
				Field{"events", stringList(g.Events)},
				Field{"result_handler", g.ResultHandler})
		}
		if g.Type == translate.GroupFCGI {
			d = append(d, Field{"socket", socket(g.Socket, o.Lenient)})
		}
		procs := make([]any, 0, len(g.Processes))
		for _, p := range g.Processes {
			procs = append(procs, process(cfg, p, o))
		}
		d = append(d, Field{"processes", procs})
		out = append(out, d)
	}
	return out
}

func socket(s *translate.Socket, lenient bool) any {
	if s == nil {
		return nil
	}
	o := Object{{"url", s.URL}, {"backlog", s.Backlog}, {"mode", octalPtr(s.Mode)}}
	if s.Owner == nil {
		o = append(o, Field{"owner", nil})
	} else {
		o = append(o, Field{"owner", []any{intPtr(s.Owner[0]), intPtr(s.Owner[1])}})
	}
	if lenient {
		if s.OwnerNames == nil {
			o = append(o, Field{"owner_names", nil})
		} else {
			o = append(o, Field{"owner_names", []any{s.OwnerNames[0], s.OwnerNames[1]}})
		}
	}
	return o
}

func logfile(l translate.Log) any {
	switch l.Kind {
	case translate.LogAuto:
		return "AUTO"
	case translate.LogFile:
		return l.Path
	}
	return nil
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// Process is the document of one process, as it appears in its group's
// "processes": what Supervisor understood of its section.
func Process(cfg *translate.Config, p *translate.Process, o Options) Object {
	return process(cfg, p, o)
}

func process(cfg *translate.Config, p *translate.Process, o Options) Object {
	codes := make([]any, len(p.ExitCodes))
	for i, c := range p.ExitCodes {
		codes[i] = c
	}
	effective := p.ServerURL
	if effective == nil {
		effective = cfg.ServerURL
	}
	d := make(Object, 0, 48)
	d = append(d, []Field{
		{"name", p.Name},
		{"namespec", p.Namespec()},
		{"command", p.Command},
		{"directory", p.Dir},
		{"environment", envObject(p.Env)},
		{"priority", p.Priority},
		{"autostart", p.AutoStart},
		{"autorestart", p.AutoRestart.String()},
		{"exitcodes", codes},
		{"startsecs", seconds(p.MinUptime)},
		{"startretries", p.StartRetries},
		{"stopsignal", translate.SignalName(p.StopSignal)},
		{"stopsignal_num", int(p.StopSignal)},
		{"stopwaitsecs", seconds(p.StopWait)},
		{"stopasgroup", p.StopAsGroup},
		{"killasgroup", p.KillAsGroup},
		{"uid", p.UID},
		{"user", p.User},
		{"umask", octalPtr(p.Umask)},
		{"redirect_stderr", p.RedirectStderr},
		{"serverurl", p.ServerURL},
		{"effective_serverurl", effective},
	}...)
	for _, ch := range []struct {
		name string
		log  translate.Log
	}{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
		d = append(d,
			Field{ch.name + "_logfile", logfile(ch.log)},
			Field{ch.name + "_logfile_maxbytes", ch.log.MaxBytes},
			Field{ch.name + "_logfile_backups", ch.log.Backups},
			Field{ch.name + "_capture_maxbytes", ch.log.CaptureMaxBytes},
			Field{ch.name + "_events_enabled", ch.log.EventsEnabled},
			Field{ch.name + "_syslog", ch.log.Syslog},
		)
	}
	if o.Exec {
		e := translate.ResolveExec(p, o.Environ, o.Dir)
		if e.Err != "" {
			d = append(d, Field{"exec", Object{{"error", e.Err}, {"kind", e.Kind}}})
		} else {
			d = append(d, Field{"exec", Object{{"filename", e.Filename}, {"argv", stringList(e.Argv)}}})
		}
	}
	return d
}

func ctl(c *translate.Ctl) any {
	if c == nil {
		return nil
	}
	if c.Err != "" {
		return Object{{"error", c.Err}}
	}
	return Object{
		{"serverurl", c.ServerURL},
		{"username", c.Username},
		{"password", c.Password},
		{"prompt", c.Prompt},
		{"history_file", c.HistoryFile},
	}
}

// Portable is the oracle's --portable: in every string (keys too) the
// config directory becomes ${HERE}, the current directory ${CWD} (unless
// it is "/"), and the config directory's parent ${HERE}/..
func Portable(v any, here, cwd string) any {
	switch x := v.(type) {
	case string:
		return portableString(x, here, cwd)
	case *string:
		if x == nil {
			return nil
		}
		return portableString(*x, here, cwd)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Portable(e, here, cwd)
		}
		return out
	case Object:
		out := make(Object, len(x))
		for i, f := range x {
			out[i] = Field{portableString(f.Key, here, cwd), Portable(f.Value, here, cwd)}
		}
		return out
	}
	return v
}

func portableString(s, here, cwd string) string {
	if here != "" {
		s = strings.ReplaceAll(s, here, "${HERE}")
	}
	if cwd != "" && cwd != "/" {
		s = strings.ReplaceAll(s, cwd, "${CWD}")
	}
	parent := "/"
	if here != "" {
		parent = here[:strings.LastIndexByte(here, '/')]
		if parent == "" {
			parent = "/"
		}
	}
	if parent != "/" {
		if s == parent {
			s = "${HERE}/.."
		}
		s = strings.ReplaceAll(s, parent+"/", "${HERE}/../")
	}
	return s
}
