package unitgen

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/supersede/supersede/translate"
)

// Versions of systemd the mapping knows (reference/systemd.md §4).
const (
	// DefaultVersion is the oldest systemd that runs the units without
	// loss: Type=exec and StandardOutput=append: arrived in 240.
	DefaultVersion = 240
	// MinVersion is the oldest systemd supported at all (Amazon Linux 2).
	MinVersion = 219
)

// RestartDelay is RestartSec= of every unit: how long systemd waits before
// a restart. Supervisor restarts a RUNNING process that died at once and
// waits 1 s, 2 s, 3 s … between failed starts; systemd 252 has only a
// constant delay, and this is its default.
const RestartDelay = 100 * time.Millisecond

// Options control the mapping.
type Options struct {
	Prefix         string   // put before every unit name
	User           bool     // units for a user manager (systemd --user)
	SystemdVersion int      // the oldest systemd to run the units; 0 means DefaultVersion
	LogFiles       bool     // keep Supervisor's log files (StandardOutput=append:) instead of the journal
	Environ        []string // environment for finding executables (PATH); nil means os.Environ()
	Dir            string   // directory relative paths resolve against; "" means os.Getwd()
	// Shim is the absolute path of the supersede binary that units run as
	// their compatibility step (internal/shim, docs/MAPPING.md) for
	// Supervisor's backoff, startsecs and spawn checks; "" writes units
	// with systemd directives alone, which retry faster than Supervisor.
	Shim  string
	Serve string // the supersede executable: write the units of supersede serve (serve.go); "" writes none
	// Emit, when not nil, is given each unit as soon as it is made, in
	// the order made, while Generate goes on (so that writing can
	// overlap with mapping: FreshWriter). Generate may still fail
	// after: then the caller must drop the units it was given. A unit's
	// Data never changes after it was emitted.
	Emit func(Unit)
	// MaxWarnings, when above 0, is how many warnings Result.Warnings
	// keeps; the others are only counted (Result.MoreWarnings), and their
	// messages are not made: a generator logs ten.
	MaxWarnings int
}

// ShimVersion is the oldest systemd the compatibility step works with:
// it needs Type=exec (240) and RuntimeDirectoryPreserve= (235).
const ShimVersion = 240

// StateDir is the compatibility step's state directory of a unit, in
// specifiers: its RuntimeDirectory= under the manager's runtime directory
// (/run, or $XDG_RUNTIME_DIR for a user manager).
const StateDir = "%t/supersede/%N"

// LocaleFile is the file in StateDir where the compatibility step writes
// the LC_CTYPE supervisord's Python would have given the program
// (internal/shim.LocaleFile, which unitgen must not import).
const LocaleFile = "locale"

// Unit is one generated unit file.
type Unit struct {
	Name     string
	Data     []byte
	Pos      translate.Pos // the section it comes from
	WantedBy []string      // targets whose .wants/ should link it: only the anchor, which wants every autostart unit
}

// Warning is something the units cannot do exactly as Supervisor did.
type Warning struct {
	Pos  translate.Pos
	Unit string
	Msg  string
}

func (w Warning) String() string {
	if w.Pos.IsValid() {
		return w.Pos.String() + ": " + w.Msg
	}
	return w.Msg
}

// Result is the units for one configuration.
type Result struct {
	Config   string // the main config file they come from
	Units    []Unit // sorted by name
	Warnings []Warning
	// MoreWarnings is how many warnings there were beyond
	// Options.MaxWarnings.
	MoreWarnings int
}

// Generate maps cfg to systemd units. Errors are *translate.Error values
// naming file:line, collected in a translate.ErrorList; on error no
// result is returned, so nothing half-done can be written.
func Generate(cfg *translate.Config, opts Options) (*Result, error) {
	if opts.SystemdVersion == 0 {
		opts.SystemdVersion = DefaultVersion
	}
	if opts.SystemdVersion < MinVersion {
		return nil, fmt.Errorf("systemd %d is too old: supersede needs %d or later", opts.SystemdVersion, MinVersion)
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	if opts.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		opts.Dir = wd
	}
	if _, err := UnitName(opts.Prefix, anchorName, Target); err != nil {
		return nil, fmt.Errorf("prefix %q: %w", opts.Prefix, err)
	}
	if p, err := plain(opts.Prefix, false); err != nil || p == "" && opts.Prefix != "" {
		return nil, fmt.Errorf("prefix %q: %v", opts.Prefix, err)
	}
	g := &generator{cfg: cfg, opts: opts, res: &Result{Config: cfg.File}}
	g.run()
	if len(g.errs) > 0 {
		return nil, g.errs
	}
	slices.SortFunc(g.res.Units, func(a, b Unit) int { return strings.Compare(a.Name, b.Name) })
	return g.res, nil
}

type generator struct {
	arena        []byte // where units are written (serialize.go)
	emitted      int    // how many of res.Units went to opts.Emit
	warned       map[warnKey]bool
	scratch      []byte                      // header being built
	groupDigests map[*translate.Group]string // groupDigest of each group, made once
	restarts     map[string][][2]string      // restartShim's lines by its inputs (restartKey), made once
	digestBuf    []byte                      // scratch for the digests' JSON
	sources      map[string]string           // section → absolute file
	dirs         map[string]bool             // isDir's answers
	execs        map[execKey]translate.Exec  // resolveExec's answers
	warnedNPROC  bool
	cfg          *translate.Config
	opts         Options
	res          *Result
	errs         translate.ErrorList
}

func (g *generator) errorf(pos translate.Pos, hint, format string, args ...any) {
	g.errs = append(g.errs, &translate.Error{Pos: pos, Err: fmt.Errorf(format, args...), Hint: hint})
}

// warnf records a warning. One setting of a numprocs section would warn
// once per process: the same format at the same place is said once.
func (g *generator) warnf(pos translate.Pos, unitName, format string, args ...any) {
	key := warnKey{pos, format}
	if g.warned[key] {
		return
	}
	if g.warned == nil {
		g.warned = map[warnKey]bool{}
	}
	g.warned[key] = true
	if g.opts.MaxWarnings > 0 && len(g.res.Warnings) >= g.opts.MaxWarnings {
		g.res.MoreWarnings++
		return
	}
	g.res.Warnings = append(g.res.Warnings, Warning{Pos: pos, Unit: unitName, Msg: fmt.Sprintf(format, args...)})
}

type warnKey struct {
	pos    translate.Pos
	format string
}

// keyPos is where key was set for p, or p's section header.
func keyPos(p *translate.Process, key string) translate.Pos {
	if pos, ok := p.KeyPos[key]; ok {
		return pos
	}
	return p.Pos
}

func (g *generator) bootTarget() string {
	if g.opts.User {
		return "default.target"
	}
	return "multi-user.target"
}

