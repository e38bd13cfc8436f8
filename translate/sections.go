package translate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// supervisord reads [supervisord] in Supervisor's key order.
func (l *loader) supervisord() {
	const sect = "supervisord"
	sd := &l.cfg.Supervisord
	sd.Pos = l.sectionPos(sect)
	sd.KeyPos = l.keyPositions(sect)
	here := l.hereExp
	get := func(key, def string) (value, bool) {
		return l.get(sect, key, str(def), here)
	}
	getOpt := func(key string) (value, bool, bool) {
		if _, found := l.raw(sect, key); !found {
			return value{}, false, true
		}
		v, ok := l.get(sect, key, nil, here)
		return v, true, ok
	}
	bad := func(v value, err error, hint string) {
		l.fail(v.pos, ErrValue, err.Error(), fmt.Sprintf("%s in [supervisord]", err), hint)
	}
	intKey := func(key, def string, dst *int) {
		v, ok := get(key, def)
		if !ok {
			return
		}
		n, err := pyIntLiteral(v.s)
		if err != nil {
			bad(v, err, key+" is a whole number")
			return
		}
		*dst = int(n)
	}

	sd.MinFDs, sd.MinProcs = 1024, 200
	intKey("minfds", "1024", &sd.MinFDs)
	intKey("minprocs", "200", &sd.MinProcs)
	if v, found, ok := getOpt("directory"); found && ok {
		d, err := l.existingDirectory(v.s)
		if err != nil {
			bad(v, err, "create the directory, or use --lenient when converting for another host")
		}
		sd.Directory = &d
	}
	if v, found, ok := getOpt("user"); found && ok {
		u := v.s
		sd.User = &u
	}
	sd.Umask = 0o22
	if v, ok := get("umask", "022"); ok {
		if n, err := octalType(v.s); err != nil {
			bad(v, err, "write an octal umask such as 022")
		} else {
			sd.Umask = n
		}
	}
	sd.Logfile = "supervisord.log"
	if v, ok := get("logfile", "supervisord.log"); ok {
		p, err := l.existingDirpath(v.s)
		if err != nil {
			bad(v, err, "create the directory, or use --lenient when converting for another host")
		}
		sd.Logfile = p
	}
	sd.LogfileMaxBytes = 50 << 20
	if v, ok := get("logfile_maxbytes", "50MB"); ok {
		if n, err := byteSize(v.s); err != nil {
			bad(v, err, "write a size such as 50MB, 1GB or 1024")
		} else {
			sd.LogfileMaxBytes = n
		}
	}
	sd.LogfileBackups = 10
	intKey("logfile_backups", "10", &sd.LogfileBackups)
	sd.LogLevel = "info"
	if v, ok := get("loglevel", "info"); ok {
		if lv, err := loggingLevel(v.s); err != nil {
			bad(v, err, "use one of critical, error, warn, info, debug, trace, blather")
		} else {
			sd.LogLevel = lv
		}
	}
	sd.Pidfile = "supervisord.pid"
	if v, ok := get("pidfile", "supervisord.pid"); ok {
		p, err := l.existingDirpath(v.s)
		if err != nil {
			bad(v, err, "create the directory, or use --lenient when converting for another host")
		}
		sd.Pidfile = p
	}
	sd.Identifier = "supervisor"
	if v, ok := get("identifier", "supervisor"); ok {
		sd.Identifier = v.s
	}
	boolKey := func(key string, dst *bool) {
		if v, ok := get(key, "false"); ok {
			b, err := boolean(v.s)
			if err != nil {
				bad(v, err, "use true or false")
				return
			}
			*dst = b
		}
	}
	boolKey("nodaemon", &sd.Nodaemon)
	boolKey("silent", &sd.Silent)
	tmp := pyTempDir(l.osEnv, l.opts.Dir)
	sd.ChildLogDir = tmp
	if v, ok := get("childlogdir", tmp); ok {
		d, err := l.existingDirectory(v.s)
		if err != nil {
			bad(v, err, "create the directory, or use --lenient when converting for another host")
		}
		sd.ChildLogDir = d
	}
	boolKey("nocleanup", &sd.NoCleanup)
	boolKey("strip_ansi", &sd.StripANSI)
	if v, ok := get("environment", ""); ok {
		exp := newExpansions()
		exp.setStr("here", l.here)
		exp.setStr("host_node_name", l.opts.Hostname)
		exp.update(l.env)
		s, err := expand(v.s, exp, "environment")
		if err != nil {
			l.fail(v.pos, ErrExpansion, err.Error(), "", expansionHint(err)+" (this value is expanded twice: write a literal % as %%%%)")
		} else if env, err := kvPairs(s); err != nil {
			bad(v, err, `write NAME="value",NAME2="value2"; quote values with blanks or special characters`)
		} else {
			sd.Environment = env
		}
	}
	if sd.Environment == nil {
		sd.Environment = Env{}
	}
	for _, kv := range sd.Environment {
		l.env.setStr("ENV_"+kv.Name, kv.Value)
	}
	// realize: logfile and pidfile are made absolute against the current
	// directory, not the config file's.
	if sd.Logfile != "syslog" {
		sd.Logfile = normalizePath(sd.Logfile, l.opts.Dir, l.home)
	}
	sd.Pidfile = normalizePath(sd.Pidfile, l.opts.Dir, l.home)
}

