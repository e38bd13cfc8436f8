package translate

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Options are the facts about the host that Supervisor's parser reads
// besides the files. The zero value means "this process on this host",
// exactly as supervisord started here would see it.
type Options struct {
	// Environ is supervisord's environment, the source of %(ENV_X)s.
	// Nil means os.Environ().
	Environ []string

	// Dir is the current directory; relative logfile, pidfile and unix
	// socket paths resolve against it. Empty means os.Getwd().
	Dir string

	// Hostname is %(host_node_name)s. Empty means os.Hostname().
	Hostname string

	// Lenient takes the host facts out, for configs written for another
	// machine: users are not looked up, directories not checked, factory
	// specs not imported, unset %(ENV_X)s names get placeholders, and a
	// conf.d snippet without [supervisord] loads as if included from a
	// minimal main config. Every other error is still reported.
	Lenient bool

	// NoKeyPos leaves every KeyPos map nil, for a reader that reports
	// nothing at a key's line (ctl, the daemon): one map fewer per
	// section. Errors still name their file:line.
	NoKeyPos bool

	// Main, when LoadCtl returned it for the same path and Dir, is the
	// main file as LoadCtl read it: Load parses it no more. supervisorctl
	// reads its section from the file and supervisord the whole file; a
	// command that needs both (ctl over systemd) reads it once. Load
	// takes the parse over, so a Ctl serves one Load.
	Main *Ctl

	// readFile and glob replace the file system in tests and fuzzing.
	readFile func(string) ([]byte, error)
	glob     func(string) []string
}

func (o *Options) fill() error {
	if o.Environ == nil {
		o.Environ = os.Environ()
	}
	if o.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		o.Dir = wd
	}
	if o.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return err
		}
		o.Hostname = h
	}
	if o.readFile == nil {
		o.readFile = os.ReadFile
	}
	if o.glob == nil {
		o.glob = pyGlob
	}
	return nil
}

// environ turns KEY=VALUE strings into a Python-ordered dict.
func environ(list []string) Env {
	var e Env
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		e = e.Set(k, v)
	}
	return e
}

// noSupervisord is the message that makes lenient mode load a snippet.
const noSupervisord = ".ini file does not include supervisord section"

// Load reads the supervisord.conf at path, with its includes, exactly as
// Supervisor 4.2.5 would. On a configuration problem it returns an
// ErrorList with every problem found, first the one supervisord itself
// would report. The Config is returned with the error when the file could
// be read at all, for tools that show what was understood.
func Load(path string, opts Options) (*Config, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if !opts.Lenient {
		l := newLoader(path, opts, nil)
		return l.run()
	}
	cfg, err := loadLenient(path, opts, false)
	if err != nil && SupervisorMessage(err) == noSupervisord {
		if strings.ContainsFunc(path, pyIsSpace) {
			return nil, &Error{Pos: Pos{File: path}, Err: fmt.Errorf("%w: a snippet whose path holds white space cannot be included", ErrInclude),
				Hint: "rename the file, or give it a [supervisord] section"}
		}
		return loadLenient(path, opts, true)
	}
	return cfg, err
}

// loadLenient runs the loader until the placeholders for unset
// %(ENV_X)s names are stable, as the oracle does.
func loadLenient(path string, opts Options, snippet bool) (*Config, error) {
	var (
		placeholders Env
		seen         []envUse
		seenSet      = map[envUse]bool{}
		cfg          *Config
		err          error
	)
	for range 10 {
		l := newLoader(path, opts, placeholders)
		l.snippet = snippet
		cfg, err = l.run()
		for _, u := range l.envUses() {
			if !seenSet[u] {
				seenSet[u] = true
				seen = append(seen, u)
			}
		}
		wanted := placeholdersFor(seen, l.osEnv)
		if slices.Equal(wanted, placeholders) {
			break
		}
		placeholders = wanted
	}
	if cfg != nil {
		cfg.Snippet = snippet
		cfg.Placeholders = placeholders
	}
	return cfg, err
}

