package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/fallback"
	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/internal/daemon"
	"github.com/supersede/supersede/internal/webui"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

var _ xmlrpc.Backend = (*fallback.Supervisor)(nil)

// exitFatal is the exit status of `supersede run --exit-on-fatal` when a
// process it watches entered FATAL.
const exitFatal = 3

// exitError ends a command with a given exit status after printing err
// (report in run.go).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// supervisordVersion is what supervisord -v prints: the version whose
// behaviour supersede run reproduces.
const supervisordVersion = "4.2.5"

// runFlags are supervisord's command-line options.
type runFlags struct {
	load        loadFlags
	nodaemon    bool
	silent      bool
	user        string
	umask       string
	directory   string
	logfile     string
	maxbytes    string
	backups     string
	loglevel    string
	pidfile     string
	identifier  string
	childlogdir string
	nocleanup   bool
	minfds      string
	minprocs    string
	stripANSI   bool
	version     bool
	exitOnFatal string
	prefix      bool
	profile     string
	set         map[string]bool // flags given
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	f.load.register(fs)
	fs.MarkHidden("lenient")
	fs.BoolVarP(&f.nodaemon, "nodaemon", "n", false, "run in the foreground (nodaemon=true)")
	fs.BoolVarP(&f.silent, "silent", "s", false, "with -n, no log to stdout (silent=true)")
	fs.StringVarP(&f.user, "user", "u", "", "run as this `USER` (a name or a numeric uid)")
	fs.StringVarP(&f.umask, "umask", "m", "", "the `UMASK` of the daemon when it daemonizes (default 022)")
	fs.StringVarP(&f.directory, "directory", "d", "", "the `DIR` to chdir to when daemonized")
	fs.StringVarP(&f.logfile, "logfile", "l", "", "the main log `FILE`, or syslog")
	fs.StringVarP(&f.maxbytes, "logfile_maxbytes", "y", "", "rotate the main log at this size in `BYTES` (KB, MB, GB allowed; 0: never)")
	fs.StringVarP(&f.backups, "logfile_backups", "z", "", "keep `NUM` rotated main logs")
	fs.StringVarP(&f.loglevel, "loglevel", "e", "", "the log `LEVEL`: critical, error, warn, info, debug, trace or blather")
	fs.StringVarP(&f.pidfile, "pidfile", "j", "", "write the daemon's pid to `FILE`")
	fs.StringVarP(&f.identifier, "identifier", "i", "", "`ID`: the identifier of this supervisord")
	fs.StringVarP(&f.childlogdir, "childlogdir", "q", "", "`DIR`: where AUTO child logs go")
	fs.BoolVarP(&f.nocleanup, "nocleanup", "k", false, "keep old AUTO child logs at start")
	fs.StringVarP(&f.minfds, "minfds", "a", "", "`NUM`: the file descriptors needed to start")
	fs.StringVar(&f.minprocs, "minprocs", "", "`NUM`: the processes needed to start")
	fs.BoolVarP(&f.stripANSI, "strip_ansi", "t", false, "strip ANSI escapes from child output")
	fs.BoolVarP(&f.version, "version", "v", false, "print supervisord's version and exit")
	fs.StringVar(&f.exitOnFatal, "exit-on-fatal", "", "exit (status 3) when a process enters FATAL; with =`NAME,...` only those (name, group:name or group)")
	fs.Lookup("exit-on-fatal").NoOptDefVal = "all"
	fs.BoolVar(&f.prefix, "prefix-output", false, "start each line a program writes to the daemon's stdout or stderr (stdout_logfile=/dev/stdout) with 'NAME | '")
	fs.StringVar(&f.profile, "profile_options", "", "accepted for supervisord's sake; ignored")
	fs.MarkHidden("profile_options")
}

// runDaemon is `supersede run`: supervisord 4.2.5 in Go. It reads the
// configuration as supervisord does (command-line options override the
// [supervisord] section), daemonizes unless nodaemon, serves the XML-RPC
// API on the configured sockets and supervises the programs until a stop
// signal or the shutdown RPC; SIGHUP and the restart RPC read the
// configuration again in the same process.
func runDaemon(ctx context.Context, e *env) error {
	fs := flagSet(e, "run")
	var f runFlags
	f.register(fs)
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if f.version {
		fmt.Fprintln(e.stdout, supervisordVersion)
		return nil
	}
	if fs.NArg() > 0 {
		// supervisord's text, with the arguments as Python's list repr
		quoted := make([]string, fs.NArg())
		for i, a := range fs.Args() {
			quoted[i] = daemon.Repr(a)
		}
		return supervisordUsage("positional arguments are not supported: [" + strings.Join(quoted, ", ") + "]")
	}
	if f.load.lenient {
		return &usageError{err: errors.New("run does not take --lenient: it needs the host's users and directories")}
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { f.set[fl.Name] = true })

	d := &runner{e: e, flags: &f}
	return d.run(ctx)
}

