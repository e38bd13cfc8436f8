package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/translate"
)

// childEnv marks the re-executed daemon process: its value is the
// number of listening sockets it inherits as fds 3, 4, ...
const childEnv = "SUPERSEDE_RUN_DAEMON"

// Child reports whether this process is the daemon a parent started
// with Daemonize, and how many listeners it passed (Inherit). It
// removes the mark from the environment, so that the programs the daemon
// starts do not inherit it; environ is the caller's copy, returned
// without the mark.
func Child(environ []string) (nfds int, ok bool, rest []string) {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return -1, false, environ
	}
	os.Unsetenv(childEnv)
	nfds, err := strconv.Atoi(v)
	if err != nil {
		nfds = -1
	}
	showAs(os.Args[0])
	return nfds, true, withoutEnv(environ, childEnv)
}

// Daemonize starts the daemon as a new process in its own session, with
// stdin, stdout and stderr on /dev/null and the listeners as fds 3, 4,
// ..., and returns: the parent's work is done (supervisord's fork and
// setsid). Go cannot fork, so the daemon is this program again: argv
// (argv[0] as this process was invoked) run in dir with environ and the
// mark Child looks for. The new process runs the invoked path, not
// /proc/self/exe, so that its name in ps and pgrep is the invoked one
// (supersede, or supervisord through a symlink) rather than "exe".
func Daemonize(argv, environ []string, dir string, lns []net.Listener) (pid int, err error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	files := []*os.File{null, null, null}
	for _, ln := range lns {
		f, err := listenerFile(ln)
		if err != nil {
			closeFiles(files[3:])
			return 0, fmt.Errorf("passing the socket to the daemon: %w", err)
		}
		files = append(files, f)
	}
	defer closeFiles(files[3:])
	env := append(withoutEnv(environ, childEnv), fmt.Sprintf("%s=%d", childEnv, len(lns)))
	p, err := os.StartProcess(Executable(argv[0]), argv, &os.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, fmt.Errorf("daemonizing: %w", err)
	}
	pid = p.Pid
	return pid, p.Release()
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// Executable is the path to run this program again under the name
// argv0 it was invoked by: argv0 itself (made absolute, or found on
// PATH) when it is this very program, else the program's own path, and
// /proc/self/exe only when neither is (a binary replaced on disk since
// it started). The kernel names a process after the file it executes,
// so executing /proc/self/exe names it "exe".
func Executable(argv0 string) string {
	const self = "/proc/self/exe"
	me, err := os.Stat(self)
	if err != nil {
		return self
	}
	same := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && os.SameFile(fi, me)
	}
	cand := argv0
	if !strings.Contains(cand, "/") {
		cand, _ = exec.LookPath(cand)
	}
	if cand != "" {
		if abs, err := filepath.Abs(cand); err == nil && same(abs) {
			return abs
		}
	}
	if p, err := os.Executable(); err == nil && same(p) {
		return p
	}
	return self
}

// showAs makes this process's name (ps -o comm, pgrep) the base name of
// argv0 when it is not already, as when it had to be executed through
// /proc/self/exe. /proc/self/comm names the thread group leader, which
// ps and pgrep show, whichever thread writes it.
func showAs(argv0 string) {
	name := filepath.Base(argv0)
	if len(name) > 15 { // TASK_COMM_LEN - 1: the kernel keeps the first 15 bytes
		name = name[:15]
	}
	cur, err := os.ReadFile("/proc/self/comm")
	if err != nil || strings.TrimSpace(string(cur)) == name || name == "" || name == "." {
		return
	}
	os.WriteFile("/proc/self/comm", []byte(name), 0)
}

// Enter is the daemon's half of supervisord's _daemonize, after
// Daemonize: chdir to directory= (when set) and set the umask. It logs as
// supervisord does and returns the working directory from now on
// (unchanged when the chdir failed, which supervisord logs and goes on).
func Enter(sv *translate.Supervisord, dir string, log *slog.Logger) string {
	log.Info("daemonizing the supervisord process")
	if sv.Directory != nil {
		if err := os.Chdir(*sv.Directory); err != nil {
			log.Log(context.Background(), logfile.LevelCritical, fmt.Sprintf("can't chdir into %s: %v", Repr(*sv.Directory), err))
		} else {
			log.Info(fmt.Sprintf("set current directory: %s", Repr(*sv.Directory)))
			if wd, err := os.Getwd(); err == nil {
				dir = wd
			}
		}
	}
	syscall.Umask(sv.Umask)
	return dir
}

func withoutEnv(environ []string, name string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