// resolveSupervisordUser is the last step of realize: [supervisord] user
// becomes a uid.
func (l *loader) resolveSupervisordUser() {
	sd := &l.cfg.Supervisord
	if sd.User == nil {
		return
	}
	uid, _, err := l.lookupUser(*sd.User)
	if err != nil {
		l.fail(sd.KeyPos["user"], ErrHost, err.Error(), "", "create the user, or use --lenient when converting for another host")
		return
	}
	sd.UID = uid
}

// lookupUser is Supervisor's name_to_uid; lenient mode looks nothing up.
// name is the user name as Supervisor reports it: as written (lenient),
// or pwd's name for the uid (strict; nil if there is none).
func (l *loader) lookupUser(s string) (uid *int, name *string, err error) {
	if l.opts.Lenient {
		if n, err := pyIntLiteral(s); err == nil {
			m := int(n)
			return &m, &s, nil
		}
		return nil, &s, nil
	}
	n, err := nameToUID(s)
	if err != nil {
		return nil, nil, err
	}
	if pw := uidName(n); pw != "" {
		name = &pw
	}
	return &n, name, nil
}

// existingDirectory is Supervisor's existing_directory (lenient: only ~).
func (l *loader) existingDirectory(v string) (string, error) {
	nv := pyExpandUser(v, l.home)
	if l.opts.Lenient {
		return nv, nil
	}
	if l.isDir(nv) {
		return nv, nil
	}
	return nv, fmt.Errorf("%s is not an existing directory", v)
}

// existingDirpath is Supervisor's existing_dirpath (lenient: only ~).
func (l *loader) existingDirpath(v string) (string, error) {
	nv := pyExpandUser(v, l.home)
	if l.opts.Lenient {
		return nv, nil
	}
	dir := pyDirname(nv)
	if dir == "" {
		return nv, nil
	}
	if l.isDir(dir) {
		return nv, nil
	}
	//lint:ignore ST1005 Supervisor's exact text
	return nv, fmt.Errorf("The directory named as part of the path %s does not exist", v)
}

// absHost resolves a relative path against the loader's directory for a
// host check.
func (l *loader) absHost(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return pyJoin(l.opts.Dir, p)
}

// entryPoint is pkg_resources.EntryPoint.pattern, which Supervisor uses
// to parse factory specs.
// Python's \s and \w are Unicode-aware; Go's are ASCII, hence the classes.
var entryPoint = func() *regexp.Regexp {
	const sp = `[\s\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`
	const w = `[\p{L}\p{N}_]`
	return regexp.MustCompile(`^` + sp + `*(.+?)` + sp + `*=` + sp + `*((?:` + w + `|\.)+)` + sp +
		`*(:` + sp + `*((?:` + w + `|\.)+))?` + sp + `*(\[.*\])?` + sp + `*$`)
}()

// factorySpec checks a Python factory spec as Supervisor's import_spec
// does, without importing it, and returns it as module:attr.
func factorySpec(spec string) (string, error) {
	out, _, _, err := parseFactorySpec(spec)
	return out, err
}