// runner is one `supersede run` process across restarts: fallback's
// Supervisor in internal/daemon's skeleton.
type runner struct {
	e      *env
	flags  *runFlags
	opts   translate.Options
	path   string
	log    *logfile.MainLog
	logger *slog.Logger
	child  bool // the re-executed, daemonized process
}

func (d *runner) run(ctx context.Context) error {
	// Before anything is written: stdout and stderr redirected to one
	// file must not overwrite each other. Setting O_APPEND on a
	// descriptor we hold cannot fail; the error is for the record.
	_ = logfile.AppendStdStreams()
	opts, err := d.flags.load.options(d.e)
	if err != nil {
		return err
	}
	d.opts = opts
	if d.path, err = d.flags.load.path(d.e, opts.Dir); err != nil {
		return err
	}
	nfds, child, environ := daemon.Child(d.opts.Environ)
	d.child, d.opts.Environ = child, environ
	cfg, err := d.load()
	if err != nil {
		return err
	}
	sv := &cfg.Supervisord
	// set_rlimits_or_exit, at the first start only
	var rlimitInfos []string
	if !d.child {
		if rlimitInfos, err = daemon.SetRlimits(sv.MinFDs, sv.MinProcs); err != nil {
			return err
		}
	}

	sigs, stopSigs := daemon.Signals()
	defer stopSigs()

	var bus *events.Bus
	for first := true; ; first = false {
		if !first {
			if cfg, err = d.load(); err != nil {
				return err
			}
			sv = &cfg.Supervisord
			rlimitInfos = nil
		}
		// set_uid_or_exit, at every (re)start
		var infos, criticals []string
		switch {
		case sv.UID == nil:
			if os.Getuid() == 0 {
				criticals = append(criticals, "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.")
			}
		default:
			if msg := daemon.DropPrivileges(*sv.UID); msg != "" {
				return supervisordUsage(msg)
			}
			infos = append(infos, "Set uid to user "+strconv.Itoa(*sv.UID)+" succeeded")
		}
		infos = append(infos, rlimitInfos...)
		if d.log, err = daemon.OpenMainLog(sv); err != nil {
			return err
		}
		d.logger = slog.New(d.log)
		// The daemon's first start: the parent logged all this already.
		daemonStart := first && d.child
		if !daemonStart {
			for _, m := range criticals {
				d.log.Log(fallback.LevelCritical, m)
			}
			for _, m := range cfg.Warnings {
				d.log.Log(slog.LevelWarn, m)
			}
			for _, m := range append(cfg.Infos, infos...) {
				d.log.Log(slog.LevelInfo, m)
			}
			if !sv.NoCleanup {
				for _, w := range logfile.ClearAutoDir(sv.ChildLogDir, sv.Identifier) {
					d.log.Log(slog.LevelWarn, w)
				}
			}
		}
		var lns []net.Listener
		if daemonStart {
			lns, err = daemon.Inherit(nfds, cfg.Servers)
		} else {
			lns, err = daemon.Listen(cfg.Servers, d.logger)
		}
		if err != nil {
			d.log.Close()
			return err
		}
		if first && !sv.Nodaemon && !d.child {
			err := d.daemonize(lns)
			d.log.Close()
			return err
		}
		if daemonStart {
			// Relative commands and paths are relative to directory=
			// from now on; the configuration file stays where it was.
			d.path = absPath(d.path, d.opts.Dir)
			d.opts.Dir = daemon.Enter(sv, d.opts.Dir, d.logger)
		}
		if bus == nil {
			bus = events.NewBus(events.Options{Identifier: sv.Identifier, Logger: d.logger})
			defer bus.Close()
		} else {
			bus.SetIdentifier(sv.Identifier)
		}
		s, err := fallback.New(cfg, fallback.Options{
			Logger:       d.logger,
			Environ:      d.opts.Environ,
			Dir:          d.opts.Dir,
			Signals:      sigs,
			Load:         d.load,
			MainLog:      d.log,
			Events:       bus,
			ExitOnFatal:  d.flags.exitOnFatal != "",
			PrefixOutput: d.flags.prefix,
			ExitOnFatalNames: func() []string {
				if d.flags.exitOnFatal == "" || d.flags.exitOnFatal == "all" {
					return nil
				}
				return strings.Split(d.flags.exitOnFatal, ",")
			}(),
		})
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			d.log.Close()
			return err
		}
		pidWritten := d.writePidfile(sv.Pidfile)
		err = d.serve(ctx, s, cfg, lns)
		if pidWritten {
			daemon.RemovePidfile(sv.Pidfile)
		}
		d.log.Close()
		if errors.Is(err, fallback.ErrRestart) {
			continue
		}
		var fe *fallback.FatalError
		if errors.As(err, &fe) {
			return &exitError{code: exitFatal, err: err}
		}
		return err
	}
}

