package ctl

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/xmlrpc"
)

// The differential tests run the real supervisorctl 4.2.5 and this port
// with the same arguments, directory and standard input against the same
// server at (nearly) the same moment, and require the same standard
// output, standard error and exit status.

// TestMain runs the differential tests all at once unless -parallel is
// given: they spend their time waiting for supervisord's one-second
// loop, not computing.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	fallbacktest.Main(m)
}

// realCtl is the program the port must match; its sys.argv[0] is also
// the program name in its usage texts, so the port is given the same.
const realCtl = fallbacktest.SupervisorctlPath

// outcome is one run of either.
type outcome struct {
	Stdout, Stderr string
	Code           int
}

func (o outcome) String() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s\nexit %d", o.Stdout, o.Stderr, o.Code)
}

// realRun runs the real supervisorctl in dir.
func realRun(t *testing.T, dir, stdin string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, realCtl, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	o := outcome{Stdout: out.String(), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		o.Code = exit.ExitCode()
	default:
		t.Fatalf("%s %q: %v\n%s", realCtl, args, err, o)
	}
	return o
}

// syncBuffer is a command's output that a test polls.
type syncBuffer = fallbacktest.SyncBuffer

// ourStart starts the port as `supervisorctl ARGS` would run in dir,
// with an XML-RPC client, and returns its outputs and a channel that
// yields the exit status. interrupt, if not nil, is its Ctrl-C.
func ourStart(t *testing.T, ctx context.Context, dir, stdin string, interrupt <-chan os.Signal, args ...string) (stdout, stderr *syncBuffer, code <-chan int) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ch := make(chan int, 1)
	opts, c := parseArgs(realCtl, args, os.Environ(), dir, stdout, stderr)
	if c >= 0 {
		ch <- c
		return stdout, stderr, ch
	}
	if opts.MissingSection { // as cmd/supersede does for the XML-RPC transport
		ch <- opts.UsageError(stderr, MissingSectionError)
		return stdout, stderr, ch
	}
	opts.Interrupt = interrupt
	opts.Dial = func(url, user, pass string) (Conn, error) {
		cl, err := xmlrpc.NewClient(url, user, pass)
		if err != nil {
			return nil, err
		}
		return cl, nil
	}
	var conn Conn
	u, p := opts.Credentials()
	cl, err := xmlrpc.NewClient(opts.ServerURL, u, p)
	if err == nil {
		conn = cl
	}
	go func() {
		ch <- Run(ctx, conn, opts, strings.NewReader(stdin), stdout, stderr)
		if cl != nil {
			cl.Close()
		}
	}()
	return stdout, stderr, ch
}

// ourRun runs the port to its end.
func ourRun(t *testing.T, dir, stdin string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, stderr, code := ourStart(t, ctx, dir, stdin, nil, args...)
	c := <-code
	return outcome{Stdout: stdout.String(), Stderr: stderr.String(), Code: c}
}

