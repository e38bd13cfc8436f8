package translate

import (
	"syscall"
	"time"
)

// Config is everything Supervisor 4.2.5 understood of a supervisord.conf
// and its includes. It is plain data: defaults are applied, values are
// typed, and every setting keeps the place it came from. Treat it as
// immutable once Load returns.
type Config struct {
	File    string // the main config file, absolute (Supervisor's configfile)
	Here    string // the directory %(here)s names in the main file
	Snippet bool   // lenient mode loaded the file as if included by a minimal main config

	// Placeholders are the values lenient mode gave to %(ENV_X)s names that
	// the environment did not set, sorted by name.
	Placeholders []EnvVar

	Supervisord   Supervisord
	Servers       []Server
	ServerURL     *string // the URL handed to children when a program sets none; nil without servers
	RPCInterfaces []RPCInterface
	Groups        []*Group          // in Supervisor's order: priority, then name
	Sections      []string          // raw section names in the order the ini reader met them
	SectionFiles  map[string]string // section → the file that first defined it, absolute
	Warnings      []string          // parse warnings supervisord would log
	Infos         []string          // parse infos supervisord would log
	Ctl           *Ctl              // the [supervisorctl] section as supervisorctl reads it; nil if absent

	// Notices are keys and sections Supervisor silently ignores, such as
	// a misspelt "comand": probably mistakes, never errors.
	Notices []Notice
}

// Supervisord is the [supervisord] section after defaults.
type Supervisord struct {
	Logfile         string // logfile, absolute, or "syslog"
	LogfileMaxBytes int64  // logfile_maxbytes
	LogfileBackups  int    // logfile_backups
	LogLevel        string // loglevel, lower-case name
	Pidfile         string // pidfile, absolute
	Umask           int    // umask
	Nodaemon        bool
	Silent          bool
	MinFDs          int // minfds → LimitNOFILE=
	MinProcs        int // minprocs → LimitNPROC=
	NoCleanup       bool
	ChildLogDir     string  // childlogdir, where AUTO logs go
	User            *string // user, as written
	UID             *int    // user resolved (lenient: only when numeric)
	Directory       *string // directory
	StripANSI       bool
	Environment     Env // environment, base of every process environment
	Identifier      string

	Pos    Pos            // the [supervisord] header line
	KeyPos map[string]Pos // where each key was set
}

// Server is one [unix_http_server*] or [inet_http_server*] section.
type Server struct {
	Section  string
	Name     *string // text after "name:" in the section name, nil for the unnamed one
	Username *string
	Password *string
	Unix     bool // unix_http_server; otherwise inet_http_server

	// unix_http_server
	File       string // file, absolute
	Chmod      int
	Chown      [2]*int    // uid, gid; -1 means unchanged; nil when lenient could not resolve a name
	ChownNames [2]*string // lenient: the names as written; nil means not given

	// inet_http_server
	Host string // lower-case; "" means all interfaces
	Port int

	Pos    Pos            // the section header line
	KeyPos map[string]Pos // where each key was set
}

// RPCInterface is one [rpcinterface:NAME] section.
type RPCInterface struct {
	Name    string
	Factory string   // supervisor.rpcinterface_factory as module:attr
	Extras  []EnvVar // every other key, in the order read
	Pos     Pos
	KeyPos  map[string]Pos // where each key was set
}

// GroupType is the kind of section a process group comes from.
type GroupType int

const (
	GroupProgram       GroupType = iota // [program:x] or [group:x]
	GroupEventListener                  // [eventlistener:x]
	GroupFCGI                           // [fcgi-program:x]
)

func (t GroupType) String() string {
	switch t {
	case GroupEventListener:
		return "eventlistener"
	case GroupFCGI:
		return "fcgi-program"
	}
	return "program"
}

// Group is a process group as supervisord builds it: a [group:x], or the
// homogeneous group of one program, listener pool or fcgi program.
type Group struct {
	Name     string
	Type     GroupType
	Section  string // "group:x" for a heterogeneous group, else the program's section
	Priority int
	File     string // the file that first defined Section, absolute

	// eventlistener pools
	BufferSize    int
	Events        []string // sorted event type names
	ResultHandler string   // module:attr

	Socket *Socket // fcgi-program only

	Processes []*Process // config order (sorted per section by priority, name)

	Pos    Pos            // the header line of Section
	KeyPos map[string]Pos // where each key of Section was set
}