// planned is a process with its unit name, in Supervisor's start order.
type planned struct {
	p      *translate.Process
	g      *translate.Group
	name   string
	target string // the group's target, or ""
	level  int    // start-order level: units of level n start after those of n-1
}

func (g *generator) run() {
	var all []*planned
	names := map[string]translate.Pos{}
	claim := func(name string, pos translate.Pos) bool {
		if prev, ok := names[name]; ok {
			g.errorf(pos, "rename one of them, or use another --prefix", "unit name %s is already taken by %s", name, prev)
			return false
		}
		names[name] = pos
		return true
	}
	anchor := AnchorTarget(g.opts.Prefix)
	names[anchor] = translate.Pos{}
	level, last := -1, [2]int{}
	for _, grp := range g.cfg.Groups {
		target, err := GroupTarget(g.opts.Prefix, grp)
		if err != nil {
			g.errorf(grp.Pos, "use a shorter group name or prefix", "group %s: %v", grp.Name, err)
			continue
		}
		if target != "" {
			if target == anchor {
				g.errorf(grp.Pos, "rename the group, or use --prefix", "group %s would need the unit name %s, which supersede keeps for its anchor target", grp.Name, anchor)
				continue
			}
			if !claim(target, grp.Pos) {
				continue
			}
		}
		for _, p := range grp.Processes {
			if (p.ArgvErr != nil || len(p.Argv) == 0) && (g.opts.Shim == "" || g.opts.SystemdVersion < ShimVersion) {
				g.warnf(keyPos(p, "command"), "", "%s: %s: supervisord fails it at every spawn and ends it FATAL; without the compatibility step (--shim, systemd %d or later) it gets no unit", p.Namespec(), translate.ResolveExec(p, g.opts.Environ, g.opts.Dir).Err, ShimVersion)
				continue
			}
			name, err := ServiceName(g.opts.Prefix, p)
			if err != nil {
				g.errorf(p.Pos, "use a shorter process_name or prefix", "%s: %v", p.Namespec(), err)
				continue
			}
			if !claim(name, p.Pos) {
				continue
			}
			key := [2]int{grp.Priority, p.Priority}
			if level < 0 || key != last {
				level++
				last = key
			}
			all = append(all, &planned{p: p, g: grp, name: name, target: target, level: level})
		}
	}
	if len(g.errs) > 0 {
		return
	}
	byLevel := map[int][]string{}
	for _, pl := range all {
		byLevel[pl.level] = append(byLevel[pl.level], pl.name)
	}
	var sockets = map[*translate.Group]string{}
	for _, grp := range g.cfg.Groups {
		if grp.Type == translate.GroupFCGI && len(grp.Processes) > 0 {
			sockets[grp] = g.socketUnit(grp, all)
		}
	}
	digests := startDigests(all)
	for i, pl := range all {
		g.service(pl, byLevel[pl.level-1], sockets[pl.g], digests.get(i))
		g.emit()
	}
	g.orderWarnings(all, len(byLevel))
	for _, grp := range g.cfg.Groups {
		if hasTarget(grp) {
			g.groupTarget(grp, all)
		}
	}
	g.anchor(anchor, all)
	g.serve()
	g.emit()
}

// emit gives opts.Emit the units made since it was last called.
func (g *generator) emit() {
	if g.opts.Emit == nil || len(g.errs) > 0 {
		return
	}
	for ; g.emitted < len(g.res.Units); g.emitted++ {
		g.opts.Emit(g.res.Units[g.emitted])
	}
}

// header is the comment that starts every generated unit. Its first line
// is how WriteDir tells supersede's units from foreign ones; digest, when
// not "", is the line of a program's or group's digest (digest.go).
func (g *generator) header(pos translate.Pos, section, digest string) []byte {
	b := append(g.scratch[:0], GeneratedMarker...)
	if pos.IsValid() {
		b = append(b, " from "...)
		b = append(b, commentSafe(g.sourcePath(pos, section))...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(pos.Line), 10)
		b = append(b, " ("...)
		b = append(b, commentSafe("["+section+"]")...)
		b = append(b, ')')
	}
	b = append(b, ".\n"...)
	b = append(b, configMarker...)
	b = append(b, commentSafe(g.cfg.File)...)
	if digest != "" {
		b = append(b, '\n')
		b = append(b, digest...)
	}
	b = append(b, "\n# Do not edit: change the Supervisor config and run supersede again.\n"...)
	g.scratch = b
	return b // copied by render
}

// GeneratedMarker starts the first line of every unit supersede writes.
const GeneratedMarker = "# Automatically generated by supersede"

// configMarker starts the header line naming the main config file, which
// --prune uses to find the units one config generated.
const configMarker = "# supersede-config: "

func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func opt(section, name, value string) unit.UnitOption {
	return unit.UnitOption{Section: section, Name: name, Value: value}
}

// sourcePath is the absolute file a section comes from.
func (g *generator) sourcePath(pos translate.Pos, section string) string {
	if f, ok := g.cfg.SectionFiles[section]; ok {
		return f
	}
	if filepath.IsAbs(pos.File) {
		return pos.File
	}
	if f, ok := g.sources[pos.File]; ok {
		return f
	}
	if g.sources == nil {
		g.sources = map[string]string{}
	}
	f := filepath.Join(g.opts.Dir, pos.File)
	g.sources[pos.File] = f
	return f
}

