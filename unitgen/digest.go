package unitgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/oracle"
	"github.com/supersede/supersede/translate"
)

// ProgramMarker starts the header line of a program's unit that holds
// the digest of the program's Supervisor configuration (programDigest);
// GroupMarker the one of a group's target and socket (groupDigest).
// `supersede ctl reread` and `update` (internal/sysd) compare these
// digests, not the units' text, to tell a changed program from one whose
// unit only maps it differently (another supersede version, another
// order against the others): only the first is restarted, as supervisord
// restarts only what its own comparison calls changed.
const (
	ProgramMarker = "# supersede-program: "
	GroupMarker   = "# supersede-group: "
)

// digestKeys are the keys of a process's oracle document (`show --json`)
// that make its digest: Supervisor 4.2.5's ProcessConfig.req_param_names
// and optional_param_names, the fields its __eq__ compares, and so what
// supervisord's reread (diff_to_active) calls a changed process. Left out,
// as Supervisor leaves them out: user (its uid is compared), namespec (the
// group's name is the group's), stopsignal_num (stopsignal says it),
// effective_serverurl (a [supervisorctl] fallback), exec (a fact of the
// host's PATH at each spawn), and everything that is not configuration
// (files, lines). What only [supervisord] sets (umask, directory, minfds,
// logfile, ...) is not a process's either, so a change there changes no
// program, as under supervisord; [supervisord] environment is, because
// Supervisor merges it into each process's environment.
//
// The names and values are the oracle's schema (Supervisor's own option
// names and value conventions), which changes only when Supervisor's
// reading of a config does: a digest never changes because supersede
// maps a config differently, or grows a field.
var digestKeys = []string{
	"name", "uid", "command", "directory", "umask", "priority",
	"autostart", "autorestart", "startsecs", "startretries",
	"stdout_logfile", "stdout_capture_maxbytes",
	"stdout_events_enabled", "stdout_syslog",
	"stdout_logfile_backups", "stdout_logfile_maxbytes",
	"stderr_logfile", "stderr_capture_maxbytes",
	"stderr_logfile_backups", "stderr_logfile_maxbytes",
	"stderr_events_enabled", "stderr_syslog",
	"stopsignal", "stopwaitsecs", "stopasgroup", "killasgroup",
	"exitcodes", "redirect_stderr",
	"environment", "serverurl",
}

// groupObject is what supervisord compares of a group itself (its
// ProcessGroupConfig, EventListenerPoolConfig or FastCGIGroupConfig
// __eq__): its kind, name and priority, the names of its processes in
// order (their configs are each process's digest), a pool's buffer_size,
// events and result_handler, and an fcgi-program's socket URL (a
// SocketConfig compares nothing else).
func groupObject(grp *translate.Group) oracle.Object {
	names := make([]any, len(grp.Processes))
	for i, p := range grp.Processes {
		names[i] = p.Name
	}
	o := oracle.Object{
		{Key: "name", Value: grp.Name},
		{Key: "type", Value: grp.Type.String()},
		{Key: "priority", Value: grp.Priority},
		{Key: "processes", Value: names},
	}
	if grp.Type == translate.GroupEventListener {
		events := make([]any, len(grp.Events))
		for i, e := range grp.Events {
			events[i] = e
		}
		o = append(o,
			oracle.Field{Key: "buffer_size", Value: grp.BufferSize},
			oracle.Field{Key: "events", Value: events},
			oracle.Field{Key: "result_handler", Value: grp.ResultHandler})
	}
	if grp.Type == translate.GroupFCGI && grp.Socket != nil {
		o = append(o, oracle.Field{Key: "socket", Value: grp.Socket.URL})
	}
	return o
}