// Socket is the socket of an [fcgi-program:x].
type Socket struct {
	URL        string // unix:///abs/path or tcp://host:port
	Backlog    *int
	Mode       *int        // unix only
	Owner      *[2]*int    // uid, gid; nil when not set
	OwnerNames *[2]*string // lenient: the names as written
	Pos        Pos
}

// Restart is supervisord's autorestart setting.
type Restart int

const (
	RestartUnexpected Restart = iota // autorestart=unexpected (the default)
	RestartNever                     // autorestart=false
	RestartAlways                    // autorestart=true
)

func (r Restart) String() string {
	switch r {
	case RestartNever:
		return "false"
	case RestartAlways:
		return "true"
	}
	return "unexpected"
}

// Process is one process after numprocs expansion. Comments name the
// supervisord key.
type Process struct {
	Name           string // process_name, expanded
	Group          string // the owning group's name
	Section        string // the section it was built from
	Command        string // command, expanded
	Argv           []string
	ArgvErr        error   // command cannot be split (spawn error under Supervisor)
	Dir            *string // directory
	Env            Env     // environment merged over [supervisord] environment
	Priority       int     // priority
	AutoStart      bool
	AutoRestart    Restart
	ExitCodes      []int          // exitcodes
	MinUptime      time.Duration  // startsecs: how long it must run to count as started
	StartRetries   int            // startretries
	StopSignal     syscall.Signal // stopsignal
	StopWait       time.Duration  // stopwaitsecs
	StopAsGroup    bool
	KillAsGroup    bool
	User           *string // user, as written
	UID            *int    // user resolved (lenient: only when numeric)
	Umask          *int
	RedirectStderr bool
	ServerURL      *string // serverurl; nil means AUTO
	Stdout         Log
	Stderr         Log

	Pos    Pos            // the section header line
	KeyPos map[string]Pos // where each key was set
}

// Namespec is the name supervisorctl shows: "group:name", or "name" when
// group and process share it.
func (p *Process) Namespec() string {
	if p.Group == p.Name {
		return p.Name
	}
	return p.Group + ":" + p.Name
}

// LogKind says where a process's output goes.
type LogKind int

const (
	LogAuto LogKind = iota // AUTO: a file in childlogdir
	LogNone                // NONE, OFF, redirected stderr, or syslog only
	LogFile                // a path
)

// Log is one of a process's output channels (stdout_* / stderr_*).
type Log struct {
	Kind            LogKind
	Path            string // LogFile only; may be relative, as Supervisor keeps it
	MaxBytes        int64  // *_logfile_maxbytes; 0 means no rotation
	Backups         int    // *_logfile_backups
	CaptureMaxBytes int64  // *_capture_maxbytes
	EventsEnabled   bool   // *_events_enabled
	Syslog          bool   // *_syslog
}

// Ctl is the [supervisorctl] section as supervisorctl reads it.
type Ctl struct {
	ServerURL   string
	Username    *string
	Password    *string
	Prompt      string
	HistoryFile *string
	Err         string // supervisorctl would refuse the file with this message

	main *mainRead // the main file as LoadCtl parsed it, for Options.Main
}

// mainRead is a main file parsed by LoadCtl, which Load can take over
// instead of reading and parsing the file again.
type mainRead struct {
	path, dir string
	p         *iniParser
}

// EnvVar is one NAME=value pair.
type EnvVar struct {
	Name  string
	Value string
}

// Env is an ordered environment: the order is Python dict order (first
// insertion), the value the last one set.
type Env []EnvVar

// Get returns the value of name.
func (e Env) Get(name string) (string, bool) {
	for _, v := range e {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// Set sets name, keeping its first position as a Python dict does.
func (e Env) Set(name, value string) Env {
	for i := range e {
		if e[i].Name == name {
			e[i].Value = value
			return e
		}
	}
	return append(e, EnvVar{name, value})
}

// SignalName is the signal's name without "SIG" as Python's
// signal.Signals names it ("TERM", "RTMIN"), or its number.
func SignalName(sig syscall.Signal) string { return signalName(sig) }