// service makes pl's unit; digest is its programDigest.
func (g *generator) service(pl *planned, after []string, socket, digest string) {
	p := pl.p
	o := make([]unit.UnitOption, 0, 64)
	add := func(section, name, value string) { o = append(o, opt(section, name, value)) }
	plainOr := func(key, value string, specifiers bool) (string, bool) {
		v, err := plain(value, specifiers)
		if err != nil {
			g.errorf(keyPos(p, key), "change the value: systemd cannot take it as it is", "%s: %s=%q cannot be written to a unit: %v", p.Namespec(), key, value, err)
			return "", false
		}
		return v, true
	}

	add("Unit", "Description", text("Supervisor program "+p.Namespec()))
	if src, ok := plainOr("", g.sourcePath(p.Pos, p.Section), true); ok {
		add("Unit", "SourcePath", src)
	}
	if pl.target != "" {
		add("Unit", "PartOf", pl.target)
	}
	// Stopping the anchor is supervisord's shutdown: it stops every
	// program, in one transaction, which After= orders as supervisord
	// does, the highest priority first, each waiting for the ones after.
	add("Unit", "PartOf", AnchorTarget(g.opts.Prefix))
	if len(after) > 0 {
		add("Unit", "After", strings.Join(after, " "))
	}
	if socket != "" {
		add("Unit", "Requires", socket)
		add("Unit", "After", socket)
	}
	shim := g.shim(pl)
	if pl.g.Type == translate.GroupEventListener && g.servesEvents(shim) {
		events := g.eventsSocket()
		add("Unit", "Requires", events)
		add("Unit", "After", events)
	}
	// A command supervisord cannot spawn (an unclosed quote, an empty
	// command =) fails only that program, at every spawn: BACKOFF, then
	// FATAL. Its unit does the same through the step, whatever its
	// autorestart, and the others are written and start as usual.
	spawnErr := ""
	if p.ArgvErr != nil || len(p.Argv) == 0 {
		spawnErr = translate.ResolveExec(p, g.opts.Environ, g.opts.Dir).Err
		shim = g.opts.Shim // run checked that there is one
		g.warnf(keyPos(p, "command"), pl.name, "%s: %s: supervisord fails it at every spawn and ends it FATAL; so does its unit, and the other programs start", p.Namespec(), spawnErr)
	}
	burst, interval := startLimit(p)
	if shim != "" {
		// The step decides FATAL itself; systemd's own rate limit
		// would also stop a program that Supervisor restarts for ever.
		add("Unit", "StartLimitIntervalSec", "0")
	} else if g.opts.SystemdVersion >= 229 {
		add("Unit", "StartLimitIntervalSec", interval)
		add("Unit", "StartLimitBurst", strconv.Itoa(burst))
	}

	if g.opts.SystemdVersion >= 240 {
		add("Service", "Type", "exec")
	} else {
		add("Service", "Type", "simple")
	}
	workDir := ""
	if p.Dir != nil {
		dir := *p.Dir
		if !filepath.IsAbs(dir) {
			abs := filepath.Join(g.opts.Dir, dir)
			g.warnf(keyPos(p, "directory"), pl.name, "directory=%s is relative; systemd needs an absolute path, so WorkingDirectory=%s", dir, abs)
			dir = abs
		}
		if !g.isDir(dir) {
			g.warnf(keyPos(p, "directory"), pl.name, "directory=%s does not exist on this host: every start will fail (\"supervisor: couldn't chdir to %s\"), as under Supervisor, until it is created", dir, dir)
		}
		workDir = dir
	}
	if shim != "" {
		g.shimSteps(p, add, shim, workDir, spawnErr == "")
	}
	if spawnErr != "" {
		add("Service", "ExecStart", execLine(shim, []string{shim, "shim", "spawn-error", spawnErr}))
	} else if line, ok := g.execStart(pl, shim); ok {
		add("Service", "ExecStart", line)
	}
	if p.Dir != nil {
		if v, ok := plainOr("directory", workDir, true); ok {
			if shim != "" {
				// "-": the step checks the directory first and says what
				// Supervisor says; systemd's own failure would say nothing.
				v = "-" + v
			}
			add("Service", "WorkingDirectory", v)
		}
	} else if d := g.cfg.Supervisord.Directory; d != nil && filepath.IsAbs(*d) {
		if v, ok := plainOr("directory", *d, true); ok {
			add("Service", "WorkingDirectory", v)
		}
	}
	g.user(pl, add, plainOr)
	umask := g.cfg.Supervisord.Umask
	if p.Umask != nil {
		umask = *p.Umask
	}
	add("Service", "UMask", fmt.Sprintf("%04o", umask&0o7777))
	g.environment(pl, add)
	g.limits(add)

	// With the step, Supervisor's retries of a failed start apply
	// whatever autorestart says (restartShim); without it,
	// autorestart=false is Restart=no.
	g.restart(p, add, shim != "", spawnErr != "")
	if g.opts.SystemdVersion < 229 {
		add("Service", "StartLimitInterval", interval)
		add("Service", "StartLimitBurst", strconv.Itoa(burst))
	}
	add("Service", "KillSignal", signalName(p.StopSignal))
	add("Service", "TimeoutStopSec", stopTimeout(p.StopWait))
	switch {
	case p.StopAsGroup:
		add("Service", "KillMode", "control-group")
	case p.KillAsGroup:
		add("Service", "KillMode", "mixed")
		g.warnf(keyPos(p, "killasgroup"), pl.name, "killasgroup=true without stopasgroup becomes KillMode=mixed: systemd SIGKILLs the remaining processes as soon as the main process exits, where Supervisor left them running")
	default:
		add("Service", "KillMode", "process")
	}
	// The kernel's OOM killer ends the process it picks, and supervisord
	// notices only when that is the program itself. systemd (243 and
	// later; OOMPolicy=stop by default) would stop the whole unit when
	// it kills any process of it, a worker of the program's too. An
	// older systemd ignores the line with a warning, and has no such
	// policy.
	add("Service", "OOMPolicy", "continue")

	if socket != "" {
		add("Service", "Sockets", socket)
		add("Service", "StandardInput", "socket")
	}
	g.logging(pl, add)

	if p.AutoStart {
		add("Install", "WantedBy", g.bootTarget())
	}
	if shim != "" && spawnErr == "" {
		if _, ok := p.Env.Get("LC_CTYPE"); !ok {
			for _, name := range []string{"LANG", "LC_ALL"} {
				if _, set := p.Env.Get(name); set {
					g.warnf(keyPos(p, "environment"), pl.name, "%s: environment sets %s, which hides the manager's own locale from the unit: it gets no LC_CTYPE=C.UTF-8, which supervisord's Python gives its children when it starts in the C locale (set LC_CTYPE in environment= to decide)", p.Namespec(), name)
					break
				}
			}
		}
	}
	if pl.g.Type == translate.GroupEventListener {
		if g.servesEvents(shim) {
			g.listenerWarning(pl) // serve.go: supersede serve runs the pool
		} else if shim != "" {
			g.warnf(pl.g.Pos, pl.name, "[%s] is an event listener: systemd delivers no Supervisor events; it runs with a standard input that stays open and never delivers one, so it waits, RUNNING, as for events that never come (use supersede run to serve it events)", pl.g.Section)
		} else {
			g.warnf(pl.g.Pos, pl.name, "[%s] is an event listener: systemd delivers no Supervisor events, and its standard input is /dev/null: it reads end-of-file, which most listeners take as an error, so it will likely crash until FATAL (use supersede run to serve it events)", pl.g.Section)
		}
	}
	g.res.Units = append(g.res.Units, Unit{Name: pl.name, Data: g.render(g.header(p.Pos, p.Section, ProgramMarker+digest), o), Pos: p.Pos})
}