// Normalisation, only where the two runs cannot agree: they happen a few
// hundred milliseconds apart, so an uptime may have ticked, and a stop
// time ("Nov 27 10:44 AM") may have crossed a minute.
var (
	uptimeRE   = regexp.MustCompile(`uptime (\d+ days?, )?\d+:\d\d:\d\d`)
	stopTimeRE = regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d [AP]M\b`)
)

func normalize(s string) string {
	s = uptimeRE.ReplaceAllString(s, "uptime H:MM:SS")
	return stopTimeRE.ReplaceAllString(s, "Mon DD HH:MM AM")
}

// step is one differential case: supervisorctl's arguments (after -c
// CONF unless raw), its standard input, and what to do before each of
// the two runs so that both start from the same state.
type step struct {
	args  []string
	stdin string
	raw   bool // args are the whole command line (no -c CONF)
	setup func(t *testing.T)
	// sorted compares the lines in sorted order: supervisord reports
	// the results of a group or "all" operation in the order the
	// processes finished, which differs from run to run.
	sorted bool
}

// compare runs the step with both and reports any difference; it
// returns the real run.
func compare(t *testing.T, dir, conf string, s step) outcome {
	t.Helper()
	args := s.args
	if !s.raw {
		args = append([]string{"-c", conf}, args...)
	}
	if s.setup != nil {
		s.setup(t)
	}
	want := realRun(t, dir, s.stdin, args...)
	if s.setup != nil {
		s.setup(t)
	}
	got := ourRun(t, dir, s.stdin, args...)
	checkSame(t, args, s.stdin, want, got, s.sorted)
	return want
}

func checkSame(t *testing.T, args []string, stdin string, want, got outcome, sorted bool) {
	t.Helper()
	w, g := want, got
	for _, o := range []*outcome{&w, &g} {
		o.Stdout, o.Stderr = normalize(o.Stdout), normalize(o.Stderr)
		if sorted {
			o.Stdout = sortLines(o.Stdout)
		}
	}
	if w != g {
		in := ""
		if stdin != "" {
			in = fmt.Sprintf(" <<< %q", stdin)
		}
		t.Errorf("supervisorctl %q%s:\n--- supervisorctl\n%s\n--- ctl\n%s", args, in, w, g)
	}
}

func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// rpc calls the daemon directly, for setups; faults are ignored.
func rpc(t *testing.T, d *fallbacktest.Daemon, method string, args ...any) any {
	t.Helper()
	c, err := xmlrpc.NewClient("unix://"+d.Sock, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Call(context.Background(), method, args...)
	var f *xmlrpc.Fault
	if err != nil && !errors.As(err, &f) {
		t.Fatalf("%s: %v", method, err)
	}
	return v
}

// waitLog waits until name's log on channel holds want.
func waitLog(t *testing.T, d *fallbacktest.Daemon, name, channel, want string) {
	t.Helper()
	method := "supervisor.readProcessStdoutLog"
	if channel == "stderr" {
		method = "supervisor.readProcessStderrLog"
	}
	if err := d.WaitFor(name+"'s "+channel+" log", func() bool {
		s, _ := rpc(t, d, method, name, 0, 0).(string)
		return strings.Contains(s, want)
	}); err != nil {
		t.Fatal(err)
	}
}

// mainConfig is the daemon most cases run against.
var mainConfig = fallbacktest.Config{
	Sections: `
[program:sleeper]
command=sleep 1000
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:talker]
command=sh -c 'echo out; echo err >&2; exec sleep 1000'
startsecs=0

[program:noout]
command=sleep 1000
stdout_logfile=NONE
startsecs=0

[program:a_really_long_program_name_over_thirty]
command=sleep 1000
startsecs=0

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 1000
startsecs=0

[program:gb]
command=sleep 1000
autostart=false
startsecs=0

