package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/internal/fallbacktest"
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

// logTime is the time at the start of a line of supervisord's log.
var logTime = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)

// TestSupervisordErrors runs supersede under the name supervisord and
// the real supervisord with the same bad command lines and
// configurations: both print the same "Error: ..." and "For help, use
// PATH -h" (PATH being each one's own) and exit 2. Under `supersede
// run` the same errors are named after the command.
func TestSupervisordErrors(t *testing.T) {
	t.Parallel()
	fallbacktest.RequireSupervisor(t)
	ours, err := exec.LookPath("supervisord")
	if err != nil || ours == fallbacktest.SupervisordPath {
		t.Fatalf("the test binary is not on PATH as supervisord: %q, %v", ours, err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"bad.conf":    "[supervisord]\n[program:x]\ncommand=sleep 1\nautostart=maybe\n",
		"nocmd.conf":  "[supervisord]\n[program:x]\n",
		"group.conf":  "[supervisord]\n[program:x]\ncommand=sleep 1\n[group:g]\nprograms=y\n",
		"badsec.conf": "[supervisord]\n[program:x]\ncommand=sleep 1\n[eventlistener:l]\ncommand=sleep 1\n",
		"good.conf":   "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\n[unix_http_server]\nfile=%(here)s/sock\n[program:x]\ncommand=sleep 1\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// a live server where good.conf wants its socket: it answers
	// supervisord's probe (a GET, then one byte read)
	ln, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				http.ReadRequest(bufio.NewReader(c))
				io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
			}()
		}
	}()
	runIn := func(exe string, args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			code = xe.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", exe, err)
		}
		text := logTime.ReplaceAllString(out.String(), "TIME ")
		return strings.ReplaceAll(text, "For help, use "+exe+" -h", "For help, use SUPERVISORD -h"), code
	}
	for _, c := range []struct {
		args []string
		run  string // the start of a line of `supersede run ARGS`' output
	}{
		{[]string{"-n", "-c", "missing.conf"}, "missing.conf: no config file: could not find config file missing.conf"},
		{[]string{"-n", "-c", "bad.conf"}, "bad.conf:4: invalid value: not a valid boolean value: 'maybe' in [program:x]"},
		{[]string{"-n", "-c", "nocmd.conf"}, "nocmd.conf:2: missing setting: program section program:x does not specify a command in [program:x]"},
		{[]string{"-n", "-c", "group.conf"}, "group.conf:5: unknown reference: [group:g] names unknown program or fcgi-program y"},
		{[]string{"-n", "-c", "badsec.conf"}, "badsec.conf:4: "},
		{[]string{"-n", "-c", "good.conf"}, "supersede run: Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord."},
		{[]string{"-n", "-c", "good.conf", "extra", "it's"}, `supersede run: positional arguments are not supported: ['extra', "it's"]`},
		{[]string{"-n", "-c", "good.conf", "--bogus"}, "supersede run: unknown flag: --bogus"},
		{[]string{"-n", "-c", "good.conf", "-x"}, "supersede run: unknown shorthand flag: 'x' in -x"},
		{[]string{"-c"}, "supersede run: flag needs an argument: 'c' in -c"},
		{[]string{"--configuration"}, "supersede run: flag needs an argument: --configuration"},
		{[]string{"-n", "-c", "good.conf", "-u", "no-such-user-here"}, "supersede run: Invalid user name no-such-user-here"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			want, wcode := runIn(fallbacktest.SupervisordPath, c.args...)
			got, gcode := runIn(ours, c.args...)
			if got != want || gcode != wcode {
				t.Errorf("as supervisord, exit %d:\n%s\nthe real supervisord, exit %d:\n%s", gcode, got, wcode, want)
			}
			exe, _ := exec.LookPath("supersede")
			run, code := runIn(exe, append([]string{"run"}, c.args...)...)
			if code != 2 || !strings.HasPrefix(run, c.run) && !strings.Contains(run, "\n"+c.run) {
				t.Errorf("supersede run: exit %d:\n%s\nwant exit 2, starting %q", code, run, c.run)
			}
		})
	}
}
