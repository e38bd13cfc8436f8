package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/supersede/supersede/internal/migrate"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

const aboutMigrate = `Moves a live host from supervisord to systemd, one group at a time in priority order, with a way back. It reads the running supervisord's processes over its XML-RPC API (the serverurl and credentials of [supervisorctl], or -s, -u, -p), converts the same configuration as convert does, then for each group: writes and loads its units, stops the group in supervisord (stopsignal, stopwaitsecs), starts the units of the programs that ran and waits until each is RUNNING by Supervisor's rule (startsecs); programs that were stopped stay stopped. Each program's downtime is printed. When every group has moved, supervisord is stopped, the unit that started it (supervisor.service) is disabled, supersede.target is enabled for the next boot, the serve socket is started (supervisorctl at the serverurl drives the units) and supervisorctl is linked to supersede.

If a group's units do not reach RUNNING, that group goes back to supervisord, migrate says which program failed, why (the unit's result and its last output) and how to go on, and exits 1. Every step is recorded in a state file before it is taken: run migrate again to resume an interrupted migration, or --rollback to move every migrated group back, re-enable what was disabled and remove the units and links migrate wrote (and only those). --plan prints what would be done, program by program, with each difference from Supervisor, and changes nothing.

Exit status: 0 migrated (or planned, or rolled back); 1 a runtime error or a group that did not start (moved back); 2 a configuration or usage error.`

