package migrate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/xmlrpc"
)

// The supervisord side: its API over XML-RPC (internal/xmlrpc's client,
// the one supersede ctl uses), and the process itself (how it was
// started, by what, and how to start it again).

// answers reports whether a supervisord answers at the client's URL.
func answers(ctx context.Context, c *xmlrpc.Client) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.Call(ctx, "supervisor.getState")
	var f *xmlrpc.Fault
	return err == nil || errors.As(err, &f)
}

// states reads every process's state: namespec → state.
func states(ctx context.Context, c *xmlrpc.Client) (map[string]status.State, error) {
	infos, err := c.AllProcessInfo(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]status.State, len(infos))
	for _, pi := range infos {
		out[pi.Namespec()] = pi.State
	}
	return out, nil
}

// supervisordPID asks supervisord for its pid.
func supervisordPID(ctx context.Context, c *xmlrpc.Client) (int, error) {
	v, err := c.Call(ctx, "supervisor.getPID")
	if err != nil {
		return 0, err
	}
	pid, ok := v.(int)
	if !ok || pid <= 0 {
		return 0, fmt.Errorf("getPID: unexpected answer %v", v)
	}
	return pid, nil
}

// stopGroup stops a group in supervisord and waits (stopProcessGroup
// with wait: supervisord sends stopsignal and SIGKILL after
// stopwaitsecs). A process that was not running is no failure.
func stopGroup(ctx context.Context, c *xmlrpc.Client, group string) error {
	v, err := c.Call(ctx, "supervisor.stopProcessGroup", group, true)
	if err != nil {
		return fmt.Errorf("supervisord: stopProcessGroup %s: %w", group, err)
	}
	res, err := xmlrpc.DecodeResults(v)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil && !errors.Is(r.Err, status.ErrNotRunning) {
			return fmt.Errorf("supervisord: stop %s: %v", r.Namespec(), r.Err)
		}
	}
	return nil
}

// startProcess starts one process in supervisord and waits for RUNNING
// (startProcess with wait); one already started is no failure.
func startProcess(ctx context.Context, c *xmlrpc.Client, namespec string) error {
	_, err := c.Call(ctx, "supervisor.startProcess", namespec, true)
	if err != nil && !errors.Is(err, status.ErrAlreadyStarted) {
		return fmt.Errorf("supervisord: start %s: %w", namespec, err)
	}
	return nil
}

// stopProcess stops one process in supervisord; one not running is no
// failure.
func stopProcess(ctx context.Context, c *xmlrpc.Client, namespec string) error {
	_, err := c.Call(ctx, "supervisor.stopProcess", namespec, true)
	if err != nil && !errors.Is(err, status.ErrNotRunning) {
		return fmt.Errorf("supervisord: stop %s: %w", namespec, err)
	}
	return nil
}

// daemonOf reads how process pid was started: its argv, directory and
// environment, and its cgroup, from /proc.
func daemonOf(pid int) (Daemon, error) {
	d := Daemon{PID: pid}
	proc := "/proc/" + strconv.Itoa(pid)
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return d, fmt.Errorf("supervisord (pid %d): %w (migrate must run on the host that runs supervisord, as a user that may read its /proc entry: root)", pid, err)
	}
	d.Argv = splitNul(cmdline)
	if d.Dir, err = os.Readlink(proc + "/cwd"); err != nil {
		return d, fmt.Errorf("supervisord (pid %d): %w", pid, err)
	}
	environ, err := os.ReadFile(proc + "/environ")
	if err != nil {
		return d, fmt.Errorf("supervisord (pid %d): %w", pid, err)
	}
	d.Env = splitNul(environ)
	if data, err := os.ReadFile(proc + "/cgroup"); err == nil {
		d.Cgroup = cgroupPath(data)
	}
	return d, nil
}

func splitNul(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// cgroupPath is the systemd cgroup path of a /proc/PID/cgroup: the
// unified hierarchy's ("0::/system.slice/supervisor.service"), else the
// name=systemd one of a hybrid host.
func cgroupPath(data []byte) string {
	var v1 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			return parts[2]
		case parts[1] == "name=systemd":
			v1 = parts[2]
		}
	}
	return v1
}

// serviceOf is the service unit a cgroup path belongs to and the scope
// of its manager: the last "*.service" component, in the user manager's
// scope when a "user@UID.service" component comes before it. A process
// started from a login shell is in a session scope: no service.
func serviceOf(cgroup string) (unit, scope string) {
	parts := strings.Split(strings.Trim(cgroup, "/"), "/")
	scope = "system"
	for _, p := range parts {
		if !strings.HasSuffix(p, ".service") {
			continue
		}
		if strings.HasPrefix(p, "user@") {
			// a user manager: what is below it is its units (the
			// manager's own process is no service that started anything)
			scope, unit = "user", ""
			continue
		}
		unit = p
	}
	if unit == "" {
		return "", ""
	}
	return unit, scope
}

// alive reports whether pid still runs (a zombie counts as gone).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// startByHand starts supervisord again as it was started (argv,
// directory, environment), detached in a session of its own with its
// standard streams on /dev/null: it logs to its logfile.
func startByHand(d Daemon) error {
	if len(d.Argv) == 0 {
		return errors.New("the state file does not say how supervisord was started: start it yourself")
	}
	path := d.Argv[0]
	if !strings.Contains(path, "/") {
		p, err := exec.LookPath(path)
		if err != nil {
			return fmt.Errorf("start supervisord: %w", err)
		}
		path = p
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	attr := &os.ProcAttr{Dir: d.Dir, Env: d.Env, Files: []*os.File{devnull, devnull, devnull},
		Sys: &syscall.SysProcAttr{Setsid: true}}
	p, err := os.StartProcess(path, d.Argv, attr)
	if err != nil {
		return fmt.Errorf("start supervisord (%s): %w", strings.Join(d.Argv, " "), err)
	}
	// reap it if it exits while migrate still runs; after, init does
	go p.Wait()
	return nil
}

// waitFor polls cond every 50 ms until it holds or the deadline passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}