[program:multi]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`,
}

func startDaemon(t *testing.T, cfg fallbacktest.Config) *fallbacktest.Daemon {
	t.Helper()
	d, err := fallbacktest.Start(t, fallbacktest.Supervisord, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readOnlyCases leave the daemon of mainConfig as they found it.
func readOnlyCases() [][]string {
	cases := [][]string{
		{"status"}, {"status", "sleeper"}, {"status", "grp:*"}, {"status", "grp:"}, {"status", "nosuch"},
		{"status", "nosuch:*"}, {"status", "grp:nosuch"}, {"status", "manual"}, {"status", "nosuch", "manual"},
		{"status", "manual", "nosuch"}, {"status", "all"}, {"status", "a_really_long_program_name_over_thirty"},
		{"status", "multi:*", "sleeper"}, {"status", "multi"}, {"status", "all", "nosuch"}, {"status", "ga"},
		{"pid", "sleeper"}, {"pid", "manual"}, {"pid", "nosuch"}, {"pid", "all"}, {"pid", "grp:*"},
		{"pid", "nosuch", "sleeper"}, {"pid", "sleeper", "manual"},
		{"tail", "talker"}, {"tail", "talker", "stderr"}, {"tail", "-3", "talker"}, {"tail", "-0", "talker"},
		{"tail", "nosuch"}, {"tail", "noout"}, {"tail", "talker", "bad"}, {"tail", "talker", "STDERR"},
		{"tail", "a", "b", "c", "d"}, {"tail"}, {"tail", "-x", "talker"}, {"tail", "-f"}, {"tail", "-"},
		{"tail", "-99999999999", "talker"}, {"tail", "-1_0", "talker"}, {"tail", "talker", "x", "stdout"},
		{"tail", "-3", "talker", "stderr"}, {"tail", "grp:*"}, {"tail", "--5", "talker"}, {"tail", "-+2", "talker"},
		{"maintail", "bad"}, {"maintail", "-x"}, {"maintail", "a", "b"}, {"maintail", "-99999999999"},
		{"avail"}, {"avail", "x"}, {"reread"}, {"reread", "x"}, {"version"}, {"version", "x"},
		{"help"}, {"help", "help"}, {"help", "nosuch"}, {"help", "EOF"}, {"help", "start", "stop"},
		{"foo"}, {"foo", "bar"}, {"!foo"}, {"?"}, {"?status"}, {"EOF"}, {"quit"}, {"exit"}, {""}, {"status,sleeper"},
		{"--", "-x"}, {"-"}, {"é"}, {"status\tsleeper"},
		{"signal"}, {"signal", "WINCH"}, {"signal", "BADSIG", "sleeper"}, {"signal", "WINCH", "nosuch"},
		{"signal", "WINCH", "manual"}, {"signal", "WINCH", "sleeper"}, {"signal", "WINCH", "grp:*"},
		{"signal", "WINCH", "nosuch:*"}, {"signal", "WINCH", "all"}, {"signal", "BADSIG", "grp:*"},
		{"signal", "BADSIG", "all"}, {"signal", "28", "sleeper", "nosuch", "manual"},
		{"start"}, {"start", "sleeper"}, {"start", "nosuch"}, {"start", "nosuch:*"}, {"start", "nosuch", "sleeper"},
		{"start", "nosuch:"}, {"stop"}, {"stop", "nosuch"}, {"stop", "manual"}, {"stop", "nosuch:*"},
		{"restart"}, {"restart", "nosuch"}, {"restart", "nosuch:*"},
		{"clear"}, {"clear", "nosuch"}, {"clear", "grp:*"}, {"clear", "nosuch:x"},
		{"fg"}, {"fg", "a", "b"}, {"fg", "nosuch"}, {"fg", "manual"}, {"fg", "grp:*"},
		{"open"}, {"open", "ftp://x"},
		{"add"}, {"add", "nosuch"}, {"add", "sleeper"}, {"remove"}, {"remove", "nosuch"}, {"remove", "sleeper"},
		{"update", "nosuch"}, {"update"}, {"update", "all"},
		{"shutdown", "now"}, {"reload", "now"},
	}
	return cases
}

// waitRunning waits until each process is RUNNING.
func waitRunning(t *testing.T, d *fallbacktest.Daemon, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := d.WaitState(name, "RUNNING"); err != nil {
			t.Fatal(err)
		}
	}
}

func startMain(t *testing.T) *fallbacktest.Daemon {
	t.Helper()
	d := startDaemon(t, mainConfig)
	waitRunning(t, d, "sleeper", "talker", "noout", "grp:ga", "a_really_long_program_name_over_thirty", "multi:multi_0", "multi:multi_1")
	waitLog(t, d, "talker", "stdout", "out")
	waitLog(t, d, "talker", "stderr", "err")
	return d
}

// optionCases are whole command lines: options, config file problems.
func optionCases(d *fallbacktest.Daemon) [][]string {
	nosec := d.Path("nosec.conf")
	both := d.Path("both.conf")
	return [][]string{
		{"-h"}, {"--help"}, {"-?"}, {"--he"}, {"-x"}, {"-h", "-x"}, {"-c"}, {"--configuration"}, {"-u"},
		{"-c", "/nonexistent.conf", "status"}, {"-c", d.Dir}, {"-c", nosec, "status"},
		{"-c", d.Conf, "-c", d.Conf}, {"-i", "-i", "-c", d.Conf, "version"}, {"-s", "foo"}, {"-s", ""},
		{"-s", "http://[1.2.3.4]"}, {"-s", "http://[zz]:5"}, {"-s", "http://[::1"}, {"-s", "x:;y"}, {"-s", "//host"},
		{"--history-file=x"}, {"--history_file"}, {"--con=" + d.Conf, "version"}, {"--c=" + d.Conf, "version"},
		{"--=x"}, {"---x"}, {"--interactive=1"}, {"--help=1"}, {"-c", d.Conf, "-s", "foo", "-h"},
		{"-c", d.Conf, "--user=x", "version"}, {"-c", d.Conf, "--u=x", "--p=y", "version"},
		{"-c", d.Conf, "-s", "http:x", "version"}, {"-c", d.Conf, "-s", "a:b", "status"},
		{"-c", "", "-s", "http://127.0.0.1:1", "version"}, {"-c", both, "status"},
		{"-c", d.Conf, "-r", d.Path("hist"), "version"}, {"-c" + d.Conf, "-iversion"},
	}
}

func writeOptionFiles(t *testing.T, d *fallbacktest.Daemon) {
	t.Helper()
	files := map[string]string{
		"nosec.conf": "[supervisord]\n",
		"bad.conf":   "foo\n[supervisorctl]\n",
		// supervisorctl reads only [supervisorctl]: a [program:x] that
		// supervisord would refuse does not matter
		"both.conf": "[program:x]\ncommand=sleep 1\nautostart=maybe\n[supervisorctl]\nserverurl=unix://" + d.Sock + "\nprompt=p\n",
	}
	for name, text := range files {
		if err := os.WriteFile(d.Path(name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDifferentialReadOnly runs the commands that leave the daemon as
// they found it, the shell on a pipe, and option and config errors.
func TestDifferentialReadOnly(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	d := startMain(t)
	writeOptionFiles(t, d)
	n := 0
	for _, args := range readOnlyCases() {
		compare(t, d.Dir, d.Conf, step{args: args})
		n++
	}
	for _, args := range [][]string{{"maintail"}, {"maintail", "-40"}, {"maintail", "-0"}} {
		compare(t, d.Dir, d.Conf, step{args: args})
		n++
	}
	for _, args := range optionCases(d) {
		compare(t, d.Dir, d.Conf, step{args: args, raw: true})
		n++
	}
	// a file supervisorctl crashes on: the port says what Python's
	// traceback ends with, after "Error: ", with the same status
	badArgs := []string{"-c", d.Path("bad.conf"), "status"}
	want, got := realRun(t, d.Dir, "", badArgs...), ourRun(t, d.Dir, "", badArgs...)
	msg, ok := strings.CutPrefix(got.Stderr, "Error: ")
	if !ok || want.Code != got.Code || got.Stdout != "" || !strings.HasSuffix(want.Stderr, ": "+msg) {
		t.Errorf("supervisorctl %q:\n--- supervisorctl\n%s\n--- ctl\n%s", badArgs, want, got)
	}
	n++
	shell := []step{
		{stdin: "status\nhelp\nversion\n\nfoo bar\n?\nhelp status\nshutdown\nn\nreload\nno\nstatus nosuch\n"},
		{stdin: "version\nquit\nversion\n"},
		{stdin: "shutdown\n"},
		{stdin: "reload"},
		{stdin: "status sleeper\n!ls\n  \ntail -2 talker\n", args: []string{"-i"}},
		{args: []string{"-i", "shutdown"}, stdin: "nope\n"},
		{args: []string{"-i", "reload"}},
		{args: []string{"-c", d.Path("both.conf")}, raw: true, stdin: "version\n"},
		// `fg RUNNING-PROCESS` is left out: supervisorctl 4.2.5 hangs
		// there after EOF (its tail thread dies with "'NoneType' object
		// has no attribute '_fileno'"); TestFg covers the port's.
		{stdin: helpScript()},
	}
	for _, s := range shell {
		compare(t, d.Dir, d.Conf, s)
		n++
	}
	n += followCases(t, d)
	t.Logf("%d command lines compared", n)
}

// helpScript asks for the help of every command, in one shell.
func helpScript() string {
	var b strings.Builder
	for _, name := range vocab() {
		b.WriteString("help " + name + "\n")
	}
	b.WriteString("help EOF\nhelp nosuch\nhelp   status  \n?stop\n")
	return b.String()
}

// follow runs `tail -f`-like command lines with both until their output
// holds until, then interrupts them as Ctrl-C does.
func followCases(t *testing.T, d *fallbacktest.Daemon) int {
	cases := []struct {
		args  []string
		until string
	}{
		{[]string{"tail", "-f", "talker"}, "out\n"},
		{[]string{"tail", "-f", "talker", "stderr"}, "err\n"},
		// the last 1024 bytes of the main log, which nothing writes to now
		{[]string{"maintail", "-f"}, lastBytes(d.ReadFile("supervisord.log"), 1024)},
	}
	for _, c := range cases {
		args := append([]string{"-c", d.Conf}, c.args...)
		until := func(stdout string) bool {
			_, rest, ok := strings.Cut(stdout, "==> Press Ctrl-C to exit <==\n")
			return ok && strings.Contains(rest, c.until)
		}
		var r fallbacktest.Result
		for try := 0; try < 5; try++ {
			var err error
			if r, err = d.CtlFollow(until, c.args...); err != nil {
				t.Fatal(err)
			}
			// supervisorctl sometimes takes the SIGINT inside its HTTP
			// handler (a race in its asyncore loop), which reports it as
			// "Cannot connect, error: <class 'KeyboardInterrupt'> ()" and
			// skips the empty line; then ask it again
			if !strings.Contains(r.Stderr, "<class 'KeyboardInterrupt'>") {
				break
			}
		}
		want := outcome{Stdout: r.Stdout, Stderr: r.Stderr, Code: r.Code}
		got := ourFollow(t, d.Dir, until, args...)
		checkSame(t, args, "", want, got, false)
	}
	// the stream ends by itself when there is nothing to follow
	for _, args := range [][]string{{"tail", "-f", "nosuch"}, {"tail", "-f", "noout"}, {"tail", "-f", "grp:*"}} {
		compare(t, d.Dir, d.Conf, step{args: args})
	}
	return len(cases) + 3
}

func lastBytes(s string, n int) string { return s[max(0, len(s)-n):] }

// ourFollow runs the port until its stdout satisfies until, then sends
// it Ctrl-C through Options.Interrupt.
func ourFollow(t *testing.T, dir string, until func(string) bool, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	intr := make(chan os.Signal, 1)
	stdout, stderr, code := ourStart(t, ctx, dir, "", intr, args...)
	deadline := time.Now().Add(fallbacktest.DefaultWait)
	for !until(stdout.String()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	intr <- os.Interrupt
	c := <-code
	return outcome{Stdout: stdout.String(), Stderr: stderr.String(), Code: c}
}

// TestDifferentialMutating runs the commands that change processes,
// each from the same state for both.
func TestDifferentialMutating(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	d := startMain(t)
	call := func(method string, args ...any) func(*testing.T) {
		return func(t *testing.T) { rpc(t, d, method, args...) }
	}
	seq := func(fs ...func(*testing.T)) func(*testing.T) {
		return func(t *testing.T) {
			for _, f := range fs {
				f(t)
			}
		}
	}
	steps := []step{
		{args: []string{"stop", "sleeper"}, setup: call("supervisor.startProcess", "sleeper")},
		{args: []string{"stop", "grp:*"}, setup: call("supervisor.startProcessGroup", "grp"), sorted: true},
		{args: []string{"stop", "manual", "sleeper"}, setup: seq(call("supervisor.stopProcess", "manual"), call("supervisor.startProcess", "sleeper"))},
		{args: []string{"stop", "all"}, setup: call("supervisor.startAllProcesses"), sorted: true},
		{args: []string{"start", "all"}, setup: call("supervisor.stopAllProcesses"), sorted: true},
		{args: []string{"start", "manual"}, setup: call("supervisor.stopProcess", "manual")},
		{args: []string{"start", "grp:"}, setup: seq(call("supervisor.stopProcessGroup", "grp"), call("supervisor.startProcess", "grp:ga"))},
		{args: []string{"start", "sleeper", "manual"}, setup: call("supervisor.stopProcess", "manual")},
		{args: []string{"restart", "sleeper"}, setup: call("supervisor.startProcess", "sleeper")},
		{args: []string{"restart", "grp:*"}, setup: seq(call("supervisor.stopProcess", "grp:gb"), call("supervisor.startProcess", "grp:ga")), sorted: true},
		{args: []string{"restart", "manual", "nosuch"}, setup: call("supervisor.stopProcess", "manual")},
		{args: []string{"signal", "TERM", "manual"}, setup: call("supervisor.startProcess", "manual")},
		{args: []string{"clear", "talker"}},
		{args: []string{"clear", "talker", "noout", "nosuch"}},
		{args: []string{"remove", "manual"}, setup: seq(call("supervisor.addProcessGroup", "manual"), call("supervisor.stopProcess", "manual"))},
		{args: []string{"add", "manual"}, setup: seq(call("supervisor.stopProcess", "manual"), call("supervisor.removeProcessGroup", "manual"))},
		{args: []string{"remove", "manual", "sleeper", "nosuch"}, setup: seq(call("supervisor.addProcessGroup", "manual"), call("supervisor.stopProcess", "manual"))},
		{args: []string{"add", "manual", "manual", "nosuch"}, setup: seq(call("supervisor.stopProcess", "manual"), call("supervisor.removeProcessGroup", "manual"))},
	}
	for _, s := range steps {
		compare(t, d.Dir, d.Conf, s)
	}
	t.Logf("%d command lines compared", len(steps))
}

// TestDifferentialUpdate rewrites the config for reread, avail, update
// and add, then reloads the daemon.
func TestDifferentialUpdate(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	d := startMain(t)
	v1 := mainConfig
	v2 := mainConfig
	// talker changed, noout removed, newprog added
	v2.Sections = strings.Replace(v2.Sections, "echo out;", "echo out2;", 1)
	v2.Sections = strings.Replace(v2.Sections, "[program:noout]\ncommand=sleep 1000\nstdout_logfile=NONE\nstartsecs=0\n", "", 1)
	v2.Sections += "\n[program:newprog]\ncommand=sleep 1000\nstartsecs=0\n"
	write := func(t *testing.T, cfg fallbacktest.Config) {
		if err := d.WriteConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	reset := func(t *testing.T) {
		write(t, v1)
		if r := realRun(t, d.Dir, "", "-c", d.Conf, "update"); r.Code != 0 {
			t.Fatalf("resetting with update: %s", r)
		}
		write(t, v2)
	}
	reread := func(t *testing.T) { rpc(t, d, "supervisor.reloadConfig") }
	broken := func(t *testing.T) {
		text := "[supervisord]\n[program:x]\ncommand=sleep 1\nautostart=maybe\n[supervisorctl]\nserverurl=unix://" + d.Sock + "\n"
		if err := os.WriteFile(d.Conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []step{
		{args: []string{"reread"}, setup: reset},
		{args: []string{"avail"}, setup: func(t *testing.T) { reset(t); reread(t) }},
		{args: []string{"update"}, setup: reset},
		{args: []string{"update", "newprog", "nosuch"}, setup: reset},
		{args: []string{"add", "newprog"}, setup: func(t *testing.T) { reset(t); reread(t) }},
		{args: []string{"update", "noout", "talker"}, setup: reset},
		{args: []string{"reread"}, setup: broken},
		{args: []string{"update"}, setup: broken},
	}
	for _, s := range steps {
		compare(t, d.Dir, d.Conf, s)
	}
	write(t, v1)
	realRun(t, d.Dir, "", "-c", d.Conf, "update")
	compare(t, d.Dir, d.Conf, step{args: []string{"reload"}, setup: func(t *testing.T) {
		if err := d.WaitReady(); err != nil {
			t.Fatal(err)
		}
	}})
	if err := d.WaitReady(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d command lines compared", len(steps)+1)
}

// TestDifferentialStates covers the stopped, exited, fatal and backoff
// states, and start errors that leave the daemon as it was.
func TestDifferentialStates(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	d := startDaemon(t, fallbacktest.Config{
		Sections: `
