package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
)

// Bounds on waiting for the manager and the program; the tutorial's
// program is RUNNING after startsecs=1, so these only catch a hang on a
// loaded machine.
const (
	stepTimeout  = time.Minute
	waitTimeout  = 30 * time.Second
	pollInterval = 50 * time.Millisecond
)

// tutorialPort is the port of the tutorial's gunicorn.
const tutorialPort = 8000

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the demo as a function: flags, the journey, the tear-down;
// it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	exe := fs.String("supersede", "bin/supersede", "the supersede binary to run (make build writes bin/supersede)")
	example := fs.String("example", "testdata/examples/tutorial", "the tutorial example's directory")
	port := fs.Int("port", tutorialPort, "the port gunicorn binds; if it is in use, or 0, a free one")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: no arguments expected, got %q\n", fs.Args())
		return 2
	}
	d := &demo{out: stdout}
	var err error
	if d.exe, err = executable(*exe); err != nil {
		fmt.Fprintf(stderr, "demo: %v (run make build first, or name the binary with -supersede)\n", err)
		return 2
	}
	if err := d.run(ctx, *example, *port); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// executable returns the absolute path of an executable file.
func executable(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file", abs)
	}
	return abs, nil
}

// demo is one run of the journey.
type demo struct {
	out  io.Writer
	exe  string // supersede
	dir  string // the copy of the tutorial example
	port int
	m    *sdtest.Manager
}

// ctl is the supersede ctl command line a user types, before the command.
const ctl = "supersede ctl --user -c supervisord.conf"

func (d *demo) run(ctx context.Context, example string, port int) (err error) {
	if d.port, err = choosePort(port); err != nil {
		return err
	}
	if d.dir, err = os.MkdirTemp("", "supersede-demo"); err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(d.dir); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := copyExample(example, d.dir, d.port); err != nil {
		return err
	}
	d.m, err = sdtest.Launch(sdtest.Options{})
	if err != nil {
		return fmt.Errorf("cannot start a private systemd user manager here: %w\n(the demo needs root, systemd and systemd-journald (apt-get install systemd), nsenter and writable cgroups)", err)
	}
	defer func() {
		d.say("Tear-down: the private manager (pid %d) and its journald stop, and %s and the manager's directory are removed.", d.m.PID, d.dir)
		if serr := d.m.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("tear-down: %w", serr)
		}
	}()
	d.preamble(port)
	return d.journey(ctx)
}