// resolveFactory is import_spec: in strict mode a spec naming one of
// Supervisor's own modules must name something that module defines (see
// pymodules.go); other Python modules cannot be imported from Go, so their
// specs are resolved only as far as the module's files exist on this
// host; lenient mode only checks the syntax. section is for Supervisor's
// message.
func (l *loader) resolveFactory(spec, section string) (string, error) {
	out, module, attrs, err := parseFactorySpec(spec)
	if err != nil || l.opts.Lenient {
		return out, err
	}
	if module != "supervisor" && !strings.HasPrefix(module, "supervisor.") {
		if !pyModuleExists(module) {
			return out, fmt.Errorf("%s cannot be resolved within [%s]", spec, section)
		}
		return out, nil // its attributes cannot be checked without Python
	}
	names, ok := supervisorModules[module]
	if ok && attrs != "" {
		first, _, _ := strings.Cut(attrs, ".")
		ok = slices.Contains(strings.Fields(names), first)
	}
	if !ok {
		return out, fmt.Errorf("%s cannot be resolved within [%s]", spec, section)
	}
	return out, nil
}

// parseFactorySpec parses "x=" + spec with pkg_resources.EntryPoint.pattern.
func parseFactorySpec(spec string) (out, module, attrs string, err error) {
	src := "x=" + spec
	m := entryPoint.FindStringSubmatch(src)
	if m == nil {
		return "", "", "", fmt.Errorf("(\"EntryPoint must be in 'name=module:attrs [extras]' format\", %s)", pyRepr(src))
	}
	if m[5] != "" {
		if err := checkExtras(m[5]); err != nil {
			return "", "", "", err
		}
	}
	out = m[2]
	if m[4] != "" {
		out += ":" + m[4]
	}
	return out, m[2], m[4], nil
}

// checkExtras is EntryPoint._parse_extras: "[a,b]" must parse as the
// extras of a packaging requirement "x[a,b]", whose identifiers are ASCII
// letters and digits with "-_." inside. The error repeats packaging's:
// where the parse stopped, then what it expected.
func checkExtras(extras string) error {
	rs := []rune("x" + extras)
	loc := 1
	if end, ok := extrasEnd(rs, 1); ok {
		loc = skipReqSpace(rs, end)
		if loc == len(rs) {
			return nil
		}
		if strings.ContainsRune("<>=!~(", rs[loc]) {
			return errors.New("") // a version: Requirement parses, specs are refused
		}
	}
	at := string(rs[loc:min(loc+8, len(rs))])
	//lint:ignore ST1005 packaging's exact text
	return fmt.Errorf("Parse error at \"%s\": Expected string_end", pyRepr(at))
}

// extrasEnd parses "[" [identifier ("," identifier)*] "]" at rs[i].
func extrasEnd(rs []rune, i int) (int, bool) {
	if i >= len(rs) || rs[i] != '[' {
		return 0, false
	}
	i = skipReqSpace(rs, i+1)
	if i < len(rs) && rs[i] == ']' {
		return i + 1, true
	}
	for {
		j, ok := identifierEnd(rs, i)
		if !ok {
			return 0, false
		}
		i = skipReqSpace(rs, j)
		if i < len(rs) && rs[i] == ']' {
			return i + 1, true
		}
		if i >= len(rs) || rs[i] != ',' {
			return 0, false
		}
		i = skipReqSpace(rs, i+1)
	}
}

