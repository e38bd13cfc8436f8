package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/translate"
)

// parseRunFlags parses args as `supersede run` does.
func parseRunFlags(t *testing.T, args ...string) *runFlags {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f runFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { f.set[fl.Name] = true })
	return &f
}

func TestRunFlagsOverride(t *testing.T) {
	dir := t.TempDir()
	cfg := &translate.Config{Supervisord: translate.Supervisord{
		Logfile: "/var/log/x.log", LogfileMaxBytes: 1, LogfileBackups: 2, LogLevel: "info",
		Pidfile: "/run/x.pid", Umask: 0o22, MinFDs: 1024, MinProcs: 200, Identifier: "supervisor",
		ChildLogDir: "/tmp",
	}}
	f := parseRunFlags(t, "-n", "-s", "-k", "-t", "-m", "077", "-d", dir, "-l", "main.log",
		"-y", "5MB", "-z", "3", "-e", "DEBUG", "-j", dir+"/p.pid", "-i", "ident", "-q", dir,
		"-a", "2048", "--minprocs", "300", "-u", "0")
	if err := f.apply(cfg, "/work"); err != nil {
		t.Fatal(err)
	}
	sv := cfg.Supervisord
	if !sv.Nodaemon || !sv.Silent || !sv.NoCleanup || !sv.StripANSI {
		t.Errorf("boolean options not applied: %+v", sv)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"umask", sv.Umask, 0o77},
		{"directory", *sv.Directory, dir},
		{"logfile", sv.Logfile, "/work/main.log"},
		{"logfile_maxbytes", sv.LogfileMaxBytes, int64(5 << 20)},
		{"logfile_backups", sv.LogfileBackups, 3},
		{"loglevel", sv.LogLevel, "debug"},
		{"pidfile", sv.Pidfile, dir + "/p.pid"},
		{"identifier", sv.Identifier, "ident"},
		{"childlogdir", sv.ChildLogDir, dir},
		{"minfds", sv.MinFDs, 2048},
		{"minprocs", sv.MinProcs, 300},
		{"uid", *sv.UID, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRunFlagsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", "9"}, "invalid value for -m '9': 9 can not be converted to an octal type"},
		{[]string{"-y", "lots"}, "invalid value for -y 'lots': invalid literal for int() with base 10: 'lots'"},
		{[]string{"-z", "x"}, "invalid value for -z 'x': invalid literal for int() with base 10: 'x'"},
		{[]string{"-e", "loud"}, "invalid value for -e 'loud': bad logging level name 'loud'"},
		{[]string{"-d", "/nonexistent"}, "invalid value for -d '/nonexistent': /nonexistent is not an existing directory"},
		{[]string{"-l", "/nonexistent/x.log"}, "invalid value for -l '/nonexistent/x.log': The directory named as part of the path /nonexistent/x.log does not exist"},
		{[]string{"-u", "no-such-user-here"}, "Invalid user name no-such-user-here"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cfg := &translate.Config{}
			err := parseRunFlags(t, c.args...).apply(cfg, "/")
			var ue *usageError
			if !errors.As(err, &ue) || err.Error() != c.want {
				t.Errorf("apply = %v, want usage error %q", err, c.want)
			}
		})
	}
}