[program:exits]
command=true
startsecs=0
autorestart=false

[program:fatal]
command=/nonexistent/fatal
startretries=0

[program:backoff]
command=/nonexistent/backoff
startretries=100

[program:notexec]
command={DIR}/notexec.sh
startretries=0

[program:stopped]
command=sleep 1000
autostart=false
`,
		Files: map[string]string{"notexec.sh": "echo not a script\n"},
	})
	for name, state := range map[string]string{"exits": "EXITED", "fatal": "FATAL", "backoff": "BACKOFF", "notexec": "FATAL"} {
		if _, err := d.WaitState(name, state); err != nil {
			t.Fatal(err)
		}
	}
	cases := [][]string{
		{"status"}, {"status", "exits"}, {"status", "fatal", "backoff"}, {"status", "backoff"}, {"status", "stopped", "nosuch"},
		{"pid", "fatal"}, {"pid", "all"}, {"start", "fatal"}, {"start", "notexec"}, {"start", "backoff"},
		{"tail", "fatal"}, {"tail", "exits"}, {"tail", "fatal", "stderr"}, {"fg", "exits"}, {"signal", "HUP", "exits"},
		{"stop", "exits"}, {"avail"},
	}
	for _, args := range cases {
		compare(t, d.Dir, d.Conf, step{args: args})
	}
	t.Logf("%d command lines compared", len(cases))
}

// freePort returns a TCP port nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDifferentialAuth: an HTTP server with a password (401 without
// it), then a server without the supervisor namespace.
func TestDifferentialAuth(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	port := freePort(t)
	d := startDaemon(t, fallbacktest.Config{Sections: fmt.Sprintf(`
