package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
)

// writeAccessConf is writeConf with a socket that only root and the
// members of group may reach (chmod=0770, and chown=root:GROUP unless
// group is root, the socket's group without chown), and that asks for a
// username and password besides.
func writeAccessConf(t *testing.T, dir, group string) string {
	t.Helper()
	conf := filepath.Join(dir, "supervisord.conf")
	chown := ""
	if group != "root" {
		chown = "chown=root:" + group + "\n"
	}
	text := fmt.Sprintf(`[unix_http_server]
file=%[1]s/s.sock
chmod=0770
%[2]susername=admin
password={SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4

[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/s.sock
username=admin
password=secret

[program:talker]
command=/bin/sleep 1000
startsecs=0
`, dir, chown)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// nobody's own supervisorctl configuration: the socket, no password
	ctl := fmt.Sprintf("[supervisorctl]\nserverurl=unix://%s/s.sock\n", dir)
	if err := os.WriteFile(filepath.Join(dir, "nobody.conf"), []byte(ctl), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// asNobodyIn runs the real supervisorctl as the user nobody, a member of
// the groups given (none: nobody's own group alone), with nobody.conf
// beside conf.
func asNobodyIn(conf, group string, groups []uint32, args ...string) ctlResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", filepath.Join(filepath.Dir(conf), "nobody.conf")}, args...)...)
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
	who := "(as nobody)"
	if len(groups) > 0 {
		who = "(as nobody in " + group + ")"
	}
	return runCmd(c, append([]string{who}, args...))
}

// accessSession is who may control the programs: the socket's owner and
// mode decide who reaches it (EACCES for the others), then its username
// and password who is answered.
func accessSession(t *testing.T, w *world, conf, group string) string {
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatalf("group %s: %v", group, err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	member := []uint32{uint32(gid)}
	var b strings.Builder
	add := func(r ctlResult) ctlResult {
		if testing.Verbose() {
			t.Logf("%s: %s", w.name, r)
		}
		b.WriteString(strings.ReplaceAll(r.String(), filepath.Dir(conf), "DIR"))
		return r
	}
	w.waitState(t, "talker", "RUNNING", 0)
	sock := filepath.Join(filepath.Dir(conf), "s.sock")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	fmt.Fprintf(&b, "socket: %v uid %d gid %d\n", fi.Mode(), st.Uid, st.Gid)

	// Outside the group: the socket itself refuses, whatever the password.
	for _, args := range [][]string{{"status"}, {"-u", "admin", "-p", "secret", "stop", "talker"}} {
		if r := add(asNobodyIn(conf, group, nil, args...)); !strings.Contains(r.stdout+r.stderr, "Permission denied") {
			t.Errorf("%s: nobody outside %s reached the socket: %s", w.name, group, r)
		}
	}
	// In the group: the password decides.
	add(asNobodyIn(conf, group, member, "status"))
	add(asNobodyIn(conf, group, member, "-u", "admin", "-p", "wrong", "status"))
	for _, args := range [][]string{{"stop", "talker"}, {"status"}, {"start", "talker"}, {"status"}} {
		if r := add(asNobodyIn(conf, group, member, append([]string{"-u", "admin", "-p", "secret"}, args...)...)); r.code != 0 && args[0] != "status" {
			t.Errorf("%s: nobody in %s with the password could not %s: %s", w.name, group, args[0], r)
		}
	}
	return b.String()
}

// TestServeSocketAccessOnSystemd shows that under serve, as under
// supervisord, the socket's owner and mode and the section's username=
// and password= decide who may control the programs, and nothing else:
// a user who can reach the socket (here nobody, in the socket's group)
// and knows the password controls them; one who cannot reach it gets
// EACCES. Both worlds answer the same transcript. serve is started by
// its socket unit here; a user manager cannot chown (convert leaves
// chown= out with --user), so the group is the manager's own, root's.
func TestServeSocketAccessOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	requireRoot(t)
	sideBySide(t, func(t *testing.T) string {
		dir := nobodysTempDir(t)
		conf := writeAccessConf(t, dir, "root")
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return accessSession(t, w, conf, "root")
	}, func(t *testing.T) string {
		conf := writeAccessConf(t, nobodysTempDir(t), "root")
		w, _ := serveWorld(t, conf)
		return accessSession(t, w, conf, "root")
	})
}

// TestServeSocketChownOnSystemd is TestServeSocketAccessOnSystemd with
// chown=root:dialout, a group nobody is not in, honoured as the system
// manager's SocketGroup= does: serve runs as root without socket
// activation and opens the socket itself (internal/daemon.Listen, as
// supersede run does).
func TestServeSocketChownOnSystemd(t *testing.T) {
	t.Parallel()
	sdtest.Require(t)
	testreal.RequireSupervisor(t)
	requireRoot(t)
	const group = "dialout"
	sideBySide(t, func(t *testing.T) string {
		dir := nobodysTempDir(t)
		conf := writeAccessConf(t, dir, group)
		w := supervisordWorld(t, dir, conf)
		defer w.ctl("shutdown")
		return accessSession(t, w, conf, group)
	}, func(t *testing.T) string {
		conf := writeAccessConf(t, nobodysTempDir(t), group)
		w := serveItselfWorld(t, conf)
		return accessSession(t, w, conf, group)
	})
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		testreal.Missing(t, "running supervisorctl as the user nobody needs root")
	}
}

// serveItselfWorld is serveWorld with `supersede serve --user` started
// directly, in the manager's namespace, rather than by its socket unit,
// with --pidfile: the pidfile holds serve's pid while it runs, and it and
// the socket are gone once SIGTERM has stopped it.
func serveItselfWorld(t *testing.T, conf string) *world {
	t.Helper()
	sm := sdtest.Start(t, sdtest.Options{})
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(exe, "convert", "--user", "-c", conf, "-o", sm.UnitDir).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sm.DaemonReload()
	sm.Systemctl("start", "supersede.target")
	var out fallbacktest.SyncBuffer
	pidfile := filepath.Join(filepath.Dir(conf), "serve.pid")
	cmd := sm.Command(context.Background(), exe, "serve", "--user", "-c", conf, "--pidfile", pidfile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Error("serve did not stop within 20 s of SIGTERM")
		}
		for _, f := range []string{pidfile, filepath.Join(filepath.Dir(conf), "s.sock")} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s is left after serve stopped", f)
			}
		}
		if t.Failed() {
			t.Logf("serve's output:\n%s", out.String())
		}
	})
	w := &world{name: "serve", ctl: func(args ...string) ctlResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
		c.Dir = filepath.Dir(conf)
		return runCmd(c, args)
	}}
	deadline := time.Now().Add(60 * time.Second) // a generous bound: the machine may be busy
	for w.ctl("version").code != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, err := os.ReadFile(pidfile); err != nil || string(data) != strconv.Itoa(cmd.Process.Pid)+"\n" {
		t.Errorf("serve's pidfile holds %q (%v), want its pid %d", data, err, cmd.Process.Pid)
	}
	return w
}
