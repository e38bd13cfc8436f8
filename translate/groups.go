package translate

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"math"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// uidName is pwd.getpwuid(uid).pw_name, or "" when there is none.
func uidName(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	return u.Username
}

// groupError records a group-level problem: Supervisor's text has no
// "in section" suffix there.
func (l *loader) groupError(pos Pos, kind error, sup, hint string) {
	l.fail(pos, kind, sup, "", hint)
}

// groupGet reads a group-level key (expansions: here and ENV_*).
func (l *loader) groupGet(section, key string, def *string) (value, bool) {
	return l.get(section, key, def, l.hereExp)
}

// groupPriority reads a group priority.
func (l *loader) groupPriority(section string, def int) int {
	v, ok := l.groupGet(section, "priority", str(strconv.Itoa(def)))
	if !ok {
		return def
	}
	n, err := pyIntLiteral(v.s)
	if err != nil {
		l.groupError(v.pos, ErrValue, err.Error(), "priority is a whole number")
		return def
	}
	return int(n)
}

// groups is Supervisor's process_groups_from_parser.
func (l *loader) groups() []*Group {
	var groups []*Group
	exclude := map[string]bool{}

	// heterogeneous groups
	for s, name := range l.named("group:", nil, "group") {
		var programs []string
		if _, found := l.raw(s.name, "programs"); found {
			if v, ok := l.groupGet(s.name, "programs", nil); ok {
				programs = listOfStrings(v.s)
			}
		}
		priority := l.groupPriority(s.name, 999)
		g := &Group{Name: name, Type: GroupProgram, Section: s.name, Priority: priority,
			File: l.sectionFile(s.name), Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		section := s.name // Supervisor reuses its loop variable, hence the quirk below
		ok := true
		for _, prog := range programs {
			ps, fs := "program:"+prog, "fcgi-program:"+prog
			if !l.p.has(ps) && !l.p.has(fs) {
				l.groupError(l.keyPos(s.name, "programs"), ErrReference,
					fmt.Sprintf("[%s] names unknown program or fcgi-program %s", section, prog),
					"define [program:"+prog+"] or remove it from programs=")
				ok = false
				break
			}
			if l.p.has(ps) && l.p.has(fs) {
				l.groupError(l.keyPos(s.name, "programs"), ErrReference,
					fmt.Sprintf("[%s] name %s is ambiguous (exists as program and fcgi-program)", section, prog),
					"rename one of the two sections")
				ok = false
				break
			}
			section = ps
			if !l.p.has(ps) {
				section = fs
			}
			exclude[section] = true
			g.Processes = append(g.Processes, l.processes(section, name, GroupProgram)...)
		}
		if ok {
			groups = append(groups, g)
		}
	}

	// homogeneous program groups
	for s, name := range l.named("program:", exclude, "program") {
		priority := l.groupPriority(s.name, 999)
		groups = append(groups, &Group{Name: name, Type: GroupProgram, Section: s.name, Priority: priority,
			File: l.sectionFile(s.name), Pos: s.pos, KeyPos: l.keyPositions(s.name),
			Processes: l.processes(s.name, name, GroupProgram)})
	}

	// event listener pools
	for _, s := range l.p.sections {
		if !strings.HasPrefix(s.name, "eventlistener:") {
			continue
		}
		_, pool, _ := strings.Cut(s.name, ":")
		g := &Group{Name: pool, Type: GroupEventListener, Section: s.name, File: l.sectionFile(s.name),
			Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		g.Priority = l.groupPriority(s.name, -1)
		g.BufferSize = 10
		if v, ok := l.groupGet(s.name, "buffer_size", str("10")); ok {
			n, err := pyIntLiteral(v.s)
			switch {
			case err != nil:
				l.groupError(v.pos, ErrValue, err.Error(), "buffer_size is a whole number of events, such as 10")
			case n < 1:
				l.groupError(v.pos, ErrValue, fmt.Sprintf("[%s] section sets invalid buffer_size (%d)", s.name, n), "buffer_size must be at least 1")
			default:
				g.BufferSize = int(n)
			}
		}
		g.ResultHandler = "supervisor.dispatchers:default_handler"
		if v, ok := l.groupGet(s.name, "result_handler", str(g.ResultHandler)); ok {
			spec, err := l.resolveFactory(v.s, s.name)
			if err != nil {
				l.groupError(v.pos, ErrValue, err.Error(), "write module:attribute, such as supervisor.dispatchers:default_handler")
			} else {
				g.ResultHandler = spec
			}
		}
		if v, ok := l.groupGet(s.name, "events", str("")); ok {
			seen := map[string]bool{}
			for _, e := range listOfStrings(v.s) {
				seen[pyUpper(e)] = true
			}
			if len(seen) == 0 {
				l.groupError(s.pos, ErrMissing, fmt.Sprintf(`[%s] section requires an "events" line`, s.name), "add events=PROCESS_STATE (or the types you listen for)")
			}
			for _, e := range slices.Sorted(maps.Keys(seen)) {
				if !eventTypes[e] {
					l.groupError(v.pos, ErrValue, fmt.Sprintf("Unknown event type %s in [%s] events", e, s.name), "see Supervisor's event type list")
					continue
				}
				g.Events = append(g.Events, e)
			}
		}
		if v, ok := l.groupGet(s.name, "redirect_stderr", str("false")); ok {
			b, err := boolean(v.s)
			if err != nil {
				l.groupError(v.pos, ErrValue, err.Error(), "use true or false")
			} else if b {
				l.groupError(v.pos, ErrValue, fmt.Sprintf("[%s] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol", s.name), "remove redirect_stderr from the listener")
			}
		}
		g.Processes = l.processes(s.name, pool, GroupEventListener)
		groups = append(groups, g)
	}

	// fastcgi programs
	for s, name := range l.named("fcgi-program:", exclude, "program") {
		g := &Group{Name: name, Type: GroupFCGI, Section: s.name, File: l.sectionFile(s.name),
			Pos: s.pos, KeyPos: l.keyPositions(s.name)}
		g.Priority = l.groupPriority(s.name, 999)
		if sock, ok := l.fcgiSocket(s, name); ok {
			g.Socket = sock
		}
		g.Processes = l.processes(s.name, name, GroupFCGI)
		groups = append(groups, g)
	}

	slices.SortStableFunc(groups, func(a, b *Group) int {
		if a.Priority != b.Priority {
			return cmp.Compare(a.Priority, b.Priority)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return groups
}

// named yields each section whose name starts with prefix and that
// exclude does not hold, with the validated name after the ":"; an
// invalid name is recorded (noun says what it names) and skipped.
func (l *loader) named(prefix string, exclude map[string]bool, noun string) iter.Seq2[*iniSection, string] {
	return func(yield func(*iniSection, string) bool) {
		for _, s := range l.p.sections {
			if !strings.HasPrefix(s.name, prefix) || exclude[s.name] {
				continue
			}
			_, rawName, _ := strings.Cut(s.name, ":")
			name, err := processOrGroupName(rawName)
			if err != nil {
				l.groupError(s.pos, ErrValue, err.Error(), noun+" names may not contain blanks, ':' or '/'")
				continue
			}
			if !yield(s, name) {
				return
			}
		}
	}
}

// sectionFile is the file that first defined a section, absolute.
func (l *loader) sectionFile(section string) string {
	if f, ok := l.p.sectionFile[section]; ok {
		return l.abs(f)
	}
	return l.abs(l.path)
}

// sectionFileAsGiven is the file name Supervisor puts in "(file: ...)".
func (l *loader) sectionFileAsGiven(section string) string {
	if f, ok := l.p.sectionFile[section]; ok {
		return f
	}
	return l.path
}

var tcpSocket = regexp.MustCompile(`^tcp://([^\s:]+):(\d+)$`)

// fcgiSocket reads the socket keys of an [fcgi-program:x].
func (l *loader) fcgiSocket(s *iniSection, name string) (*Socket, bool) {
	fail := func(pos Pos, sup, hint string) (*Socket, bool) {
		l.groupError(pos, ErrValue, sup, hint)
		return nil, false
	}
	var procUser *string // user=, as written
	var procUID *int     // its uid (lenient: only when numeric)
	if _, found := l.raw(s.name, "user"); found {
		v, ok := l.groupGet(s.name, "user", nil)
		if !ok {
			return nil, false
		}
		uid, _, err := l.lookupUser(v.s)
		if err != nil {
			return fail(v.pos, err.Error(), "create the user, or use --lenient when converting for another host")
		}
		procUser, procUID = &v.s, uid
	}
	var backlog *int
	if _, found := l.raw(s.name, "socket_backlog"); found {
		v, ok := l.groupGet(s.name, "socket_backlog", nil)
		if !ok {
			return nil, false
		}
		n, err := pyIntLiteral(v.s)
		if err != nil {
			return fail(v.pos, err.Error(), "socket_backlog is a whole number, 1 to 65535")
		}
		if n < 1 || n > 65535 {
			return fail(v.pos, fmt.Sprintf("Invalid socket_backlog value %d", n), "use 1 to 65535")
		}
		b := int(n)
		backlog = &b
	}
	var owner *[2]*int
	var ownerNames *[2]*string
	if _, found := l.raw(s.name, "socket_owner"); found {
		v, ok := l.groupGet(s.name, "socket_owner", nil)
		if !ok {
			return nil, false
		}
		uid, gid, names, err := l.userGroup(v.s)
		if err != nil {
			return fail(v.pos, "Invalid socket_owner value "+v.s, "write socket_owner=user:group")
		}
		owner = &[2]*int{uid, gid}
		ownerNames = &names
	}
	var mode *int
	if _, found := l.raw(s.name, "socket_mode"); found {
		v, ok := l.groupGet(s.name, "socket_mode", nil)
		if !ok {
			return nil, false
		}
		n, err := octalType(v.s)
		if err != nil {
			return fail(v.pos, "Invalid socket_mode value "+v.s, "write an octal mode such as 0660")
		}
		mode = &n
	}
	exp := newExpansions()
	exp.setStr("program_name", name)
	exp.setStr("here", l.here)
	v, ok := l.get(s.name, "socket", str(""), exp)
	if !ok {
		return nil, false
	}
	if v.s == "" {
		return fail(s.pos, fmt.Sprintf(`[%s] section requires a "socket" line`, s.name), "add socket=unix:///run/NAME.sock or socket=tcp://127.0.0.1:9000")
	}
	suffix := fmt.Sprintf(" in [%s] socket", s.name)
	sock := &Socket{Backlog: backlog, Pos: v.pos}
	if path, ok := strings.CutPrefix(v.s, "unix://"); ok {
		if !strings.HasPrefix(path, "/") {
			return fail(v.pos, fmt.Sprintf("('Unix socket path %%s is not an absolute path', %s)", pyRepr(path))+suffix, "use unix:///absolute/path")
		}
		path = normalizePath(path, l.opts.Dir, l.home)
		if owner == nil && procUser != nil && !l.isOwnUID(procUID) {
			// Supervisor gives the socket to the program's user
			if l.opts.Lenient {
				// its primary group is a host fact
				owner, ownerNames = &[2]*int{procUID, nil}, &[2]*string{procUser, nil}
			} else {
				owner = &[2]*int{procUID, primaryGID(*procUID)}
			}
		}
		if mode == nil {
			m := 0o700
			mode = &m
		}
		sock.URL = "unix://" + path
		sock.Mode = mode
		sock.Owner = owner
		if l.opts.Lenient {
			if owner != nil && ownerNames == nil {
				ownerNames = &[2]*string{nil, nil}
			}
			sock.OwnerNames = ownerNames
		}
		return sock, true
	}
	if owner != nil || mode != nil {
		return fail(v.pos, "socket_owner and socket_mode params should only be used with a Unix domain socket"+suffix, "remove socket_owner and socket_mode from a tcp socket")
	}
	m := tcpSocket.FindStringSubmatch(v.s)
	if m == nil {
		return fail(v.pos, fmt.Sprintf("('Bad socket format %%s', %s)", pyRepr(v.s))+suffix, "use unix:///path or tcp://host:port")
	}
	port, err := portNumber(m[2])
	if err != nil {
		return fail(v.pos, err.Error()+suffix, "use a port from 1 to 65535")
	}
	sock.URL = fmt.Sprintf("tcp://%s:%d", pyLower(m[1]), port)
	return sock, true
}

// isOwnUID reports whether uid is supervisord's own (os.getuid());
// lenient mode cannot know whose uid will run supervisord, and says no.
func (l *loader) isOwnUID(uid *int) bool {
	return !l.opts.Lenient && uid != nil && *uid == syscall.Getuid()
}

// primaryGID is gid_for_uid.
func primaryGID(uid int) *int {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return nil
	}
	g, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil
	}
	return &g
}

// eventTypes are the names of supervisor.events.EventTypes.
var eventTypes = map[string]bool{
	"EVENT": true, "PROCESS_STATE": true, "PROCESS_STATE_STOPPED": true,
	"PROCESS_STATE_EXITED": true, "PROCESS_STATE_STARTING": true,
	"PROCESS_STATE_STOPPING": true, "PROCESS_STATE_BACKOFF": true,
	"PROCESS_STATE_FATAL": true, "PROCESS_STATE_RUNNING": true,
	"PROCESS_STATE_UNKNOWN": true, "PROCESS_COMMUNICATION": true,
	"PROCESS_COMMUNICATION_STDOUT": true, "PROCESS_COMMUNICATION_STDERR": true,
	"PROCESS_LOG": true, "PROCESS_LOG_STDOUT": true, "PROCESS_LOG_STDERR": true,
	"REMOTE_COMMUNICATION": true, "SUPERVISOR_STATE_CHANGE": true,
	"SUPERVISOR_STATE_CHANGE_RUNNING": true, "SUPERVISOR_STATE_CHANGE_STOPPING": true,
	"TICK": true, "TICK_5": true, "TICK_60": true, "TICK_3600": true,
	"PROCESS_GROUP": true, "PROCESS_GROUP_ADDED": true, "PROCESS_GROUP_REMOVED": true,
}

// MaxProcesses bounds the processes one config may define, so that a
// typo such as numprocs=100000000 is an error instead of gigabytes of
// memory. Supervisor has no such limit.
const MaxProcesses = 100000

// procCtx is one section's reading in Supervisor's _processes_from_section.
type procCtx struct {
	l       *loader
	section string
	file    string // for Supervisor's "(file: ...)" suffix
	common  *expansions
	failed  bool
	pos     Pos // the section's header, where a default is said to come from
}

// fail records a process-level problem with Supervisor's section suffix.
func (c *procCtx) fail(pos Pos, kind error, msg, hint string) {
	c.failed = true
	sup := fmt.Sprintf("%s in section %s (file: %s)", msg, pyRepr(c.section), pyRepr(c.file))
	c.l.fail(pos, kind, sup, fmt.Sprintf("%s in [%s]", msg, c.section), hint)
}

// get is the local get of _processes_from_section: saneget with the
// section's common expansions (plus exp).
func (c *procCtx) get(key string, def *string) (value, bool) {
	v, found := c.l.raw(c.section, key)
	if !found {
		if def == nil {
			return value{}, false
		}
		v = value{s: *def, pos: c.pos}
	}
	if strings.IndexByte(v.s, '%') < 0 {
		return v, true
	}
	s, err := expand(v.s, layer(c.l.env, c.common), c.section+"."+key)
	if err != nil {
		c.fail(v.pos, ErrExpansion, err.Error(), expansionHint(err))
		return v, false
	}
	v.s = s
	return v, true
}

// processes is Supervisor's processes_from_section.
func (l *loader) processes(section, groupName string, kind GroupType) []*Process {
	c := &procCtx{l: l, section: section, file: l.sectionFileAsGiven(section), pos: l.sectionPos(section)}
	_, rawName, _ := strings.Cut(section, ":")
	programName, err := processOrGroupName(rawName)
	if err != nil {
		// raised inside _processes_from_section: it carries the suffix
		c.fail(l.sectionPos(section), ErrValue, err.Error(), "program names may not contain blanks, ':' or '/'")
		return nil
	}
	c.common = l.sectionExpansions()
	c.common.setStr("here", l.here)
	c.common.setStr("program_name", programName)
	c.common.setStr("host_node_name", l.opts.Hostname)
	c.common.setStr("group_name", groupName)

	t := Process{Section: section, Group: groupName, Pos: l.sectionPos(section), KeyPos: l.keyPositions(section)}
	envPos := l.keyPos(section, "environment")
	intKey := func(key, def string) int {
		v, ok := c.get(key, str(def))
		if !ok {
			n, _ := strconv.Atoi(def)
			return n
		}
		n, err := pyIntLiteral(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), key+" is a whole number")
			n, _ := strconv.Atoi(def)
			return n
		}
		return int(n)
	}
	boolKey := func(key, def string) bool {
		v, ok := c.get(key, str(def))
		if !ok {
			b, _ := boolean(def)
			return b
		}
		b, err := boolean(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), "use true or false")
			b, _ = boolean(def)
		}
		return b
	}
	// secondsKey reads a whole number of seconds; past ±292 years it
	// does not fit a time.Duration (Supervisor's ints are unbounded).
	secondsKey := func(key, def string) time.Duration {
		n := intKey(key, def)
		if n > math.MaxInt64/int(time.Second) || n < math.MinInt64/int(time.Second) {
			c.fail(c.l.keyPos(section, key), ErrValue, fmt.Sprintf("%s=%d is out of range", key, n), "use at most 9223372036 seconds")
			n = 0
		}
		return time.Duration(n) * time.Second
	}
	sizeKey := func(key, def string) int64 {
		v, ok := c.get(key, str(def))
		if !ok {
			n, _ := byteSize(def)
			return n
		}
		n, err := byteSize(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), "write a size such as 50MB, 1GB or 1024")
			n, _ = byteSize(def)
		}
		return n
	}

	t.Priority = intKey("priority", "999")
	t.AutoStart = boolKey("autostart", "true")
	if v, ok := c.get("autorestart", str("unexpected")); ok {
		r, err := autoRestart(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), "use true, false or unexpected")
		}
		t.AutoRestart = r
	}
	t.MinUptime = secondsKey("startsecs", "1")
	t.StartRetries = intKey("startretries", "3")
	t.StopSignal = syscall.SIGTERM
	if v, ok := c.get("stopsignal", str("TERM")); ok {
		sig, err := signalNumber(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), "use a signal name such as TERM, INT, QUIT, HUP, KILL, USR1 or USR2")
		} else {
			t.StopSignal = sig
		}
	}
	t.StopWait = secondsKey("stopwaitsecs", "10")
	t.StopAsGroup = boolKey("stopasgroup", "false")
	killDef := "false"
	if t.StopAsGroup {
		killDef = "true"
	}
	t.KillAsGroup = boolKey("killasgroup", killDef)
	t.ExitCodes = []int{0}
	if v, ok := c.get("exitcodes", str("0")); ok {
		codes, err := listOfExitcodes(v.s)
		if err != nil {
			c.fail(v.pos, ErrValue, err.Error(), "write a comma-separated list of codes 0..255")
		} else {
			t.ExitCodes = codes
		}
	}
	t.RedirectStderr = boolKey("redirect_stderr", "false")
	numprocs := intKey("numprocs", "1")
	numprocsStart := intKey("numprocs_start", "0")
	envStr := ""
	if v, ok := l.raw(section, "environment"); ok {
		envStr = v.s
	}
	stdoutCapture := sizeKey("stdout_capture_maxbytes", "0")
	stdoutEvents := boolKey("stdout_events_enabled", "false")
	stderrCapture := sizeKey("stderr_capture_maxbytes", "0")
	stderrEvents := boolKey("stderr_events_enabled", "false")
	if _, found := l.raw(section, "serverurl"); found {
		// "AUTO" (any case, blanks around) means supervisord's own URL
		if v, ok := c.get("serverurl", nil); ok && (v.s == "" || pyUpper(pyStrip(v.s)) != "AUTO") {
			t.ServerURL = str(v.s)
		}
	}
	if _, found := l.raw(section, "user"); found {
		if v, ok := c.get("user", nil); ok {
			uid, name, err := l.lookupUser(v.s)
			if err != nil {
				c.fail(v.pos, ErrHost, err.Error(), "create the user, or use --lenient when converting for another host")
			} else {
				t.UID, t.User = uid, name
			}
		}
	}
	if _, found := l.raw(section, "umask"); found {
		if v, ok := c.get("umask", nil); ok {
			n, err := octalType(v.s)
			if err != nil {
				c.fail(v.pos, ErrValue, err.Error(), "write an octal umask such as 022")
			} else {
				t.Umask = &n
			}
		}
	}
	pnTemplate := "%(program_name)s"
	pnPos := t.Pos
	if v, ok := l.raw(section, "process_name"); ok {
		pnTemplate, pnPos = v.s, v.pos
	}
	if _, err := processOrGroupName(pnTemplate); err != nil {
		c.fail(pnPos, ErrValue, err.Error(), "process names may not contain blanks, ':' or '/'")
	}
	pnTemplate = pyStrip(pnTemplate)
	if numprocs > 1 && !strings.Contains(pnTemplate, "%(process_num)") {
		pos := pnPos
		if pos == t.Pos {
			pos = l.keyPos(section, "numprocs")
		}
		c.fail(pos, ErrValue, "%(process_num) must be present within process_name when numprocs > 1",
			"add process_name=%(program_name)s_%(process_num)02d")
	}
	if t.StopAsGroup && !t.KillAsGroup {
		c.fail(l.keyPos(section, "killasgroup"), ErrValue, "Cannot set stopasgroup=true and killasgroup=false", "remove killasgroup=false")
	}
	if numprocs > MaxProcesses-l.processCount {
		c.fail(l.keyPos(section, "numprocs"), ErrValue,
			fmt.Sprintf("numprocs=%d would make more than %d processes in all", numprocs, MaxProcesses),
			"supersede refuses configs that large; Supervisor would try to start them all")
	}
	if numprocs > 0 && numprocsStart > math.MaxInt64-numprocs {
		c.fail(l.keyPos(section, "numprocs_start"), ErrValue,
			fmt.Sprintf("numprocs_start=%d: process numbers would not fit in 64 bits", numprocsStart),
			"use a smaller numprocs_start")
	}
	if c.failed {
		return nil
	}
	l.processCount += max(numprocs, 0)

	var procs []*Process
	exp := c.common      // Supervisor mutates the section's common expansions
	var changed []string // ENV_ names the previous process's environment set
	for i := 0; i < numprocs; i++ {
		num := numprocsStart + i
		exp.set("process_num", pyIntValue(int64(num)))
		exp.set("numprocs", pyIntValue(int64(numprocs)))
		// expansions.update(self.environ_expansions), without copying
		// the environment: it goes under the section's own names, and the
		// names the last process's environment= overrode are dropped so
		// the environment's values show again (those it alone defines
		// stay, as in Supervisor).
		if i == 0 {
			exp.under, exp.head = l.env, len(exp.keys)
		}
		for _, k := range changed {
			if _, inEnv := l.env.get(k); inEnv {
				exp.delete(k)
			}
		}
		changed = changed[:0]
		p := t
		p.ExitCodes = slices.Clone(t.ExitCodes)
		es, err := expand(envStr, exp, "environment")
		if err != nil {
			c.fail(envPos, ErrExpansion, err.Error(), expansionHint(err))
			return nil
		}
		env, err := kvPairs(es)
		if err != nil {
			c.fail(envPos, ErrValue, err.Error(), `write NAME="value",NAME2="value2"; quote values with blanks or special characters`)
			return nil
		}
		p.Env = env
		for _, kv := range env {
			exp.setStr("ENV_"+kv.Name, kv.Value)
			changed = append(changed, "ENV_"+kv.Name)
		}
		if _, found := l.raw(section, "directory"); found {
			v, ok := c.get("directory", nil)
			if !ok {
				return nil
			}
			p.Dir = str(v.s)
		}
		for i, ch := range []string{"stdout", "stderr"} {
			lg := &p.Stdout
			if i == 1 {
				lg = &p.Stderr
			}
			key := ch + "_logfile"
			lg.Kind = LogAuto
			if _, found := l.raw(section, key); found {
				v, ok := c.get(key, nil)
				if !ok {
					return nil
				}
				s, err := expand(v.s, exp, key)
				if err != nil {
					c.fail(v.pos, ErrExpansion, err.Error(), expansionHint(err)+" (log file names are expanded twice: write a literal % as %%%%)")
					return nil
				}
				switch pyLower(s) {
				case "none", "off":
					lg.Kind = LogNone
				case "auto":
					lg.Kind = LogAuto
				case "syslog":
					lg.Kind = LogNone
					lg.Syslog = true // set again below, after the syslog key
				default:
					path, err := l.existingDirpath(s)
					if err != nil {
						c.fail(v.pos, ErrHost, err.Error(), "create the directory, or use --lenient when converting for another host")
						return nil
					}
					lg.Kind, lg.Path = LogFile, path
				}
			}
			deprecatedSyslog := lg.Syslog
			lg.Backups = intKey(ch+"_logfile_backups", "10")
			lg.MaxBytes = sizeKey(ch+"_logfile_maxbytes", "50MB")
			lg.Syslog = boolKey(ch+"_syslog", "false")
			if c.failed {
				return nil
			}
			if deprecatedSyslog {
				l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf(
					"For [%s], %s=syslog but this is deprecated and will be removed.  Use %s_syslog=true to enable syslog instead.",
					section, key, ch))
				lg.Syslog = true
			}
			if lg.Kind == LogAuto && lg.MaxBytes == 0 {
				l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf(
					"For [%s], AUTO logging used for %s without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally",
					section, key))
			}
		}
		p.Stdout.CaptureMaxBytes, p.Stdout.EventsEnabled = stdoutCapture, stdoutEvents
		p.Stderr.CaptureMaxBytes, p.Stderr.EventsEnabled = stderrCapture, stderrEvents
		if p.RedirectStderr {
			if p.Stderr.Kind == LogFile {
				l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf(
					"For [%s], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored", section))
			}
			p.Stderr.Kind, p.Stderr.Path = LogNone, ""
		}
		cmd, found := l.raw(section, "command")
		if !found {
			c.fail(t.Pos, ErrMissing, fmt.Sprintf("program section %s does not specify a command", section), "add command=/path/to/program args")
			return nil
		}
		cmd, ok := c.get("command", nil)
		if !ok {
			return nil
		}
		p.Command = cmd.s
		p.Argv, p.ArgvErr = shlexSplit(cmd.s)
		name, err := expand(pnTemplate, exp, "process_name")
		if err != nil {
			c.fail(pnPos, ErrExpansion, err.Error(), expansionHint(err))
			return nil
		}
		p.Name = name
		procs = append(procs, &p)
	}
	slices.SortStableFunc(procs, func(a, b *Process) int {
		if a.Priority != b.Priority {
			return cmp.Compare(a.Priority, b.Priority)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return procs
}