// loader is one run of Supervisor's ServerOptions.realize.
type loader struct {
	opts         Options
	path         string // the config file as given
	here         string
	snippet      bool
	osEnv        Env
	placeholders Env
	env          *expansions // Supervisor's environ_expansions
	p            *iniParser
	cfg          *Config
	errs         ErrorList
	home         string
	hereExp      *expansions // {"here": l.here}, the common expansion of most keys
	processCount int         // processes defined so far, against MaxProcesses
	ctlIni       *iniParser  // the main file's [supervisorctl] as read, before includes
	secExp       *expansions // sectionExpansions' dict
	dirs         map[string]bool
}

// isDir reports whether p (relative to the loader's directory) is a
// directory; the answers are kept, as the host does not change during
// one parse and configs name the same log directory many times.
func (l *loader) isDir(p string) bool {
	if d, ok := l.dirs[p]; ok {
		return d
	}
	fi, err := os.Stat(l.absHost(p))
	d := err == nil && fi.IsDir()
	if l.dirs == nil {
		l.dirs = map[string]bool{}
	}
	l.dirs[p] = d
	return d
}

// sectionExpansions returns an empty dict for the expansions of one
// program section: the same one each time, emptied, as nothing keeps a
// section's dict once its processes are made (its values are copied
// into strings), and a thousand sections would otherwise allocate a
// thousand.
func (l *loader) sectionExpansions() *expansions {
	e := l.secExp
	if e == nil {
		e = newExpansions()
		l.secExp = e
		return e
	}
	e.reset() // lets go of the last section's strings
	e.under, e.head = nil, 0
	return e
}

func newLoader(path string, opts Options, placeholders Env) *loader {
	l := &loader{opts: opts, path: path, placeholders: placeholders}
	l.osEnv = environ(opts.Environ)
	l.home, _ = l.osEnv.Get("HOME")
	l.env = newExpansions()
	for _, kv := range l.osEnv {
		l.env.setStr("ENV_"+kv.Name, kv.Value)
	}
	for _, kv := range placeholders {
		l.env.setStr("ENV_"+kv.Name, kv.Value)
	}
	l.here = ConfigDir(path, opts.Dir)
	l.hereExp = newExpansions()
	l.hereExp.setStr("here", l.here)
	return l
}

// pyDirname is os.path.dirname.
func pyDirname(p string) string {
	head, _ := pySplitPath(p)
	return head
}

// abs makes p absolute against the loader's current directory.
func (l *loader) abs(p string) string { return pyAbspath(p, l.opts.Dir) }

// fail records a problem. sup is Supervisor's text; msg, if not empty, a
// better one for file:line output.
func (l *loader) fail(pos Pos, kind error, sup, msg, hint string) {
	if msg == "" {
		msg = sup
	}
	if msg == "" {
		// Supervisor can fail with an empty message (pkg_resources does)
		msg = "Supervisor rejects this without saying why"
	}
	l.errs = append(l.errs, &Error{Pos: pos, Err: fmt.Errorf("%w: %s", kind, msg), Supervisor: sup, Hint: hint, silent: sup == ""})
}

// result returns the Config and the problems found, if any.
func (l *loader) result() (*Config, error) {
	if len(l.errs) > 0 {
		return l.cfg, l.errs
	}
	return l.cfg, nil
}

// run is ServerOptions.realize → read_config, in Supervisor's order.
func (l *loader) run() (*Config, error) {
	l.cfg = &Config{File: l.abs(l.path), Here: l.here}
	if l.snippet {
		l.cfg.File = l.abs(l.path)
	}
	l.p = newIniParser()
	if !l.readMain() {
		return l.result()
	}
	l.cfg.Sections = make([]string, len(l.p.sections))
	l.cfg.SectionFiles = make(map[string]string, len(l.p.sections))
	for i, s := range l.p.sections {
		l.cfg.Sections[i] = s.name
		l.cfg.SectionFiles[s.name] = l.sectionFile(s.name)
	}
	if !l.p.has("supervisord") {
		l.fail(Pos{File: l.path}, ErrMissing, noSupervisord,
			"no [supervisord] section", "add a [supervisord] section, or use --lenient to read a conf.d snippet as if included")
		return l.result()
	}
	l.supervisord()
	l.cfg.RPCInterfaces = l.rpcInterfaces()
	l.cfg.Groups = l.groups()
	for _, g := range l.cfg.Groups {
		for _, p := range g.Processes {
			env := append(Env(nil), l.cfg.Supervisord.Environment...)
			for _, kv := range p.Env {
				env = env.Set(kv.Name, kv.Value)
			}
			p.Env = env
		}
	}
	l.cfg.Servers = l.servers()
	l.resolveSupervisordUser()
	l.serverURL()
	l.cfg.Ctl = l.ctl()
	l.cfg.Notices = l.notices()
	return l.result()
}