// choosePort returns port if nothing listens on it, else a free one.
func choosePort(port int) (int, error) {
	if port != 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("no free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// copyExample copies the example into dir, its /tmp paths moved into dir
// and gunicorn's port set to port.
func copyExample(src, dir string, port int) error {
	if _, err := os.Stat(filepath.Join(src, "supervisord.conf")); err != nil {
		return fmt.Errorf("the tutorial example: %w (run the demo from the repository's root, or name it with -example)", err)
	}
	if out, err := exec.Command("cp", "-R", src+"/.", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("copying %s: %v: %s", src, err, out)
	}
	conf := filepath.Join(dir, "supervisord.conf")
	data, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	text := strings.NewReplacer(
		"/tmp/supervisor.sock", dir+"/supervisor.sock",
		"/tmp/supervisord.log", dir+"/supervisord.log",
		"/tmp/supervisord.pid", dir+"/supervisord.pid",
		"/tmp/gunicorn.pid", dir+"/gunicorn.pid",
		fmt.Sprintf("127.0.0.1:%d", tutorialPort), fmt.Sprintf("127.0.0.1:%d", port),
	).Replace(string(data))
	return os.WriteFile(conf, []byte(text), 0o644)
}

func (d *demo) preamble(asked int) {
	pid1 := "unknown"
	if b, err := os.ReadFile("/proc/1/comm"); err == nil {
		pid1 = strings.TrimSpace(string(b))
	}
	fmt.Fprintln(d.out, `# supersede demo: the tutorial "Supervisor with Django and Gunicorn", under systemd.`)
	fmt.Fprintf(d.out, "# PID 1 here is %s. The demo runs a private systemd user manager (systemd --user, pid %d)\n", pid1, d.m.PID)
	fmt.Fprintf(d.out, "# with its own journald, in a private mount namespace and cgroup; its ~/.config is %s.\n", d.m.ConfigHome)
	fmt.Fprintf(d.out, "# The tutorial's files are copied to %s, their /tmp paths moved there;\n", d.dir)
	if d.port != tutorialPort {
		fmt.Fprintf(d.out, "# gunicorn binds port %d (port %d is in use here).\n", d.port, asked)
	} else {
		fmt.Fprintf(d.out, "# gunicorn binds port %d, as in the tutorial.\n", d.port)
	}
	fmt.Fprintln(d.out, "# Each command is what you would type on a host booted with systemd (without --user and")
	fmt.Fprintln(d.out, "# with -o /etc/systemd/system for the system manager); its output follows it.")
}

// say prints a comment line between the commands.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "\n# %s\n", fmt.Sprintf(format, args...))
}

// result is the output of a command run in the manager's namespace.
type result struct {
	out  string // stdout and stderr, interleaved
	code int
}

// exec runs name with args in the example's directory inside the
// manager's namespace, as the command line a user would type.
func (d *demo) exec(ctx context.Context, name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	// nsenter resets the working directory: enter it from inside.
	cmd := d.m.Command(ctx, "/bin/sh", append([]string{"-c", `cd "$0" && exec "$@"`, d.dir, name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := result{out: out.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		return r, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, r.out)
	}
	return r, nil
}

// show prints the command line shown, runs the command and prints its
// output; a non-zero exit status is an error unless ok allows it.
func (d *demo) show(ctx context.Context, shown string, ok func(result) error, name string, args ...string) (result, error) {
	fmt.Fprintf(d.out, "$ %s\n", shown)
	r, err := d.exec(ctx, name, args...)
	io.WriteString(d.out, r.out)
	if err != nil {
		return r, err
	}
	if ok == nil {
		ok = exitZero
	}
	if err := ok(r); err != nil {
		return r, fmt.Errorf("%s: %w", shown, err)
	}
	return r, nil
}

func exitZero(r result) error {
	if r.code != 0 {
		return fmt.Errorf("exit status %d", r.code)
	}
	return nil
}

// contains wants exit status 0 and each of subs in the output.
func contains(subs ...string) func(result) error {
	return func(r result) error {
		if err := exitZero(r); err != nil {
			return err
		}
		for _, s := range subs {
			if !strings.Contains(r.out, s) {
				return fmt.Errorf("the output lacks %q", s)
			}
		}
		return nil
	}
}

// ctlArgs is the ctl command line as run: supersede ctl --user -c ... ARGS.
func (d *demo) ctlArgs(args ...string) []string {
	return append([]string{"ctl", "--user", "-c", "supervisord.conf"}, args...)
}

// status returns gunicorn's state and pid from ctl status, unprinted.
func (d *demo) status(ctx context.Context) (state string, pid int, err error) {
	r, err := d.exec(ctx, d.exe, d.ctlArgs("status", "gunicorn")...)
	if err != nil {
		return "", 0, err
	}
	f := strings.Fields(r.out)
	if len(f) >= 2 && f[0] == "gunicorn" {
		state = f[1]
	}
	if len(f) >= 4 && f[2] == "pid" {
		pid, _ = strconv.Atoi(strings.TrimSuffix(f[3], ","))
	}
	return state, pid, nil
}

// waitRunning polls ctl status until gunicorn is RUNNING with a pid other
// than notPID.
func (d *demo) waitRunning(ctx context.Context, notPID int) (int, error) {
	deadline := time.Now().Add(waitTimeout)
	for {
		state, pid, err := d.status(ctx)
		if err != nil {
			return 0, err
		}
		if state == "RUNNING" && pid != notPID {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("gunicorn is %s (pid %d) after %v, want RUNNING with a new pid", state, pid, waitTimeout)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return 0, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// journey is the tutorial's journey under systemd.
func (d *demo) journey(ctx context.Context) error {
	d.say("1. echo_supervisord_conf > supervisord.conf, trimmed and with [program:gunicorn]: the tutorial's file.")
	if _, err := d.show(ctx, "supersede show -c supervisord.conf", contains("program gunicorn"), d.exe, "show", "-c", "supervisord.conf"); err != nil {
		return err
	}

	d.say("2. Instead of starting supervisord: convert the file to systemd units once (or install the generator).")
	if _, err := d.show(ctx, "supersede convert --user -c supervisord.conf -o ~/.config/systemd/user",
		contains("gunicorn.service", "supersede.target"),
		d.exe, "convert", "--user", "-c", "supervisord.conf", "-o", d.m.UnitDir); err != nil {
		return err
	}
	if _, err := d.show(ctx, "systemctl --user daemon-reload", nil, "systemctl", "--user", "daemon-reload"); err != nil {
		return err
	}

	d.say("3. Start what supervisord would start, now and at every boot.")
	if _, err := d.show(ctx, "systemctl --user enable --now supersede.target", nil,
		"systemctl", "--user", "enable", "--now", "supersede.target"); err != nil {
		return err
	}
	pid, err := d.waitRunning(ctx, 0)
	if err != nil {
		return err
	}

	d.say("4. supervisorctl status: supersede ctl is supervisorctl on top of systemd (startsecs=1 passed).")
	if _, err := d.show(ctx, ctl+" status", contains("gunicorn", "RUNNING", fmt.Sprintf("pid %d,", pid)), d.exe, d.ctlArgs("status")...); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/admin/", d.port)
	fmt.Fprintf(d.out, "$ curl %s\n", url)
	body, err := get(ctx, url)
	io.WriteString(d.out, body)
	if err != nil {
		return err
	}

	d.say("5. supervisorctl restart gunicorn.")
	if _, err := d.show(ctx, ctl+" restart gunicorn", contains("gunicorn: stopped\n", "gunicorn: started\n"), d.exe, d.ctlArgs("restart", "gunicorn")...); err != nil {
		return err
	}
	pid2, err := d.waitRunning(ctx, pid)
	if err != nil {
		return err
	}
	if _, err := d.show(ctx, ctl+" status gunicorn", contains(fmt.Sprintf("pid %d,", pid2)), d.exe, d.ctlArgs("status", "gunicorn")...); err != nil {
		return err
	}

	d.say("6. The tutorial's surprise: kill -9 the program, and it comes back.")
	if _, err := d.show(ctx, ctl+" pid gunicorn", contains(strconv.Itoa(pid2)+"\n"), d.exe, d.ctlArgs("pid", "gunicorn")...); err != nil {
		return err
	}
	if err := d.kill(pid2); err != nil {
		return err
	}
	back, err := d.waitMainPID(ctx, pid2)
	if err != nil {
		return err
	}
	// the unit's own policy, as systemd has it (with the compatibility
	// step: Restart=on-abnormal, a death by SIGKILL being one)
	policy, err := d.m.TrySystemctl("show", "-p", "Restart", "--value", "gunicorn.service")
	if err != nil {
		return err
	}
	d.say("systemd started gunicorn again %d ms after the kill (Restart=%s, from autorestart=unexpected);", back.Milliseconds(), strings.TrimSpace(policy))
	fmt.Fprintln(d.out, "# ctl says RUNNING once it has stayed up startsecs=1, as supervisorctl would:")
	pid3, err := d.waitRunning(ctx, pid2)
	if err != nil {
		return err
	}
	if _, err := d.show(ctx, ctl+" status gunicorn", contains("RUNNING", fmt.Sprintf("pid %d,", pid3)), d.exe, d.ctlArgs("status", "gunicorn")...); err != nil {
		return err
	}

	d.say("7. supervisorctl tail gunicorn: the program's output, from the journal.")
	if err := d.waitTail(ctx, "GET /admin/"); err != nil {
		return err
	}
	if _, err := d.show(ctx, ctl+" tail gunicorn", contains("serving", "GET /admin/"), d.exe, d.ctlArgs("tail", "gunicorn")...); err != nil {
		return err
	}

	d.say("8. Retire it: stop the programs (supervisorctl shutdown) and disable them.")
	if _, err := d.show(ctx, ctl+" shutdown", nil, d.exe, d.ctlArgs("shutdown")...); err != nil {
		return err
	}
	if _, err := d.show(ctx, "systemctl --user disable supersede.target", nil, "systemctl", "--user", "disable", "supersede.target"); err != nil {
		return err
	}
	if _, err := d.show(ctx, ctl+" status", func(r result) error {
		if !strings.Contains(r.out, "STOPPED") {
			return errors.New("gunicorn is not STOPPED")
		}
		return nil
	}, d.exe, d.ctlArgs("status")...); err != nil {
		return err
	}
	return nil
}

// kill sends SIGKILL to pid, the main process of the manager's
// gunicorn.service, after checking that it lives in the manager's
// cgroup: the demo ends only processes it started.
func (d *demo) kill(pid int) error {
	fmt.Fprintf(d.out, "$ kill -9 %d\n", pid)
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return fmt.Errorf("kill -9 %d: %w", pid, err)
	}
	mine := false
	for _, top := range d.m.Cgroups {
		mine = mine || strings.Contains(string(cg), "/"+filepath.Base(top)+"/")
	}
	if !mine {
		return fmt.Errorf("kill -9 %d: not a process of the demo's manager (cgroup %s)", pid, strings.TrimSpace(string(cg)))
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// waitMainPID waits until gunicorn.service has a main process other than
// old, and returns how long that took.
func (d *demo) waitMainPID(ctx context.Context, old int) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(waitTimeout)
	for {
		out, err := d.m.TrySystemctl("show", "-p", "MainPID", "--value", "gunicorn.service")
		if err != nil {
			return 0, err
		}
		if pid, _ := strconv.Atoi(strings.TrimSpace(out)); pid != 0 && pid != old {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("systemd did not start gunicorn again within %v of kill -9", waitTimeout)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// waitTail waits until ctl tail gunicorn shows sub: journald may take a
// moment to store what the program wrote.
func (d *demo) waitTail(ctx context.Context, sub string) error {
	deadline := time.Now().Add(waitTimeout)
	for {
		r, err := d.exec(ctx, d.exe, d.ctlArgs("tail", "gunicorn")...)
		if err != nil {
			return err
		}
		if strings.Contains(r.out, sub) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s tail gunicorn: no %q after %v:\n%s", ctl, sub, waitTimeout, r.out)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
}

// get is curl URL: the body, retried until the server answers.
func get(ctx context.Context, url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(waitTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(body), nil
			}
			err = fmt.Errorf("%s: %s %v", url, resp.Status, rerr)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("curl %s: %w", url, err)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return "", err
		}
	}
}