// execStart is ExecStart= for p: the executable as Supervisor would find
// it (absolute), and argv as Supervisor would pass it.
func (g *generator) execStart(pl *planned, shim string) (string, bool) {
	p := pl.p
	pos := keyPos(p, "command")
	if p.ArgvErr != nil || len(p.Argv) == 0 {
		ex := translate.ResolveExec(p, g.opts.Environ, g.opts.Dir)
		g.errorf(pos, "fix the command", "%s: %s", p.Namespec(), ex.Err)
		return "", false
	}
	dir := g.opts.Dir
	if p.Dir != nil {
		dir = *p.Dir // the child runs the command after chdir(directory)
	}
	ex := g.resolveExec(p, dir)
	filename := ex.Filename
	if ex.Err != "" {
		program := p.Argv[0]
		switch {
		case ex.Kind == "NotFound" && !strings.Contains(program, "/"):
			if g.opts.SystemdVersion < 239 {
				g.errorf(pos, "install it, or write its absolute path in command=", "%s: %s, and systemd before 239 needs an absolute path", p.Namespec(), ex.Err)
				return "", false
			}
			if strings.ContainsAny(program[:1], "-@:+!|") {
				g.errorf(pos, "write its absolute path in command=", "%s: %s, and a bare name starting with %q would be read as an ExecStart= prefix", p.Namespec(), ex.Err, program[:1])
				return "", false
			}
			filename = program
			g.warnf(pos, "", "%s: %s on this host; systemd will look for %q in its own search path when the unit starts", p.Namespec(), ex.Err, program)
		default:
			filename = program
			if !filepath.IsAbs(filename) {
				filename = filepath.Join(dir, filename)
			}
			g.warnf(pos, "", "%s: %s on this host", p.Namespec(), ex.Err)
		}
	} else if !filepath.IsAbs(filename) {
		filename = filepath.Join(dir, filename)
	}
	if g.servesEvents(shim) && pl.g.Type == translate.GroupEventListener {
		return g.listenerExec(shim, filename, p.Argv), true // serve.go
	} else if shim != "" && pl.g.Type == translate.GroupEventListener {
		return execLine(shim, append([]string{shim, "shim", "hold-stdin", filename}, p.Argv...)), true
	} else if shim != "" {
		// The step execs the program with SIGXFSZ ignored, as
		// supervisord's children start, which no directive can say; the
		// program stays the unit's main process.
		// It records the exec's time in StateDir, from which the
		// startsecs step counts (unquoted, as the other steps' StateDir:
		// systemd expands its specifiers).
		line := execLine(shim, []string{shim, "shim", "exec"}) + " --state " + StateDir
		for _, w := range append([]string{filename}, p.Argv...) {
			line += " " + quoteWord(w)
		}
		return line, true
	}
	return execLine(filename, p.Argv), true
}

// isDir reports whether dir is a directory on this host. A thousand
// programs share a handful of directories: each is looked at once.
func (g *generator) isDir(dir string) bool {
	if ok, seen := g.dirs[dir]; seen {
		return ok
	}
	fi, err := os.Stat(dir)
	if g.dirs == nil {
		g.dirs = map[string]bool{}
	}
	g.dirs[dir] = err == nil && fi.IsDir()
	return g.dirs[dir]
}

// execKey is what translate.ResolveExec's answer depends on, besides the
// manager's environment (the same for the whole run) and argv after
// argv[0] (which it only passes on).
type execKey struct {
	program, dir, path string
	hasPath            bool // the process's environment sets PATH (to path)
}

// resolveExec is translate.ResolveExec for a command that parsed,
// looked up once for each program, directory and PATH: a thousand
// processes run a handful of commands, and each lookup is a stat or more.
func (g *generator) resolveExec(p *translate.Process, dir string) translate.Exec {
	path, hasPath := p.Env.Get("PATH")
	key := execKey{program: p.Argv[0], dir: dir, path: path, hasPath: hasPath}
	ex, ok := g.execs[key]
	if !ok {
		ex = translate.ResolveExec(p, g.opts.Environ, dir)
		if g.execs == nil {
			g.execs = map[execKey]translate.Exec{}
		}
		g.execs[key] = ex
	}
	if ex.Err == "" {
		ex.Argv = p.Argv
	}
	return ex
}

func (g *generator) user(pl *planned, add func(string, string, string), plainOr func(string, string, bool) (string, bool)) {
	p := pl.p
	user, key := p.User, "user"
	var pos translate.Pos
	if user != nil {
		pos = keyPos(p, "user")
	} else if u := g.cfg.Supervisord.User; u != nil {
		user, key = u, "user"
		pos = g.cfg.Supervisord.KeyPos["user"]
	}
	if user == nil {
		return
	}
	if g.opts.User {
		g.warnf(pos, pl.name, "user=%s is left out: a user manager runs every unit as its own user", *user)
		return
	}
	if v, ok := plainOr(key, *user, true); ok {
		add("Service", "User", v)
		switch {
		case *user == "nobody" || *user == "65534":
			g.warnf(pos, pl.name, "user=%s: systemd warns that running a service as nobody is not safe (nobody owns the files of unmapped users); consider a user of its own", *user)
		case !strictUserName(*user):
			g.warnf(pos, pl.name, "user=%s is not a user name by systemd's strict rules (letters, digits, '_' and '-', at most 31); systemd accepts it with a warning", *user)
		}
	}
}

// strictUserName reports whether systemd 252 accepts name as a user name
// without a warning: a number, or [a-zA-Z_][a-zA-Z0-9_-]* of at most 31
// characters (valid_user_group_name without VALID_USER_RELAX).
func strictUserName(name string) bool {
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		return true
	}
	if name == "" || len(name) > 31 || ('0' <= name[0] && name[0] <= '9') || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (g *generator) environment(pl *planned, add func(string, string, string)) {
	p := pl.p
	// Supervisor sets these, then the program's environment over them.
	url := p.ServerURL
	if url == nil {
		url = g.cfg.ServerURL
	}
	own := [...]translate.EnvVar{{Name: "SUPERVISOR_ENABLED", Value: "1"}, {Name: "SUPERVISOR_PROCESS_NAME", Value: p.Name}, {Name: "SUPERVISOR_GROUP_NAME", Value: p.Group}, {Name: "SUPERVISOR_SERVER_URL"}}
	n := len(own)
	if url == nil {
		n--
	} else {
		own[3].Value = *url
	}
	for i := range own[:n] {
		if v, ok := p.Env.Get(own[i].Name); ok {
			own[i].Value = v
		}
		g.envLine(p, own[i], add)
	}
	for _, kv := range p.Env {
		if !strings.HasPrefix(kv.Name, "SUPERVISOR_") || !slices.ContainsFunc(own[:n], func(o translate.EnvVar) bool { return o.Name == kv.Name }) {
			g.envLine(p, kv, add)
		}
	}
	// systemd sets these for every process of a service; supervisord's
	// children have none of their own (under supervisor.service they
	// inherit supervisord's, which describe supervisord): a program that
	// compares JOURNAL_STREAM with its stderr, or SYSTEMD_EXEC_PID with
	// its pid, must find what it found under supervisord (docs/MAPPING.md).
	// UnsetEnvironment= also removes what environment= sets, so those
	// are kept; MAINPID, which the steps read, is not the program's.
	if g.opts.SystemdVersion >= 235 {
		var unset []string
		for _, name := range SystemdServiceVars {
			if _, set := p.Env.Get(name); !set {
				unset = append(unset, name)
			}
		}
		if len(unset) > 0 {
			add("Service", "UnsetEnvironment", strings.Join(unset, " "))
		}
	}
}