// readMain reads the main file and its includes into the ini parser,
// stopping where Supervisor stops.
func (l *loader) readMain() bool {
	var data []byte
	name := l.path
	parsed := false
	if l.snippet {
		pattern := pyGlobEscape(l.abs(l.path))
		data = []byte("[supervisord]\n\n[include]\nfiles = " + strings.ReplaceAll(pattern, "%", "%%") + "\n")
		name = "<lenient: minimal main config>"
	} else if m := l.opts.Main; m != nil && m.main != nil && m.main.path == l.path && m.main.dir == l.opts.Dir {
		l.p, parsed = m.main.p, true
		m.main = nil
	} else {
		fi, err := os.Stat(l.absHost(l.path))
		if err != nil && !errors.Is(err, os.ErrNotExist) || err == nil && fi.IsDir() {
			// Python's open() of a directory fails with IsADirectoryError
			l.fail(Pos{File: l.path}, ErrNoConfig, "could not read config file "+l.path, "", "name a file with -c, not a directory")
			return false
		}
		if err != nil {
			l.fail(Pos{File: l.path}, ErrNoConfig, "could not find config file "+l.path, "", "check the path given with -c")
			return false
		}
		data, err = l.opts.readFile(l.absHost(l.path))
		if err != nil {
			l.fail(Pos{File: l.path}, ErrNoConfig, "could not read config file "+l.path, err.Error(), "check the file's permissions")
			return false
		}
	}
	if !parsed {
		if errs := l.p.read(name, data); errs != nil {
			l.errs = append(l.errs, errs...)
			return false
		}
	}
	if !l.snippet && l.p.has("supervisorctl") {
		l.ctlIni = l.p.snapshot("supervisorctl", "ctlplugin:")
	}
	if !l.p.has("include") {
		return true
	}
	l.p.expandHere(l.here)
	files, ok := l.p.get("include", "files")
	if !ok {
		s := l.p.byName["include"]
		l.fail(s.pos, ErrMissing, ".ini file has [include] section, but no files setting", "",
			"add files = <glob> ... to [include], or remove the section")
		return false
	}
	exp := newExpansions()
	exp.setStr("here", l.here)
	exp.setStr("host_node_name", l.opts.Hostname)
	exp.update(l.env)
	list, err := expand(files.value, exp, "include.files")
	if err != nil {
		l.fail(files.pos, ErrExpansion, err.Error(), "", expansionHint(err))
		return false
	}
	base := l.here
	if l.snippet {
		base = "."
	}
	for _, pattern := range pySplitWhitespace(list) {
		pattern = pyJoin(base, pattern)
		matches := l.opts.glob(pattern)
		if len(matches) == 0 {
			l.cfg.Warnings = append(l.cfg.Warnings, `No file matches via include "`+pattern+`"`)
			continue
		}
		slices.Sort(matches) // Python sorts str by code point: byte order in UTF-8
		for _, f := range matches {
			l.cfg.Infos = append(l.cfg.Infos, `Included extra file "`+f+`" during parsing`)
			data, err := l.opts.readFile(l.absHost(f))
			if err != nil {
				// configparser's read skips a file it cannot open (a
				// directory, say), but Supervisor still runs expand_here
				l.p.expandHere(pyAbspath(pyDirname(f), l.opts.Dir))
				continue
			}
			before := len(l.p.sections)
			if errs := l.p.read(f, data); errs != nil {
				for _, e := range errs {
					e.Hint = strings.TrimSpace(e.Hint + " (included from " + files.pos.String() + ")")
				}
				l.errs = append(l.errs, errs...)
				return false
			}
			for _, s := range l.p.sections[before:] {
				l.p.sectionFile[s.name] = f
			}
			l.p.expandHere(pyAbspath(pyDirname(f), l.opts.Dir))
		}
	}
	return true
}