func runMigrate(ctx context.Context, e *env) error {
	fs := flagSet(e, "migrate")
	var lf loadFlags
	lf.register(fs)
	fs.MarkHidden("lenient")
	user := fs.Bool("user", false, "move the programs to the calling user's manager (systemctl --user)")
	system := fs.Bool("system", false, "move the programs to the system manager (the default)")
	plan := fs.Bool("plan", false, "print what would be done, program by program, and change nothing")
	rollback := fs.Bool("rollback", false, "move every migrated group back to supervisord and remove what migrate wrote")
	groups := fs.StringArray("group", nil, "move only group `G` (repeatable); supervisord is retired once every group has moved")
	unitDir := fs.StringP("output", "o", "", "the unit `DIR` (default /etc/systemd/system; with --user ~/.config/systemd/user)")
	state := fs.String("state", "", "the migration's state `FILE` (default /var/lib/supersede/migrate/CONFIG.json; with --user under $XDG_STATE_HOME)")
	linkDir := fs.String("link-dir", "", "link supervisorctl to supersede in `DIR` (default: supersede's own directory, as make install LINKS=1); --link-dir= links nothing")
	prefix := fs.String("prefix", "", "put `P` before every unit name (as convert --prefix)")
	logFiles := fs.Bool("log-files", false, "keep Supervisor's log files (StandardOutput=append:) instead of the journal")
	shimPath := fs.String("shim", selfPath(e.exe), "the supersede binary `PATH` the units run as their compatibility step (as convert --shim)")
	serverURL := fs.StringP("serverurl", "s", "", "supervisord's `URL` (default: [supervisorctl] serverurl, else http://localhost:9001)")
	username := fs.StringP("username", "u", "", "the `USER` for supervisord's server (default: [supervisorctl] username)")
	password := fs.StringP("password", "p", "", "the `PASSWORD` for supervisord's server (default: [supervisorctl] password)")
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("migrate takes no arguments, got %q", fs.Args()), hint: "name the config with -c FILE and groups with --group G"}
	}
	if *user && *system {
		return &usageError{err: errors.New("--user and --system exclude each other")}
	}
	if *plan && *rollback {
		return &usageError{err: errors.New("--plan and --rollback exclude each other")}
	}
	if *rollback && len(*groups) > 0 {
		return &usageError{err: errors.New("--rollback moves every migrated group back: --group does not apply")}
	}
	if lf.lenient {
		return &usageError{err: errors.New("migrate does not take --lenient: it moves this host's programs")}
	}
	if *shimPath != "" && !filepath.IsAbs(*shimPath) {
		return &usageError{err: fmt.Errorf("--shim %s: the path must be absolute", *shimPath)}
	}
	opts, path, err := lf.resolve(e)
	if err != nil {
		return err
	}
	cfg, err := translate.Load(path, opts)
	if err != nil {
		return configFailure(e.stderr, err)
	}
	getenv := func(name string) string {
		for i := len(e.environ) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(e.environ[i], "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	scope := sysd.System
	if *user {
		scope = sysd.User
	}
	gen := unitgen.Options{Prefix: *prefix, User: *user, LogFiles: *logFiles,
		Environ: opts.Environ, Dir: opts.Dir, Shim: *shimPath, Serve: selfPath(e.exe)}
	res, err := unitgen.Generate(cfg, gen)
	if err != nil {
		return configFailure(e.stderr, err)
	}
	if *unitDir == "" {
		// the directory systemd reads is made if missing (a user's
		// ~/.config/systemd/user often is); a -o DIR must exist
		*unitDir = defaultUnitDir(*user, getenv)
		if !*plan {
			if err := os.MkdirAll(*unitDir, 0o755); err != nil {
				return err
			}
		}
	} else if !*plan {
		if err := checkOutputDir(*unitDir); err != nil {
			return err
		}
	}
	if *state == "" {
		*state = defaultStateFile(*user, getenv, cfg.File)
	}
	self := selfPath(e.exe)
	switch {
	case self == "" && !fs.Changed("link-dir"):
		// not run as an installed supersede (a renamed binary, go run):
		// nothing to link supervisorctl to
		fmt.Fprintf(e.stderr, "supersede migrate: not linking supervisorctl: %s, so there is nothing to link it to (run the installed supersede, or link it yourself afterwards)\n", noSelfReason(e.exe))
		*linkDir = ""
	case self == "" && *linkDir != "":
		return &usageError{err: fmt.Errorf("--link-dir %s: %s, so there is nothing to link supervisorctl to", *linkDir, noSelfReason(e.exe)), hint: "run the installed supersede, or pass --link-dir= to link nothing"}
	case !fs.Changed("link-dir"):
		*linkDir = filepath.Dir(self)
	}
	url, user2, pass := "http://localhost:9001", "", ""
	if cfg.Ctl != nil {
		if cfg.Ctl.ServerURL != "" {
			url = cfg.Ctl.ServerURL
		}
		if cfg.Ctl.Username != nil {
			user2 = *cfg.Ctl.Username
		}
		if cfg.Ctl.Password != nil {
			pass = *cfg.Ctl.Password
		}
	}
	if fs.Changed("serverurl") {
		url = *serverURL
	}
	if fs.Changed("username") {
		user2 = *username
	}
	if fs.Changed("password") {
		pass = *password
	}
	crash := 0
	if v := getenv("SUPERSEDE_MIGRATE_CRASH_AFTER"); v != "" {
		if crash, err = strconv.Atoi(v); err != nil {
			return &usageError{err: fmt.Errorf("SUPERSEDE_MIGRATE_CRASH_AFTER=%s: want a step number", v)}
		}
	}
	mo := migrate.Options{Config: cfg, Load: opts, Units: res, Gen: gen, Scope: scope, Getenv: getenv,
		UnitDir: *unitDir, StateFile: *state, LinkDir: *linkDir, Self: self,
		ServerURL: url, Username: user2, Password: pass, Groups: *groups,
		Out: e.stdout, Err: e.stderr, CrashAfter: crash}
	if *shimPath == "" && !fs.Changed("shim") && !*rollback {
		// as convert: the units would lose the step without a word
		fmt.Fprintf(e.stderr, "supersede migrate: %s\n", noShimWarning(e.exe))
	}
	switch {
	case *plan:
		return migrate.Plan(ctx, mo)
	case *rollback:
		return migrate.Rollback(ctx, mo)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return migrate.Run(ctx, mo)
}

// defaultUnitDir is where systemd reads an administrator's units: the
// system manager's /etc/systemd/system, or the user's own directory.
func defaultUnitDir(user bool, getenv func(string) string) string {
	if !user {
		return "/etc/systemd/system"
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "systemd", "user")
	}
	return filepath.Join(getenv("HOME"), ".config", "systemd", "user")
}

// defaultStateFile names the state file after the configuration file, in
// /var/lib/supersede/migrate (with --user, $XDG_STATE_HOME/supersede/migrate).
func defaultStateFile(user bool, getenv func(string) string, config string) string {
	dir := "/var/lib/supersede/migrate"
	if user {
		base := getenv("XDG_STATE_HOME")
		if base == "" {
			base = filepath.Join(getenv("HOME"), ".local", "state")
		}
		dir = filepath.Join(base, "supersede", "migrate")
	}
	name := strings.ReplaceAll(strings.Trim(config, string(os.PathSeparator)), string(os.PathSeparator), "_")
	return filepath.Join(dir, name+".json")
}