// SystemdServiceVars are the variables systemd 252 sets for every process
// of a service that supervisord would not give a program
// (systemd.exec(5), "Environment Variables in Spawned Processes"): the
// others are the manager's own environment, which supervisord started by
// the same manager would pass on too, or come only with directives the
// units do not use (NOTIFY_SOCKET, WATCHDOG_*, the credential and
// directory variables).
var SystemdServiceVars = [...]string{"INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID", "MANAGERPID"}

func (g *generator) envLine(p *translate.Process, kv translate.EnvVar, add func(string, string, string)) {
	line, err := quoteEnv(kv.Name, kv.Value)
	if err != nil {
		pos := keyPos(p, "environment")
		if _, own := p.KeyPos["environment"]; !own {
			if sp, ok := g.cfg.Supervisord.KeyPos["environment"]; ok {
				pos = sp
			}
		}
		g.errorf(pos, "rename the variable or change its value in environment=", "%s: %v", p.Namespec(), err)
		return
	}
	add("Service", "Environment", line)
}

func (g *generator) limits(add func(string, string, string)) {
	sd := g.cfg.Supervisord
	if sd.MinFDs > 1024 {
		add("Service", "LimitNOFILE", fmt.Sprintf("%d:%d", sd.MinFDs, max(sd.MinFDs, 524288)))
	}
	if pos, ok := sd.KeyPos["minprocs"]; ok && sd.MinProcs > 200 {
		add("Service", "LimitNPROC", strconv.Itoa(sd.MinProcs))
		if !g.warnedNPROC {
			g.warnedNPROC = true
			g.warnf(pos, "", "minprocs=%d becomes LimitNPROC=%d: systemd sets the limit to exactly %d processes per user, where Supervisor only raised it to at least %d", sd.MinProcs, sd.MinProcs, sd.MinProcs, sd.MinProcs)
		}
	}
}

// startLimit maps startretries and startsecs onto systemd's start rate
// limit (reference/systemd.md §1.5): startretries+1 starts are allowed
// within the time those starts would take if every one lasted startsecs.
// A crash loop (runs shorter than startsecs) hits the limit and the unit
// ends failed, Supervisor's FATAL; a program that keeps running longer
// than startsecs between deaths is restarted for ever, as Supervisor does.
// With startsecs=0 Supervisor never gives up on a program that started, so
// the limit only catches programs that cannot be executed at all.
func startLimit(p *translate.Process) (burst int, interval string) {
	burst = p.StartRetries + 1
	d := time.Duration(burst) * (p.MinUptime + RestartDelay)
	return burst, formatDuration(d)
}

func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// stopTimeout is TimeoutStopSec= for stopwaitsecs. 0 means "SIGKILL at
// once" to Supervisor but "no timeout" to systemd, so it becomes 1ms.
func stopTimeout(d time.Duration) string {
	if d <= 0 {
		return "1ms"
	}
	return formatDuration(d)
}

func signalName(sig syscall.Signal) string {
	n := translate.SignalName(sig)
	if _, err := strconv.Atoi(n); err == nil {
		return n
	}
	return "SIG" + n
}

// restart writes the restart policy of reference/systemd.md §1.4: systemd
// counts exit 0 and SIGHUP, SIGINT, SIGTERM, SIGPIPE as clean, Supervisor
// counts every exit code outside exitcodes and every death by signal as
// unexpected.
func (g *generator) restart(p *translate.Process, add func(string, string, string), shim, spawnErr bool) {
	if shim {
		g.restartShim(p, add, onlyFailedStarts(p, spawnErr))
		return
	}
	var success []string
	zero := false
	for _, c := range p.ExitCodes {
		if c == 0 {
			zero = true
			continue
		}
		success = append(success, strconv.Itoa(c))
	}
	switch p.AutoRestart {
	case translate.RestartAlways:
		add("Service", "Restart", "always")
	case translate.RestartNever:
		add("Service", "Restart", "no")
	default:
		add("Service", "Restart", "on-failure")
	}
	if len(success) > 0 {
		add("Service", "SuccessExitStatus", strings.Join(success, " "))
	}
	if p.AutoRestart == translate.RestartUnexpected {
		force := "SIGHUP SIGINT SIGTERM SIGPIPE"
		if !zero {
			force = "0 " + force
		}
		add("Service", "RestartForceExitStatus", force)
	}
	add("Service", "RestartSec", formatDuration(RestartDelay))
}

func (g *generator) logging(pl *planned, add func(string, string, string)) {
	p := pl.p
	out := g.stream(pl, "stdout", p.Stdout)
	add("Service", "StandardOutput", out)
	if p.RedirectStderr {
		add("Service", "StandardError", "inherit")
	} else {
		add("Service", "StandardError", g.stream(pl, "stderr", p.Stderr))
	}
	if id, err := plain(p.Name, true); err == nil {
		add("Service", "SyslogIdentifier", id)
	} else {
		add("Service", "SyslogIdentifier", text(p.Name))
	}
	for _, ch := range []struct {
		name string
		log  translate.Log
	}{{"stdout", p.Stdout}, {"stderr", p.Stderr}} {
		if pos, ok := p.KeyPos[ch.name+"_capture_maxbytes"]; ok && ch.log.CaptureMaxBytes > 0 {
			g.warnf(pos, pl.name, "%s_capture_maxbytes has no systemd equivalent: no PROCESS_COMMUNICATION events are sent", ch.name)
		}
		if pos, ok := p.KeyPos[ch.name+"_events_enabled"]; ok && ch.log.EventsEnabled {
			g.warnf(pos, pl.name, "%s_events_enabled has no systemd equivalent: no PROCESS_LOG events are sent", ch.name)
		}
	}
}

