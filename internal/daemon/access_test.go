package daemon

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

const supervisord = "/usr/bin/supervisord"

// connectAs tries to connect to the unix socket path as the user nobody
// with the supplementary groups given, and says "ok" or the errno's
// name, as Python's socket module reports it to supervisorctl.
func connectAs(t *testing.T, path string, groups []uint32) string {
	t.Helper()
	const script = `import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
`
	cmd := exec.Command(testreal.Python, "-c", script, path)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("connecting as nobody: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestListenLikeSupervisord opens the socket of a [unix_http_server]
// with Listen and has the real supervisord open the same section's,
// then compares what decides who may control the programs: the socket's
// mode, owner and group, and whether the user nobody reaches it, alone
// or as a member of the socket's group. A user who can reach the
// socket can control (the password aside); the others get EACCES, the
// same under supervisord, supersede run and supersede serve, which all
// open their sockets here or, under systemd, with the same mode and
// owner (SocketMode=, SocketUser=, SocketGroup=).
func TestListenLikeSupervisord(t *testing.T) {
	testreal.RequireSupervisor(t)
	if _, err := os.Stat(supervisord); err != nil {
		testreal.Missing(t, supervisord+" is not installed (make deps)")
	}
	if os.Getuid() != 0 {
		testreal.Missing(t, "changing a socket's owner and connecting as nobody need root")
	}
	dialout, err := user.LookupGroup("dialout")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(dialout.Gid)
	for _, c := range []struct{ name, settings string }{
		{"default", ""},
		{"0770 root:dialout", "chmod=0770\nchown=root:dialout\n"},
		{"0700 nobody", "chmod=0700\nchown=nobody\n"},
		{"0777", "chmod=0777\n"},
		{"0660 root:dialout", "chmod=0660\nchown=root:dialout\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, err := os.MkdirTemp("", "daemon")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o755); err != nil { // only the socket's mode keeps anyone out
				t.Fatal(err)
			}
			conf := func(sock string) string {
				path := filepath.Join(dir, sock+".conf")
				text := fmt.Sprintf("[supervisord]\nlogfile=%[1]s/%[2]s.log\npidfile=%[1]s/%[2]s.pid\nchildlogdir=%[1]s\n[unix_http_server]\nfile=%[1]s/%[2]s\n%[3]s", dir, sock, c.settings)
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return path
			}
			real := startSupervisord(t, conf("real.sock"), filepath.Join(dir, "real.sock"))
			cfg, err := translate.Load(conf("ours.sock"), translate.Options{Environ: []string{}, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			lns, err := Listen(cfg.Servers, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { lns[0].Close() })
			go func() {
				for {
					c, err := lns[0].Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			describe := func(path string) string {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				return fmt.Sprintf("%v uid=%d gid=%d nobody:%s nobody+dialout:%s",
					fi.Mode(), st.Uid, st.Gid, connectAs(t, path, nil), connectAs(t, path, []uint32{uint32(gid)}))
			}
			want, got := describe(real), describe(filepath.Join(dir, "ours.sock"))
			if got != want {
				t.Errorf("Listen's socket:\n  %s\nsupervisord's:\n  %s", got, want)
			}
			if testing.Verbose() {
				t.Logf("%s", got)
			}
		})
	}
}

// startSupervisord runs the real supervisord on conf in the foreground
// until the test ends, and returns its socket once it accepts.
func startSupervisord(t *testing.T, conf, sock string) string {
	t.Helper()
	cmd := exec.Command(supervisord, "-n", "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(time.Minute) // a generous bound: the machine may be busy
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		select {
		case <-done:
			t.Fatalf("supervisord exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("supervisord did not listen on %s:\n%s", sock, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