// writePidfile writes the pidfile and logs as supervisord's
// write_pidfile does.
func (d *runner) writePidfile(path string) bool {
	if err := daemon.WritePidfile(path); err != nil {
		d.log.Log(logfile.LevelCritical, "could not write pidfile "+path)
		return false
	}
	d.logger.Info(fmt.Sprintf("supervisord started with pid %d", os.Getpid()))
	return true
}

// daemonize hands the listeners to the daemon (internal/daemon) and
// returns: the parent's work is done.
func (d *runner) daemonize(lns []net.Listener) error {
	argv := []string{d.e.exe}
	if filepath.Base(d.e.exe) != "supervisord" {
		argv = append(argv, "run")
	}
	argv = append(argv, d.e.args...)
	if _, err := daemon.Daemonize(argv, d.e.environ, d.opts.Dir, lns); err != nil {
		return err
	}
	d.log.Log(logfile.LevelBlather, "supervisord forked; parent exiting")
	return nil
}

// serve runs the XML-RPC servers and the supervisor until it ends.
func (d *runner) serve(ctx context.Context, s *fallback.Supervisor, cfg *translate.Config, lns []net.Listener) error {
	procs := 0
	for _, g := range cfg.Groups {
		procs += len(g.Processes)
	}
	// Descriptors for the processes of the configuration are kept from
	// the API's connections (xmlrpc.ConnLimit).
	srv := xmlrpc.NewServer(s, xmlrpc.Options{
		Logger: d.logger,
		Limits: xmlrpc.Limits{MaxConns: xmlrpc.ConnLimit(procs)},
		UI: func(api *xmlrpc.Local) http.Handler {
			return webui.New(api, webui.Options{}) // the status page
		},
	})
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for i, ln := range lns {
		c := cfg.Servers[i]
		auth := daemon.AuthOf(c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(sctx, ln, auth); err != nil {
				d.logger.Error(fmt.Sprintf("serving %s: %v", c.Section, err))
			}
		}()
	}
	// SIGTERM and SIGINT reach the supervisor through sigs, which logs
	// "received SIGTERM indicating exit request" before it stops anything,
	// as supervisord does; the command's context, cancelled by the same
	// signals, must not start a silent shutdown ahead of it.
	err := s.Run(context.WithoutCancel(ctx))
	// the answer to the shutdown call that ended Run is still being
	// written: a graceful stop, bounded
	sdctx, sdcancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(sdctx)
	sdcancel()
	cancel()
	wg.Wait()
	daemon.CloseListeners(lns)
	return err
}

// load reads the configuration and applies the command-line overrides,
// as supervisord's ServerOptions.realize does on every (re)start.
func (d *runner) load() (*translate.Config, error) {
	cfg, err := translate.Load(d.path, d.opts)
	if err != nil {
		var list translate.ErrorList
		var te *translate.Error
		if errors.As(err, &list) || errors.As(err, &te) {
			if isSupervisordName(d.e.exe) {
				// as supervisord prints its first problem
				fmt.Fprintf(d.e.stderr, "Error: %s\nFor help, use %s -h\n", translate.SupervisorMessage(err), supervisordPath(d.e.exe))
			} else {
				printConfigErrors(d.e.stderr, err)
			}
			return nil, &configError{err}
		}
		return nil, err
	}
	if err := d.flags.apply(cfg, d.opts.Dir); err != nil {
		return nil, err
	}
	compact(cfg)
	return cfg, nil
}

// compact drops from cfg what the daemon never reads and would otherwise
// keep as long as it runs: where each key of each section was set, a
// map per section, more than a third of a big configuration's memory.
// An event listener group keeps its own: fallback/events reports a bad
// pool setting at its key.
func compact(cfg *translate.Config) {
	cfg.Sections, cfg.SectionFiles = nil, nil
	cfg.Supervisord.KeyPos = nil
	for i := range cfg.Servers {
		cfg.Servers[i].KeyPos = nil
	}
	for i := range cfg.RPCInterfaces {
		cfg.RPCInterfaces[i].KeyPos = nil
	}
	for _, g := range cfg.Groups {
		if g.Type != translate.GroupEventListener {
			g.KeyPos = nil
		}
		for _, p := range g.Processes {
			p.KeyPos = nil
		}
	}
}