// pySplitWhitespace is Python's str.split() without arguments.
func pySplitWhitespace(s string) []string { return strings.FieldsFunc(s, pyIsSpace) }

// pyGlobEscape is glob.escape.
func pyGlobEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r == '*' || r == '?' || r == '[' {
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// value is one setting as Supervisor's saneget returns it.
type value struct {
	s   string
	pos Pos
	set bool // false: the default was used
}

// raw returns a key's value without expansion.
func (l *loader) raw(section, key string) (value, bool) {
	v, ok := l.p.get(section, key)
	if !ok {
		return value{}, false
	}
	return value{s: v.value, pos: v.pos, set: true}, true
}

// get is Supervisor's saneget: the value (or def, when the key is
// absent and def is not nil), expanded with environ_expansions plus exp.
// It returns ok=false when the key is absent with no default, or when the
// expansion failed, which it records.
func (l *loader) get(section, key string, def *string, exp *expansions) (value, bool) {
	v, found := l.raw(section, key)
	if !found {
		if def == nil {
			return value{}, false
		}
		v = value{s: *def, pos: l.sectionPos(section)}
	}
	if strings.IndexByte(v.s, '%') < 0 {
		return v, true
	}
	s, err := expand(v.s, layer(l.env, exp), section+"."+key)
	if err != nil {
		l.fail(v.pos, ErrExpansion, err.Error(), "", expansionHint(err))
		return v, false
	}
	v.s = s
	return v, true
}

// expansionHint says what to do about an expansion failure.
func expansionHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "which cannot be expanded") && strings.Contains(msg, "'ENV_"):
		return "set the variable in supervisord's environment, or use --lenient or --env NAME=VALUE"
	case strings.Contains(msg, "which cannot be expanded"):
		return "that name is not available in this key; see the expansion table in Supervisor's docs"
	default:
		return "write a literal % as %%"
	}
}

func (l *loader) sectionPos(section string) Pos {
	if s, ok := l.p.byName[section]; ok {
		return s.pos
	}
	return Pos{File: l.path}
}

// keyPos is where a key was set, or the section header.
func (l *loader) keyPos(section, key string) Pos {
	if v, ok := l.p.get(section, key); ok {
		return v.pos
	}
	return l.sectionPos(section)
}

// keyPositions maps every key of a section (with [DEFAULT]) to its line.
func (l *loader) keyPositions(section string) map[string]Pos {
	if l.opts.NoKeyPos {
		return nil
	}
	s := l.p.byName[section]
	m := make(map[string]Pos, len(s.keys)+len(l.p.defaults.keys))
	for i, k := range l.p.defaults.keys {
		m[k] = l.p.defaults.vals[i].pos
	}
	for i, k := range s.keys {
		m[k] = s.vals[i].pos
	}
	return m
}

// str returns a pointer to s, for defaults.
func str(s string) *string { return &s }

// pyTempDir is tempfile.gettempdir(): the first of $TMPDIR, $TEMP, $TMP,
// /tmp, /var/tmp, /usr/tmp and the current directory in which a file can
// be created, made absolute. Python finds out by creating one; asking
// access(2) for write and search permission gives the same answer
// without writing anything.
func pyTempDir(env Env, cwd string) string {
	var cands []string
	for _, k := range []string{"TMPDIR", "TEMP", "TMP"} {
		if v, ok := env.Get(k); ok && v != "" {
			cands = append(cands, v)
		}
	}
	cands = append(cands, "/tmp", "/var/tmp", "/usr/tmp", cwd)
	for _, c := range cands {
		c = pyAbspath(c, cwd)
		if fi, err := os.Stat(c); err == nil && fi.IsDir() && syscall.Access(c, 2|1 /* W_OK|X_OK */) == nil {
			return c
		}
	}
	return cwd
}
