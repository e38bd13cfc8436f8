package sdtest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
)

// analyzeScript gives systemd-analyze an empty /run of its own and execs
// it. $1 = systemd-analyze, the rest its arguments.
const analyzeScript = `set -e
mount -t tmpfs -o mode=0755,size=16m sdtest-analyze /run
mkdir -m 0700 /run/sdtest-rt
mkdir /run/sdtest-home
exec "$@"
`

// Analyze returns a command that runs systemd-analyze ARGS (for example
// "verify", "--user", "--man=no", FILE...) hermetically: its environment
// is PATH, HOME and XDG_RUNTIME_DIR (which --user needs) pointing at
// empty private directories, so it sees neither root's own user units nor
// another manager's runtime units. As root it runs in a private mount
// namespace with an empty tmpfs over /run: systemd-analyze verify run as
// root otherwise creates /run/systemd/systemd-units-load on the host, and
// it would see the host's /run/systemd/generator units. Without root it
// cannot write there and runs directly. The files it checks must not be
// under /run. The command is bound to t.Context(). Without systemd-analyze
// the test is skipped (failed under CI=true).
func Analyze(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testreal.Missing(t, "systemd-analyze is not installed (apt-get install systemd)")
	}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(t.Context(), "/bin/sh", append([]string{"-c", analyzeScript, "sh", analyze}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		cmd.Env = []string{"PATH=" + hostPath, "HOME=/run/sdtest-home", "XDG_RUNTIME_DIR=/run/sdtest-rt"}
	} else {
		rt := t.TempDir()
		if err := os.Chmod(rt, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd = exec.CommandContext(t.Context(), analyze, args...)
		cmd.Env = []string{"PATH=" + hostPath, "HOME=" + t.TempDir(), "XDG_RUNTIME_DIR=" + rt}
	}
	cmd.Env = append(cmd.Env, "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	cmd.WaitDelay = time.Second
	return cmd
}