// identifierEnd parses packaging's IDENTIFIER: alphanumerics, with runs
// of "-_." only between them.
func identifierEnd(rs []rune, i int) (int, bool) {
	alnum := func(r rune) bool { return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
	if i >= len(rs) || !alnum(rs[i]) {
		return 0, false
	}
	end := i + 1
	for j := end; j < len(rs); j++ {
		switch {
		case alnum(rs[j]):
			end = j + 1
		case strings.ContainsRune("-_.", rs[j]):
		default:
			return end, true
		}
	}
	return end, true
}

// skipReqSpace skips pyparsing's default white space.
func skipReqSpace(rs []rune, i int) int {
	for i < len(rs) && strings.ContainsRune(" \t\n\r", rs[i]) {
		i++
	}
	return i
}

// rpcInterfaces reads every [rpcinterface:NAME] (Supervisor's get_plugins).
func (l *loader) rpcInterfaces() []RPCInterface {
	const key = "supervisor.rpcinterface_factory"
	var out []RPCInterface
	for _, s := range l.p.sections {
		if !strings.HasPrefix(s.name, "rpcinterface:") {
			continue
		}
		_, name, _ := strings.Cut(s.name, ":")
		v, found := l.raw(s.name, key)
		if !found {
			l.fail(s.pos, ErrMissing, fmt.Sprintf("section [%s] does not specify a %s", s.name, key), "",
				"add supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface")
			continue
		}
		v, ok := l.get(s.name, key, nil, nil)
		if !ok {
			continue
		}
		spec, err := l.resolveFactory(v.s, s.name)
		if err != nil {
			l.fail(v.pos, ErrValue, err.Error(), "", "write module:attribute, such as supervisor.rpcinterface:make_main_rpcinterface")
			continue
		}
		ri := RPCInterface{Name: name, Factory: spec, Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		for _, k := range l.p.options(s.name) {
			if k == key {
				continue
			}
			ev, ok := l.get(s.name, k, nil, nil)
			if !ok {
				continue
			}
			ri.Extras = append(ri.Extras, EnvVar{k, ev.s})
		}
		out = append(out, ri)
	}
	return out
}

// servers reads [inet_http_server*] then [unix_http_server*].
func (l *loader) servers() []Server {
	var out []Server
	auth := func(s *iniSection, srv *Server) bool {
		u, uok := l.get(s.name, "username", nil, nil)
		pw, pok := l.get(s.name, "password", nil, nil)
		_, hasU := l.raw(s.name, "username")
		_, hasP := l.raw(s.name, "password")
		if hasU != hasP {
			l.fail(s.pos, ErrMissing, fmt.Sprintf("Section [%s] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified", s.name), "", "set both username= and password=, or neither")
			return false
		}
		if hasU && uok {
			srv.Username = str(u.s)
		}
		if hasP && pok {
			srv.Password = str(pw.s)
		}
		return true
	}
	serverName := func(s string) *string {
		if _, name, ok := strings.Cut(s, ":"); ok {
			return &name
		}
		return nil
	}
	for _, s := range l.p.sections {
		if !strings.HasPrefix(s.name, "inet_http_server") {
			continue
		}
		srv := Server{Section: s.name, Name: serverName(s.name), Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		if !auth(s, &srv) {
			continue
		}
		if _, found := l.raw(s.name, "port"); !found {
			l.fail(s.pos, ErrMissing, fmt.Sprintf("section [%s] has no port value", s.name), "", "add port=127.0.0.1:9001")
			continue
		}
		if v, ok := l.get(s.name, "port", nil, nil); ok {
			host, port, err := inetAddress(v.s)
			if err != nil {
				l.fail(v.pos, ErrValue, err.Error(), "", "write port=HOST:PORT")
				continue
			}
			srv.Host, srv.Port = host, port
		} else {
			continue
		}
		out = append(out, srv)
	}
	for _, s := range l.p.sections {
		if !strings.HasPrefix(s.name, "unix_http_server") {
			continue
		}
		srv := Server{Section: s.name, Name: serverName(s.name), Unix: true, Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		here := l.hereExp
		if _, found := l.raw(s.name, "file"); !found {
			l.fail(s.pos, ErrMissing, fmt.Sprintf("section [%s] has no file value", s.name), "", "add file=/run/supervisor.sock")
			continue
		}
		v, ok := l.get(s.name, "file", nil, here)
		if !ok {
			continue
		}
		srv.File = normalizePath(pyStrip(v.s), l.opts.Dir, l.home)
		if !auth(s, &srv) {
			continue
		}
		m1 := -1
		srv.Chown = [2]*int{&m1, &m1}
		if _, found := l.raw(s.name, "chown"); found {
			if v, ok := l.get(s.name, "chown", nil, nil); ok {
				uid, gid, names, err := l.userGroup(v.s)
				if err != nil {
					l.fail(v.pos, ErrValue, "Invalid sockchown value "+v.s, "", "write chown=user:group")
					continue
				}
				srv.Chown = [2]*int{uid, gid}
				if l.opts.Lenient {
					srv.ChownNames = names
				}
			}
		}
		srv.Chmod = 0o700
		if _, found := l.raw(s.name, "chmod"); found {
			if v, ok := l.get(s.name, "chmod", nil, nil); ok {
				n, err := octalType(v.s)
				if err != nil {
					l.fail(v.pos, ErrValue, "Invalid chmod value "+v.s, "", "write an octal mode such as 0700")
					continue
				}
				srv.Chmod = n
			}
		}
		out = append(out, srv)
	}
	return out
}

// userGroup is colon_separated_user_group; lenient mode resolves only
// numbers and reports the names as written.
func (l *loader) userGroup(s string) (uid, gid *int, names [2]*string, err error) {
	user, group, hasGroup := strings.Cut(s, ":")
	if l.opts.Lenient {
		num := func(x string) *int {
			if n, err := pyIntLiteral(x); err == nil {
				m := int(n)
				return &m
			}
			return nil
		}
		uid = num(user)
		names[0] = str(user)
		if hasGroup {
			gid = num(group)
			names[1] = str(group)
		} else {
			m := -1
			gid = &m
		}
		return uid, gid, names, nil
	}
	u, err := nameToUID(user)
	if err != nil {
		return nil, nil, names, err
	}
	g := -1
	if hasGroup {
		if g, err = nameToGID(group); err != nil {
			return nil, nil, names, err
		}
	}
	return &u, &g, names, nil
}

// serverURL is the fallback URL handed to children: the first unix
// server, else the first inet server.
func (l *loader) serverURL() {
	for _, s := range l.cfg.Servers {
		if s.Unix {
			l.cfg.ServerURL = str("unix://" + s.File)
			return
		}
	}
	for _, s := range l.cfg.Servers {
		host := s.Host
		if host == "" {
			host = "localhost"
		}
		l.cfg.ServerURL = str(fmt.Sprintf("http://%s:%d", host, s.Port))
		// Supervisor's loop keeps the last inet server
	}
}

// ctl reads [supervisorctl] the way supervisorctl does: from the main
// file alone, without includes.
func (l *loader) ctl() *Ctl {
	if !l.p.has("supervisorctl") {
		return nil
	}
	c := &Ctl{Prompt: "supervisor"}
	abs := normalizePath(l.path, l.opts.Dir, l.home)
	p := l.ctlIni
	if p == nil {
		// a snippet: supervisorctl reads the file itself, not the wrapper
		data, err := l.opts.readFile(l.absHost(l.path))
		if err != nil {
			c.Err = "could not read config file " + l.path
			return c
		}
		p = newIniParser()
		if errs := p.read(l.path, data); errs != nil {
			c.Err = errs[0].SupervisorText()
			return c
		}
	}
	if !p.has("supervisorctl") {
		c.Err = ".ini file does not include supervisorctl section"
		return c
	}
	env := newExpansions()
	for _, kv := range l.osEnv {
		env.setStr("ENV_"+kv.Name, kv.Value)
	}
	for _, kv := range l.placeholders {
		env.setStr("ENV_"+kv.Name, kv.Value)
	}
	here := newExpansions()
	here.setStr("here", pyDirname(abs))
	get := func(key string, withHere bool) (*string, bool) {
		v, ok := p.get("supervisorctl", key)
		if !ok {
			return nil, true
		}
		s := v.value
		if strings.IndexByte(s, '%') >= 0 {
			combined := env.clone()
			if withHere {
				combined.update(here)
			}
			out, err := expand(s, combined, "supervisorctl."+key)
			if err != nil {
				c.Err = err.Error()
				return nil, false
			}
			s = out
		}
		return &s, true
	}
	c.ServerURL = "http://localhost:9001"
	if u, ok := get("serverurl", true); !ok {
		return c
	} else if u != nil {
		c.ServerURL = *u
	}
	if strings.HasPrefix(c.ServerURL, "unix://") {
		c.ServerURL = "unix://" + normalizePath(c.ServerURL[7:], l.opts.Dir, l.home)
	}
	if v, ok := get("prompt", false); !ok {
		return c
	} else if v != nil {
		c.Prompt = *v
	}
	var ok bool
	if c.Username, ok = get("username", false); !ok {
		return c
	}
	if c.Password, ok = get("password", false); !ok {
		return c
	}
	h, ok := get("history_file", true)
	if !ok {
		return c
	}
	if h != nil && *h != "" {
		c.HistoryFile = str(normalizePath(*h, l.opts.Dir, l.home))
	}
	for _, s := range p.sections {
		if !strings.HasPrefix(s.name, "ctlplugin:") {
			continue
		}
		v, ok := p.get(s.name, "supervisor.ctl_factory")
		if !ok {
			c.Err = fmt.Sprintf("section [%s] does not specify a supervisor.ctl_factory", s.name)
			return c
		}
		if _, err := factorySpec(v.value); err != nil {
			c.Err = err.Error()
			return c
		}
	}
	return c
}