// stream is StandardOutput=/StandardError= for one of p's channels.
func (g *generator) stream(pl *planned, ch string, l translate.Log) string {
	p := pl.p
	key := ch + "_logfile"
	pos := keyPos(p, key)
	switch l.Kind {
	case translate.LogNone:
		if l.Syslog {
			return "journal"
		}
		return "null"
	case translate.LogAuto:
		if g.opts.LogFiles {
			g.warnf(pos, pl.name, "%s=AUTO: --log-files keeps only files with a fixed path; this output goes to the journal (journalctl -t %s): give %s a path to keep a file", key, p.Name, key)
		}
		return "journal"
	}
	switch l.Path {
	case "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "syslog":
		return "journal"
	}
	if !g.opts.LogFiles {
		g.warnf(pos, pl.name, "%s=%s: output goes to the journal instead (journalctl -t %s); pass --log-files to keep writing the file", key, l.Path, p.Name)
		return "journal"
	}
	if g.opts.SystemdVersion < 240 {
		g.warnf(pos, pl.name, "%s=%s: systemd %d cannot append to a file (StandardOutput=append: needs 240), so output goes to the journal", key, l.Path, g.opts.SystemdVersion)
		return "journal"
	}
	path := l.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(g.opts.Dir, path)
		g.warnf(pos, pl.name, "%s=%s is relative; the unit appends to %s", key, l.Path, path)
	}
	v, err := plain(path, true)
	if err != nil || strings.ContainsAny(path, " ") {
		why := "it contains a space"
		if err != nil {
			why = err.Error()
		}
		g.errorf(pos, "use another path, or leave out --log-files", "%s: %s=%q cannot be written to a unit: %s", p.Namespec(), key, l.Path, why)
		return "journal"
	}
	if l.MaxBytes > 0 {
		g.warnf(pos, pl.name, "%s is never rotated under systemd (Supervisor rotated it at %d bytes, keeping %d backups): rotate it with logrotate's copytruncate, or use the journal", key, l.MaxBytes, l.Backups)
	}
	if l.Syslog {
		g.warnf(keyPos(p, ch+"_syslog"), pl.name, "%s_syslog=true: systemd sends a stream to one place, the file here, not also to syslog", ch)
	}
	return "append:" + v
}

func (g *generator) socketUnit(grp *translate.Group, all []*planned) string {
	name, err := UnitName(g.opts.Prefix, grp.Name, Socket)
	if err != nil {
		g.errorf(grp.Pos, "use a shorter name or prefix", "%s: %v", grp.Name, err)
		return ""
	}
	var first string
	for _, pl := range all {
		if pl.g == grp {
			first = pl.name
			break
		}
	}
	s := grp.Socket
	var o []unit.UnitOption
	add := func(section, name, value string) { o = append(o, opt(section, name, value)) }
	add("Unit", "Description", text("Supervisor fcgi-program "+grp.Name+" socket"))
	if src, err := plain(g.sourcePath(grp.Pos, grp.Section), true); err == nil {
		add("Unit", "SourcePath", src)
	}
	listen, err := listenAddress(s.URL)
	if err != nil {
		g.errorf(s.Pos, "write socket=unix:///ABSOLUTE/PATH or socket=tcp://IPV4:PORT", "[%s] socket=%s: %v", grp.Section, s.URL, err)
		return ""
	}
	add("Socket", "ListenStream", listen)
	if s.Backlog != nil {
		add("Socket", "Backlog", strconv.Itoa(*s.Backlog))
	}
	if strings.HasPrefix(s.URL, "unix://") {
		mode := 0o700
		if s.Mode != nil {
			mode = *s.Mode
		}
		add("Socket", "SocketMode", fmt.Sprintf("%04o", mode))
		g.socketOwner(grp, add)
	}
	add("Socket", "Service", first)
	if g.opts.SystemdVersion < 214 {
		g.warnf(s.Pos, name, "socket owner needs systemd 214")
	}
	g.res.Units = append(g.res.Units, Unit{Name: name, Data: g.render(g.header(grp.Pos, grp.Section, GroupMarker+g.groupDigest(grp)), o), Pos: grp.Pos})
	return name
}

func (g *generator) socketOwner(grp *translate.Group, add func(string, string, string)) {
	s := grp.Socket
	var user, group string
	switch {
	case s.OwnerNames != nil:
		if n := s.OwnerNames[0]; n != nil {
			user = *n
		}
		if n := s.OwnerNames[1]; n != nil {
			group = *n
		}
	case s.Owner != nil:
		if id := s.Owner[0]; id != nil && *id >= 0 {
			user = strconv.Itoa(*id)
		}
		if id := s.Owner[1]; id != nil && *id >= 0 {
			group = strconv.Itoa(*id)
		}
	default:
		// Without socket_owner Supervisor gives the socket to the
		// program's user.
		if len(grp.Processes) > 0 && grp.Processes[0].User != nil && !g.opts.User {
			user = *grp.Processes[0].User
		}
	}
	if g.opts.User && (user != "" || group != "") {
		g.warnf(s.Pos, "", "[%s] socket_owner is left out: a user manager cannot give sockets away", grp.Section)
		return
	}
	for _, kv := range [][2]string{{"SocketUser", user}, {"SocketGroup", group}} {
		if kv[1] == "" {
			continue
		}
		v, err := plain(kv[1], true)
		if err != nil {
			g.errorf(s.Pos, "write socket_owner=USER or USER:GROUP", "[%s] socket_owner=%q: %v", grp.Section, kv[1], err)
			continue
		}
		add("Socket", kv[0], v)
	}
}

// listenAddress is ListenStream= for an fcgi socket URL. systemd wants an
// IP address where Supervisor binds an AF_INET socket to a host name, so
// a name is looked up in /etc/hosts (the generator runs before any name
// service is up, and links no resolver); "localhost" is 127.0.0.1.
func listenAddress(url string) (string, error) {
	if path, ok := strings.CutPrefix(url, "unix://"); ok {
		if !filepath.IsAbs(path) {
			return "", errors.New("the socket path must be absolute")
		}
		return plain(path, true)
	}
	hostport, ok := strings.CutPrefix(url, "tcp://")
	if !ok {
		return "", errors.New("unknown socket type")
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return "", errors.New("no port")
	}
	host, port := hostport[:i], hostport[i+1:]
	if host == "" || host == "*" {
		return plain(port, true)
	}
	addr, err := ipv4(host)
	if err != nil {
		return "", err
	}
	return plain(addr+":"+port, true)
}

// ipv4 is host as an IPv4 address: a literal, or a name from /etc/hosts.
func ipv4(host string) (string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return "", fmt.Errorf("Supervisor binds fcgi sockets over IPv4 only, and %s is not an IPv4 address", host)
		}
		return a.String(), nil
	}
	if strings.EqualFold(host, "localhost") {
		return "127.0.0.1", nil
	}
	if data, err := os.ReadFile(hostsFile); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			line, _, _ = strings.Cut(line, "#")
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			a, err := netip.ParseAddr(f[0])
			if err != nil || !a.Is4() {
				continue
			}
			for _, name := range f[1:] {
				if strings.EqualFold(name, host) {
					return a.String(), nil
				}
			}
		}
	}
	return "", fmt.Errorf("systemd needs an IP address in ListenStream=, and %s is not in %s", host, hostsFile)
}

// hostsFile is where host names of fcgi sockets are looked up.
var hostsFile = "/etc/hosts"