// supervisordUsage is supervisord's usage(): an error that exits 2.
func supervisordUsage(msg string) error {
	return &usageError{err: &daemon.UsageError{Msg: msg}}
}

// apply overrides the [supervisord] section with the options given.
func (f *runFlags) apply(cfg *translate.Config, dir string) error {
	sv := &cfg.Supervisord
	bad := func(opt, val string, err error) error {
		return supervisordUsage(fmt.Sprintf("invalid value for %s %s: %v", opt, daemon.Repr(val), err))
	}
	if f.nodaemon {
		sv.Nodaemon = true
	}
	if f.silent {
		sv.Silent = true
	}
	if f.nocleanup {
		sv.NoCleanup = true
	}
	if f.stripANSI {
		sv.StripANSI = true
	}
	if f.set["user"] {
		uid, err := nameToUID(f.user)
		if err != nil {
			return supervisordUsage(err.Error())
		}
		sv.User, sv.UID = &f.user, &uid
	}
	if f.set["umask"] {
		v, err := strconv.ParseInt(f.umask, 8, 32)
		if err != nil {
			return bad("-m", f.umask, fmt.Errorf("%s can not be converted to an octal type", f.umask))
		}
		sv.Umask = int(v)
	}
	if f.set["directory"] {
		p, err := existingDirectory(f.directory)
		if err != nil {
			return bad("-d", f.directory, err)
		}
		sv.Directory = &p
	}
	if f.set["logfile"] {
		p, err := existingDirpath(f.logfile)
		if err != nil {
			return bad("-l", f.logfile, err)
		}
		if p != "syslog" {
			p = absPath(p, dir)
		}
		sv.Logfile = p
	}
	if f.set["logfile_maxbytes"] {
		n, err := byteSize(f.maxbytes)
		if err != nil {
			return bad("-y", f.maxbytes, err)
		}
		sv.LogfileMaxBytes = n
	}
	if f.set["logfile_backups"] {
		n, err := pyInt(f.backups)
		if err != nil {
			return bad("-z", f.backups, err)
		}
		sv.LogfileBackups = n
	}
	if f.set["loglevel"] {
		l := strings.ToLower(f.loglevel)
		if _, ok := logfile.ParseLevel(l); !ok {
			return bad("-e", f.loglevel, fmt.Errorf("bad logging level name %s", daemon.Repr(f.loglevel)))
		}
		sv.LogLevel = l
	}
	if f.set["pidfile"] {
		p, err := existingDirpath(f.pidfile)
		if err != nil {
			return bad("-j", f.pidfile, err)
		}
		sv.Pidfile = absPath(p, dir)
	}
	if f.set["identifier"] {
		sv.Identifier = f.identifier
	}
	if f.set["childlogdir"] {
		p, err := existingDirectory(f.childlogdir)
		if err != nil {
			return bad("-q", f.childlogdir, err)
		}
		sv.ChildLogDir = p
	}
	if f.set["minfds"] {
		n, err := pyInt(f.minfds)
		if err != nil {
			return bad("-a", f.minfds, err)
		}
		sv.MinFDs = n
	}
	if f.set["minprocs"] {
		n, err := pyInt(f.minprocs)
		if err != nil {
			return bad("--minprocs", f.minprocs, err)
		}
		sv.MinProcs = n
	}
	return nil
}

// The small converters of supervisor/datatypes.py that the command line
// needs. TODO(lead): translate could export its own (signalNumber,
// byteSize, octalType, loggingLevel, nameToUID) so that these go.

func pyInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", daemon.Repr(s))
	}
	return n, nil
}

func byteSize(s string) (int64, error) {
	v := strings.ToLower(s)
	mult := int64(1)
	for suf, m := range map[string]int64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30} {
		if strings.HasSuffix(v, suf) {
			v, mult = v[:len(v)-2], m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", daemon.Repr(v))
	}
	return n * mult, nil
}

func nameToUID(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		if _, err := user.LookupId(name); err != nil {
			return 0, fmt.Errorf("Invalid user id %s", name)
		}
		return n, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("Invalid user name %s", name)
	}
	return strconv.Atoi(u.Uid)
}

func expandUser(v string) string {
	if v == "~" || strings.HasPrefix(v, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + v[1:]
		}
	}
	return v
}

func existingDirectory(v string) (string, error) {
	nv := expandUser(v)
	if st, err := os.Stat(nv); err == nil && st.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("%s is not an existing directory", v)
}

func existingDirpath(v string) (string, error) {
	nv := expandUser(v)
	dir := filepath.Dir(nv)
	if !strings.Contains(nv, "/") {
		return nv, nil
	}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("The directory named as part of the path %s does not exist", v)
}

func absPath(p, dir string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
