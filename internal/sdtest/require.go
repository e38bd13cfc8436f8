package sdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// host is what Require found out about this machine, once per process.
type host struct {
	missing     string   // why a manager cannot run here; "" if it can
	systemd     string   // the systemd binary
	journald    string   // systemd-journald
	nsenter     string   // nsenter (util-linux)
	hierarchies []string // cgroup hierarchies to place the manager in
}

var (
	hostOnce sync.Once
	hostInfo host
)

// Require stops the test unless a systemd user manager can run here: root,
// systemd and systemd-journald, systemctl, journalctl, nsenter, writable
// cgroups and a private mount namespace. It skips with the reason, or fails
// under CI=true. Start calls it; call it yourself before other expensive
// preparation.
func Require(t testing.TB) {
	t.Helper()
	if h := probe(); h.missing != "" {
		testreal.Missing(t, "sdtest: no systemd user manager: "+h.missing)
	}
}

func probe() host {
	hostOnce.Do(func() { hostInfo = probeHost() })
	return hostInfo
}

func probeHost() host {
	var h host
	if runtime.GOOS != "linux" {
		return host{missing: "not Linux"}
	}
	if os.Geteuid() != 0 {
		return host{missing: "needs root (cgroups, mount namespace)"}
	}
	var ok bool
	if h.systemd, ok = firstFile("/lib/systemd/systemd", "/usr/lib/systemd/systemd"); !ok {
		return host{missing: "/lib/systemd/systemd is not installed (apt-get install systemd)"}
	}
	if h.journald, ok = firstFile("/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"); !ok {
		return host{missing: "/lib/systemd/systemd-journald is not installed (apt-get install systemd)"}
	}
	for _, tool := range []string{"systemctl", "journalctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return host{missing: tool + " is not installed (apt-get install systemd)"}
		}
	}
	var err error
	if h.nsenter, err = exec.LookPath("nsenter"); err != nil {
		return host{missing: "nsenter is not installed (apt-get install util-linux)"}
	}
	if h.hierarchies, err = hierarchies(); err != nil {
		return host{missing: err.Error()}
	}
	name := fmt.Sprintf("sdtest_probe_%d", os.Getpid())
	cg, err := makeCgroups(h.hierarchies, name)
	if rmErr := cg.remove(); err == nil {
		err = rmErr
	}
	if err != nil {
		return host{missing: fmt.Sprintf("cgroups are not writable: %v", err)}
	}
	cmd := exec.Command("/bin/sh", "-c", "mount -t tmpfs sdtest-probe /run")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if out, err := cmd.CombinedOutput(); err != nil {
		return host{missing: fmt.Sprintf("cannot mount in a private mount namespace: %v %s", err, out)}
	}
	return h
}

// firstFile returns the first of paths that is a regular file.
func firstFile(paths ...string) (string, bool) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return filepath.Clean(p), true
		}
	}
	return "", false
}