func (g *generator) groupTarget(grp *translate.Group, all []*planned) {
	name, _ := GroupTarget(g.opts.Prefix, grp)
	var o []unit.UnitOption
	add := func(section, name, value string) { o = append(o, opt(section, name, value)) }
	add("Unit", "Description", text("Supervisor group "+grp.Name))
	if src, err := plain(g.sourcePath(grp.Pos, grp.Section), true); err == nil {
		add("Unit", "SourcePath", src)
	}
	var members []string
	for _, pl := range all {
		if pl.g == grp {
			members = append(members, pl.name)
		}
	}
	for _, m := range members {
		add("Unit", "Wants", m)
	}
	g.res.Units = append(g.res.Units, Unit{Name: name, Data: g.render(g.header(grp.Pos, grp.Section, GroupMarker+g.groupDigest(grp)), o), Pos: grp.Pos})
}

// anchor is the always-active target that stands for supervisord: it
// wants every autostart unit, so enabling it (or one wants link from the
// boot target, as the generator makes) starts what supervisord would
// start, and `systemctl start supersede.target` does it by hand. It is
// ordered before every generated unit, and an active unit's reference
// keeps a program's unit loaded after it exits, so its exit status stays
// readable (reference/systemd.md §5.3). Each service still has its own
// [Install] section, to be enabled on its own.
func (g *generator) anchor(name string, all []*planned) {
	var o []unit.UnitOption
	add := func(section, name, value string) { o = append(o, opt(section, name, value)) }
	add("Unit", "Description", "Supervisor programs from "+text(g.cfg.File))
	if src, err := plain(g.cfg.File, true); err == nil {
		add("Unit", "SourcePath", src)
	}
	const perLine = 16
	lines := func(key string, names []string) {
		for i := 0; i < len(names); i += perLine {
			add("Unit", key, strings.Join(names[i:min(i+perLine, len(names))], " "))
		}
	}
	var every, auto []string
	for _, pl := range all {
		every = append(every, pl.name)
		if pl.p.AutoStart {
			auto = append(auto, pl.name)
		}
	}
	lines("Wants", auto)
	lines("Before", every)
	add("Install", "WantedBy", g.bootTarget())
	g.res.Units = append(g.res.Units, Unit{Name: name, Data: g.render(g.header(translate.Pos{}, "", ""), o), WantedBy: []string{g.bootTarget()}})
}

// shim is the compatibility step's binary for pl's unit, or "" when the
// unit does without: without Options.Shim, and before systemd 240.
func (g *generator) shim(pl *planned) string {
	if g.opts.SystemdVersion < ShimVersion {
		return ""
	}
	return g.opts.Shim
}

// shimSteps adds the compatibility step around the program (internal/shim):
// Supervisor's backoff and FATAL before each start, its startsecs after,
// in a state directory that lives as long as a series of automatic
// restarts. dir is the program's directory= ("" for none), checked as
// Supervisor's child checks it; without startsecs (a spawn error: no
// program ever runs) no start counts as RUNNING.
func (g *generator) shimSteps(p *translate.Process, add func(string, string, string), shim, dir string, startsecs bool) {
	add("Service", "RuntimeDirectory", "supersede/%N")
	add("Service", "RuntimeDirectoryPreserve", "restart")
	// The program must not see the variable, which Supervisor does not set.
	add("Service", "UnsetEnvironment", "RUNTIME_DIRECTORY="+StateDir)
	pre := execLine(shim, []string{shim, "shim", "backoff"}) + " " + StateDir + " " + strconv.Itoa(p.StartRetries)
	if dir != "" {
		pre += " --chdir " + quoteWord(dir)
	}
	// supervisord's Python sets LC_CTYPE=C.UTF-8 for itself, and so for
	// every child, when it starts in the C locale: the step decides as
	// Python would from the manager's environment, in a file systemd
	// reads before starting the program. Where the program's environment
	// sets a locale variable, the manager's own value is hidden from the
	// step (LANG, LC_ALL: docs/MAPPING.md) or the program's wins (LC_CTYPE).
	setsLocale := false
	for _, name := range []string{"LC_CTYPE", "LC_ALL", "LANG"} {
		_, ok := p.Env.Get(name)
		setsLocale = setsLocale || ok
	}
	if !setsLocale {
		pre += " --locale"
		add("Service", "EnvironmentFile", "-"+StateDir+"/"+LocaleFile)
	}
	if c := fatalStatus(p, onlyFailedStarts(p, !startsecs)); c != 1 {
		// SuccessExitStatus= applies to ExecStartPre= too: the step
		// must give up with a status that is not a success
		pre += " --fatal-status " + strconv.Itoa(c)
	}
	add("Service", "ExecStartPre", pre)
	secs := int((p.MinUptime + time.Second - 1) / time.Second)
	if startsecs {
		add("Service", "ExecStartPost", execLine(shim, []string{shim, "shim", "startsecs"})+" "+StateDir+" "+strconv.Itoa(secs))
		exited := execLine(shim, []string{shim, "shim", "exited"}) + " " + StateDir
		if secs == 0 {
			// RUNNING at the spawn: an instant exit is a normal one,
			// even when it comes before the startsecs step runs
			exited += " 0"
		}
		if onlyFailedStarts(p, false) {
			// a later end that systemd restarts all the same (a core
			// dump, the OOM killer) is marked, and its restart refused
			exited += " --once"
		}
		add("Service", "ExecStopPost", exited)
	}
	// Room for the longest backoff wait and startsecs; systemd's 90 s
	// default would cut a long series of retries short.
	add("Service", "TimeoutStartSec", strconv.Itoa(p.StartRetries+secs+90))
}

// restartShim is the restart policy of a unit with the compatibility
// step. Restart=on-abnormal restarts after a signal (the program's, or the
// startsecs step's when the program died within startsecs, whatever its
// exit status) and never after a failed ExecStartPre (the step's FATAL);
// RestartForceExitStatus= lists every exit status Supervisor restarts
// after: all but exitcodes for autorestart=unexpected, all for true, and
// the signals systemd counts as clean.
//
// autorestart=false restarts only a failed start, as Supervisor retries
// any death within startsecs whatever autorestart says: every exit status
// and every signal is a success (SuccessExitStatus=), so that the
// startsecs step's verdict (Result=signal) is the unit's result after an
// early death, which Restart=on-abnormal restarts, and a death after
// startsecs does not restart. systemd counts two deaths as failures
// whatever SuccessExitStatus= says: a core dump (code=dumped) and the
// kernel's OOM kill (Result=oom-kill); after startsecs, "exited --once"
// marks such an end and the restart's step refuses to start the program
// (internal/shim), so it ends EXITED. (Not RestartPreventExitStatus=:
// systemd checks it against the program's own status before the step's
// verdict, so it would keep an early death from being retried too.) The
// one status left a failure, fatalOnlyStatus, with which the step gives
// up, is in RestartForceExitStatus=: systemd checks that list against
// the program's own end only (it forgets it as each start begins), so
// the program's early exit with it restarts, and the step's does not; a
// late one is marked by "exited --once" as a core dump is, and its
// restart refused (docs/MAPPING.md).
func (g *generator) restartShim(p *translate.Process, add func(string, string, string), onlyFailed bool) {
	// The lines depend on autorestart and exitcodes alone, which most
	// programs share, and spell out up to 256 statuses and 50 signals:
	// made once for each such pair (14% of the generator's CPU at 1000
	// programs when made per unit).
	key := restartKey(p, onlyFailed)
	kvs, ok := g.restarts[key]
	if !ok {
		g.restartShimLines(p, func(_, k, v string) { kvs = append(kvs, [2]string{k, v}) }, onlyFailed)
		if g.restarts == nil {
			g.restarts = map[string][][2]string{}
		}
		g.restarts[key] = kvs
	}
	for _, kv := range kvs {
		add("Service", kv[0], kv[1])
	}
}