// processObject is the part of p's oracle document that digestKeys
// name, in that order: the definition of what a program's digest hashes,
// which appendProcessDigestJSON writes without building the document
// (TestDigestJSON holds the two equal). The environment's variables are sorted by name:
// Supervisor compares them as a dict, in which order does not count.
func processObject(cfg *translate.Config, p *translate.Process) oracle.Object {
	doc := oracle.Process(cfg, p, oracle.Options{})
	out := make(oracle.Object, 0, len(digestKeys))
	for _, k := range digestKeys {
		i := slices.IndexFunc(doc, func(f oracle.Field) bool { return f.Key == k })
		if i < 0 {
			continue // TestDigestKeys: every key is in the document
		}
		v := doc[i].Value
		if env, ok := v.(oracle.Object); ok && k == "environment" {
			env = slices.Clone(env)
			slices.SortStableFunc(env, func(a, b oracle.Field) int { return strings.Compare(a.Key, b.Key) })
			v = env
		}
		if k == "uid" && v == (*int)(nil) && p.User != nil {
			// a lenient read resolves no user name: the name stands
			// for the uid it would have
			k, v = "user", *p.User
		}
		out = append(out, oracle.Field{Key: k, Value: v})
	}
	return out
}

// digest is the SHA-256 of v's oracle JSON, in hex; buf is scratch
// space, returned for the next digest.
func digest(v any, buf []byte) (string, []byte) {
	buf = oracle.Append(buf[:0], v)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), buf
}

// UnitDigest is the digest a unit's header holds (ProgramMarker or
// GroupMarker), or "" for a unit without one: the anchor target, the
// units of supersede serve, and every unit an older supersede wrote.
func UnitDigest(data []byte) string {
	for len(data) > 0 && data[0] == '#' {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		for _, m := range []string{ProgramMarker, GroupMarker} {
			if v, ok := bytes.CutPrefix(line, []byte(m)); ok {
				return m + string(v)
			}
		}
	}
	return ""
}

// groupDigest is the digest of what supervisord compares of grp itself
// (groupObject): it changes when supervisord would call the group changed
// whatever its processes' configs. It is made once per group: a group of
// n processes would make it n times, each over n names.
func (g *generator) groupDigest(grp *translate.Group) string {
	if d, ok := g.groupDigests[grp]; ok {
		return d
	}
	if g.groupDigests == nil {
		g.groupDigests = map[*translate.Group]string{}
	}
	d, buf := digest(groupObject(grp), g.digestBuf)
	g.digestBuf = buf
	g.groupDigests[grp] = d
	return d
}

// programDigest is the digest of a program's Supervisor configuration
// with its group's: two configs of a program have the same digest exactly
// when supervisord's reread finds neither its process config nor its
// group's own settings changed (digestKeys, groupObject; the group's
// enter as its digest). A change of a program's sibling in its group
// changes that sibling's digest, and so its group, as supervisord counts
// it.
func (g *generator) programDigest(pl *planned) string {
	g.digestBuf = appendProcessDigestJSON(g.digestBuf[:0], g.groupDigest(pl.g), pl.p)
	sum := sha256.Sum256(g.digestBuf)
	return hex.EncodeToString(sum[:])
}

// digester makes the programs' digests on a goroutine of its own, ahead
// of the mapping, which takes them in its order (run): they are a fifth
// of the mapping's time, and a generator's second core only writes files
// meanwhile (FreshWriter).
type digester struct {
	sums  []string
	ready []chan struct{} // ready[c] is closed once the sums of chunk c are made
}

// digestChunk is how many digests are made between two signals.
const digestChunk = 16

func startDigests(all []*planned) *digester {
	d := &digester{sums: make([]string, len(all)), ready: make([]chan struct{}, (len(all)+digestChunk-1)/digestChunk)}
	for c := range d.ready {
		d.ready[c] = make(chan struct{})
	}
	go func() {
		w := &generator{} // its own buffer and group digests
		for c := range d.ready {
			for i := c * digestChunk; i < min(len(all), (c+1)*digestChunk); i++ {
				d.sums[i] = w.programDigest(all[i])
			}
			close(d.ready[c])
		}
	}()
	return d
}

// get is the digest of all[i], once it is made.
func (d *digester) get(i int) string {
	<-d.ready[i/digestChunk]
	return d.sums[i]
}