[inet_http_server]
port=127.0.0.1:%d
username=user
password=secret

[program:sleeper]
command=sleep 1000
startsecs=0
`, port)})
	waitRunning(t, d, "sleeper")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cases := [][]string{
		{"-s", url, "status"}, {"-s", url, "version"}, {"-s", url, "avail"}, {"-s", url, "tail", "-f", "sleeper"},
		{"-s", url, "-u", "user", "status"}, {"-s", url, "-u", "user", "-p", "wrong", "pid"},
		{"-s", url, "-u", "user", "-p", "secret", "status"}, {"-s", url, "-u", "user", "-p", "secret", "tail", "-f", "nosuch"},
		{"-s", fmt.Sprintf("http://localhost:%d/RPC2", port), "-u", "user", "-p", "secret", "version"},
	}
	for _, args := range cases {
		compare(t, d.Dir, d.Conf, step{args: append([]string{"-c", d.Conf}, args...), raw: true})
	}
	// without [rpcinterface:supervisor] the server answers only system.*
	text := strings.Replace(d.ReadFile("supervisord.conf"), "supervisor.rpcinterface_factory", "; ", 1)
	text = strings.Replace(text, "[rpcinterface:supervisor]", "", 1)
	if err := os.WriteFile(d.Conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := realRun(t, d.Dir, "", "-c", d.Conf, "reload"); r.Stdout != "Restarted supervisord\n" {
		t.Fatalf("reload: %s", r)
	}
	if err := d.WaitFor("the daemon without the supervisor namespace", func() bool {
		return strings.HasPrefix(realRun(t, d.Dir, "", "-c", d.Conf, "version").Stdout, "Sorry")
	}); err != nil {
		t.Fatal(err)
	}
	noRPC := [][]string{{"status"}, {"version"}, {"avail"}, {"reread"}, {"pid"}, {"start", "x"}}
	for _, args := range noRPC {
		compare(t, d.Dir, d.Conf, step{args: args})
	}
	// supervisorctl shutdown, the harness's teardown, cannot stop it now
	if err := syscall.Kill(d.PID(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WaitExit(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d command lines compared", len(cases)+len(noRPC))
}

// TestDifferentialGone: shutdown, then a socket that no longer exists
// and one that refuses connections.
func TestDifferentialGone(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	t.Parallel()
	cfg := fallbacktest.Config{Sections: "[program:a]\ncommand=sleep 1000\nstartsecs=0\n[program:b]\ncommand=sleep 1000\nstartsecs=0\n"}
	var d1, d2 *fallbacktest.Daemon
	var wg sync.WaitGroup
	var err1, err2 error
	wg.Go(func() { d1, err1 = fallbacktest.Start(t, fallbacktest.Supervisord, cfg) })
	wg.Go(func() { d2, err2 = fallbacktest.Start(t, fallbacktest.Supervisord, cfg) })
	wg.Wait()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, d1, "a", "b")
	waitRunning(t, d2, "a", "b")
	// clearAllProcessLogs clears one process per turn of supervisord's
	// loop (a second each), so it is here, with two processes only.
	n := 0
	compare(t, d1.Dir, d1.Conf, step{args: []string{"clear", "all"}})
	n++
	// each daemon shuts down once: the real one stops d1, the port d2
	want := realRun(t, d1.Dir, "", "-c", d1.Conf, "shutdown")
	got := ourRun(t, d2.Dir, "", "-c", d2.Conf, "shutdown")
	checkSame(t, []string{"shutdown"}, "", want, got, false)
	n++
	for _, d := range []*fallbacktest.Daemon{d1, d2} {
		if _, err := d.WaitExit(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	gone := [][]string{
		{"status"}, {"status", "a"}, {"version"}, {"pid"}, {"start", "a"}, {"stop", "all"}, {"restart", "a"}, {"signal", "HUP", "a"},
		{"tail", "a"}, {"tail", "-f", "a"}, {"maintail"}, {"clear", "a"}, {"fg", "a"}, {"avail"}, {"reread"}, {"update"},
		{"add", "a"}, {"remove", "a"}, {"reload"}, {"shutdown"}, {"help"}, {"foo"},
	}
	// a socket file nobody listens on
	refused := d1.Path("refused.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: refused, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	for _, args := range gone {
		compare(t, d1.Dir, d1.Conf, step{args: args})
		n++
	}
	for _, args := range [][]string{{"status"}, {"version"}, {"pid"}, {"tail", "-f", "a"}, {"avail"}, {"shutdown"}, {"reload"}} {
		compare(t, d1.Dir, d1.Conf, step{args: append([]string{"-s", "unix://" + refused}, args...)})
		n++
	}
	for _, args := range [][]string{{"status"}, {"avail"}, {"shutdown"}, {"tail", "-f", "a"}} {
		compare(t, d1.Dir, d1.Conf, step{args: append([]string{"-s", "http://127.0.0.1:1"}, args...)})
		n++
	}
	compare(t, d1.Dir, d1.Conf, step{stdin: "status\nversion\nopen ftp://x\nopen unix://" + refused + "\nversion\n"})
	n++
	t.Logf("%d command lines compared", n)
}

// TestDifferentialSupersedeRun runs the read-only cases against
// `supersede run`: the real supervisorctl and the port must agree there
// too.
func TestDifferentialSupersedeRun(t *testing.T) {
	fallbacktest.RequireSupervisor(t)
	fallbacktest.RequireSupersede(t)
	t.Parallel()
	d, err := fallbacktest.Start(t, fallbacktest.Supersede, mainConfig)
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, d, "sleeper", "talker", "noout", "grp:ga", "a_really_long_program_name_over_thirty", "multi:multi_0", "multi:multi_1")
	waitLog(t, d, "talker", "stdout", "out")
	waitLog(t, d, "talker", "stderr", "err")
	cases := [][]string{
		{"status"}, {"status", "grp:*"}, {"status", "nosuch", "manual"}, {"status", "multi"}, {"pid", "all"},
		{"pid", "manual"}, {"pid", "nosuch"}, {"tail", "talker"}, {"tail", "-3", "talker", "stderr"}, {"tail", "noout"},
		{"tail", "nosuch"}, {"tail", "-f", "nosuch"}, {"avail"}, {"reread"}, {"version"}, {"signal", "WINCH", "all"},
		{"signal", "BADSIG", "sleeper"}, {"signal", "WINCH", "manual"}, {"start", "sleeper"}, {"start", "nosuch:*"},
		{"start", "nosuch"}, {"stop", "manual"}, {"stop", "nosuch:*"}, {"clear", "grp:*"}, {"clear", "nosuch"},
		{"fg", "manual"}, {"add", "sleeper"}, {"remove", "sleeper"}, {"update", "nosuch"}, {"update"},
	}
	for _, args := range cases {
		compare(t, d.Dir, d.Conf, step{args: args})
	}
	t.Logf("%d command lines compared", len(cases))
}