// restartKey is what restartShimLines makes its lines of.
func restartKey(p *translate.Process, onlyFailed bool) string {
	b := make([]byte, 0, 16+4*len(p.ExitCodes))
	b = strconv.AppendBool(b, onlyFailed)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p.AutoRestart), 10)
	for _, c := range p.ExitCodes {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(c), 10)
	}
	return string(b)
}

// restartShimLines adds restartShim's lines (all in [Service]).
func (g *generator) restartShimLines(p *translate.Process, add func(string, string, string), onlyFailed bool) {
	const perLine = 32
	lines := func(key string, words []string) {
		for i := 0; i < len(words); i += perLine {
			add("Service", key, strings.Join(words[i:min(i+perLine, len(words))], " "))
		}
	}
	add("Service", "Restart", "on-abnormal")
	if onlyFailed {
		var success []string
		for c := 1; c <= 255; c++ {
			if successStatus(p, c, true) {
				success = append(success, strconv.Itoa(c))
			}
		}
		lines("SuccessExitStatus", success)
		lines("SuccessExitStatus", strings.Fields(uncleanSignals+" "+realtimeSignals))
		add("Service", "RestartForceExitStatus", strconv.Itoa(fatalOnlyStatus))
		add("Service", "RestartSec", formatDuration(RestartDelay))
		return
	}
	expected := map[int]bool{}
	var success []string
	for _, c := range p.ExitCodes {
		expected[c] = true
		if c != 0 {
			success = append(success, strconv.Itoa(c))
		}
	}
	if len(success) > 0 {
		add("Service", "SuccessExitStatus", strings.Join(success, " "))
	}
	var force []string
	for c := 0; c <= 255; c++ {
		if p.AutoRestart == translate.RestartAlways || !expected[c] {
			force = append(force, strconv.Itoa(c))
		}
	}
	lines("RestartForceExitStatus", force)
	add("Service", "RestartForceExitStatus", "SIGHUP SIGINT SIGTERM SIGPIPE")
	add("Service", "RestartSec", formatDuration(RestartDelay))
}

// fatalOnlyStatus is the one exit status that is not a success in a unit
// of autorestart=false with the compatibility step: the status with which
// the step gives up (systemd applies SuccessExitStatus= to ExecStartPre=
// too). The program's own is forced to restart (restartShim).
const fatalOnlyStatus = 254

// onlyFailedStarts reports whether p's unit with the compatibility step
// restarts only after a failed start: autorestart=false, but for a
// command supervisord cannot spawn, whose every start fails.
func onlyFailedStarts(p *translate.Process, spawnErr bool) bool {
	return p.AutoRestart == translate.RestartNever && !spawnErr
}

// successStatus reports whether exit status c (1-255) is in the
// SuccessExitStatus= of p's unit with the compatibility step: exitcodes,
// or where it restarts only failed starts (onlyFailedStarts) every
// status but fatalOnlyStatus.
func successStatus(p *translate.Process, c int, onlyFailed bool) bool {
	if onlyFailed {
		return c != fatalOnlyStatus
	}
	return slices.Contains(p.ExitCodes, c)
}

// fatalStatus is the exit status with which the compatibility step gives
// up for p's unit: 1, or where 1 is a success status of the unit the
// highest that is not.
func fatalStatus(p *translate.Process, onlyFailed bool) int {
	if !successStatus(p, 1, onlyFailed) {
		return 1
	}
	for c := 255; c > 1; c-- {
		if !successStatus(p, c, onlyFailed) {
			return c
		}
	}
	return 1 // exitcodes lists every status: nothing can fail the step
}

// uncleanSignals and realtimeSignals are every signal whose default
// action ends a process, but SIGHUP, SIGINT, SIGTERM and SIGPIPE, which
// systemd counts as a clean end of a service (signal(7)).
const (
	uncleanSignals  = "SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV SIGUSR2 SIGALRM SIGSTKFLT SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGIO SIGPWR SIGSYS"
	realtimeSignals = "SIGRTMIN SIGRTMIN+1 SIGRTMIN+2 SIGRTMIN+3 SIGRTMIN+4 SIGRTMIN+5 SIGRTMIN+6 SIGRTMIN+7 SIGRTMIN+8 SIGRTMIN+9 SIGRTMIN+10 SIGRTMIN+11 SIGRTMIN+12 SIGRTMIN+13 SIGRTMIN+14 SIGRTMIN+15 SIGRTMAX-14 SIGRTMAX-13 SIGRTMAX-12 SIGRTMAX-11 SIGRTMAX-10 SIGRTMAX-9 SIGRTMAX-8 SIGRTMAX-7 SIGRTMAX-6 SIGRTMAX-5 SIGRTMAX-4 SIGRTMAX-3 SIGRTMAX-2 SIGRTMAX-1 SIGRTMAX"
)

// orderWarnings says, once each, where priority order under systemd takes
// longer than under supervisord (docs/MAPPING.md): a later priority waits
// for the earlier ones to be RUNNING (their startsecs step), and at
// shutdown the processes of one group with different priorities stop one
// priority after the other.
func (g *generator) orderWarnings(all []*planned, levels int) {
	if g.opts.Shim == "" || g.opts.SystemdVersion < ShimVersion || levels < 2 {
		return
	}
	for _, pl := range all {
		if pl.level < levels-1 && pl.p.MinUptime > 0 {
			g.warnf(keyPos(pl.p, "startsecs"), pl.name, "%s: programs of a later priority start once it is RUNNING (startsecs=%d), where supervisord spawns every priority in one pass; the order is the same (startsecs=0 starts them at once)", pl.p.Namespec(), int(pl.p.MinUptime/time.Second))
			break
		}
	}
	for _, grp := range g.cfg.Groups {
		for _, p := range grp.Processes[min(1, len(grp.Processes)):] {
			if p.Priority != grp.Processes[0].Priority {
				g.warnf(grp.Pos, "", "[%s]: its processes have different priorities; at shutdown systemd stops them one priority after the other, where supervisord signals the whole group at once (same order, slower)", grp.Section)
				break
			}
		}
	}
}