// appendProcessDigestJSON appends what oracle.Append writes for
// {"group": group, "process": processObject(cfg, p)}, written directly:
// building the oracle's document of every process, as a list of boxed
// values, took half of what the digests cost the generator, which runs at
// every boot (docs/PERFORMANCE.md). TestDigestJSON checks it byte for
// byte against the document, on every process of the oracle's cases.
func appendProcessDigestJSON(b []byte, group string, p *translate.Process) []byte {
	key := func(k string) {
		b = append(b, ",\n  "...)
		b = oracle.AppendString(b, k)
		b = append(b, ": "...)
	}
	str := func(k, v string) { key(k); b = oracle.AppendString(b, v) }
	num := func(k string, n int64) { key(k); b = strconv.AppendInt(b, n, 10) }
	boolean := func(k string, v bool) { key(k); b = strconv.AppendBool(b, v) }
	strPtr := func(k string, v *string) {
		if v == nil {
			key(k)
			b = append(b, "null"...)
			return
		}
		str(k, *v)
	}
	b = append(b, "{\n \"group\": "...)
	b = oracle.AppendString(b, group)
	b = append(b, ",\n \"process\": {\n  \"name\": "...)
	b = oracle.AppendString(b, p.Name)
	switch {
	case p.UID != nil:
		num("uid", int64(*p.UID))
	case p.User != nil:
		str("user", *p.User)
	default:
		key("uid")
		b = append(b, "null"...)
	}
	str("command", p.Command)
	strPtr("directory", p.Dir)
	if p.Umask == nil {
		key("umask")
		b = append(b, "null"...)
	} else {
		str("umask", fmt.Sprintf("%03o", *p.Umask))
	}
	num("priority", int64(p.Priority))
	boolean("autostart", p.AutoStart)
	str("autorestart", p.AutoRestart.String())
	num("startsecs", int64(p.MinUptime/time.Second))
	num("startretries", int64(p.StartRetries))
	// the keys in Supervisor's order (digestKeys), not the same for both
	logs := func(l *translate.Log, logfile, capture, events, syslog, backups, maxbytes string, eventsFirst bool) {
		switch l.Kind {
		case translate.LogAuto:
			str(logfile, "AUTO")
		case translate.LogFile:
			str(logfile, l.Path)
		default:
			key(logfile)
			b = append(b, "null"...)
		}
		num(capture, l.CaptureMaxBytes)
		if eventsFirst {
			boolean(events, l.EventsEnabled)
			boolean(syslog, l.Syslog)
		}
		num(backups, int64(l.Backups))
		num(maxbytes, l.MaxBytes)
		if !eventsFirst {
			boolean(events, l.EventsEnabled)
			boolean(syslog, l.Syslog)
		}
	}
	logs(&p.Stdout, "stdout_logfile", "stdout_capture_maxbytes", "stdout_events_enabled", "stdout_syslog", "stdout_logfile_backups", "stdout_logfile_maxbytes", true)
	logs(&p.Stderr, "stderr_logfile", "stderr_capture_maxbytes", "stderr_events_enabled", "stderr_syslog", "stderr_logfile_backups", "stderr_logfile_maxbytes", false)
	str("stopsignal", translate.SignalName(p.StopSignal))
	num("stopwaitsecs", int64(p.StopWait/time.Second))
	boolean("stopasgroup", p.StopAsGroup)
	boolean("killasgroup", p.KillAsGroup)
	key("exitcodes")
	if len(p.ExitCodes) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, '[')
		for i, c := range p.ExitCodes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n   "...)
			b = strconv.AppendInt(b, int64(c), 10)
		}
		b = append(b, "\n  ]"...)
	}
	boolean("redirect_stderr", p.RedirectStderr)
	key("environment")
	if len(p.Env) == 0 {
		b = append(b, "{}"...)
	} else {
		env := p.Env
		if !slices.IsSortedFunc(env, func(x, y translate.EnvVar) int { return strings.Compare(x.Name, y.Name) }) {
			env = slices.Clone(env)
			slices.SortStableFunc(env, func(x, y translate.EnvVar) int { return strings.Compare(x.Name, y.Name) })
		}
		b = append(b, '{')
		for i, kv := range env {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n   "...)
			b = oracle.AppendString(b, kv.Name)
			b = append(b, ": "...)
			b = oracle.AppendString(b, kv.Value)
		}
		b = append(b, "\n  }"...)
	}
	strPtr("serverurl", p.ServerURL)
	return append(b, "\n }\n}"...)
}
