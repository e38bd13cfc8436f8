package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/testreal"
)

// TestRunUnderIdleConnections is issue 15's descriptor exhaustion: 2000
// idle connections to `supersede run` under RLIMIT_NOFILE 1024 (the
// default minfds) used to take every descriptor, so that status timed
// out and a program restarting meanwhile went FATAL ("too many open
// files to spawn"). Now the connections beyond the cap are closed,
// oldest idle first: the owner's calls and supervisorctl status answer,
// and the restarting program keeps restarting. (supervisord under the
// same load answers nothing and the program goes FATAL: docs/PERFORMANCE.md.)
func TestRunUnderIdleConnections(t *testing.T) {
	t.Parallel()
	const idle = 2000
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < idle+256 {
		t.Fatalf("the test needs %d descriptors of its own for the idle connections; RLIMIT_NOFILE is %d (raise it: ulimit -n)", idle+256, rl.Cur)
	}
	exe, err := exec.LookPath("supersede")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as supersede: %v", err)
	}
	dir, err := os.MkdirTemp("", "lim") // short: a socket path fits 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	conf := filepath.Join(dir, "supervisord.conf")
	writeTestFile(t, conf, `[supervisord]
logfile=`+dir+`/main.log
pidfile=`+dir+`/sd.pid
childlogdir=`+dir+`
[unix_http_server]
file=`+sock+`
[supervisorctl]
serverurl=unix://`+sock+`
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:flap]
command=/bin/sh -c "sleep 0.2; exit 1"
autorestart=true
startsecs=0
startretries=3
[program:steady]
command=/bin/sleep 1000
`)
	// The daemon runs with the default minfds's limit, soft and hard (Go
	// would otherwise raise the soft limit to the hard one).
	cmd := exec.Command("/bin/sh", "-c", `ulimit -n 1024 && exec "$0" run -n -c "$1"`, exe, conf)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("supersede run did not end within 30 s of SIGTERM\n%s", out.String())
		}
	})

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}, Timeout: 10 * time.Second} // a hang, not a latency bound
	states := func() (map[string]string, error) {
		body := `<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params/></methodCall>`
		resp, err := client.Post("http://localhost/RPC2", "text/xml", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("status %d: %v", resp.StatusCode, err)
		}
		got := map[string]string{}
		for _, name := range []string{"flap", "steady"} {
			i := bytes.Index(b, []byte("<value><string>"+name+"</string></value>"))
			j := bytes.Index(b[max(i, 0):], []byte("<name>statename</name>\n<value><string>"))
			if i < 0 || j < 0 {
				return nil, fmt.Errorf("no %s in %s", name, b)
			}
			rest := b[i+j+len("<name>statename</name>\n<value><string>"):]
			got[name] = string(rest[:bytes.IndexByte(rest, '<')])
		}
		return got, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := states()
		if err == nil && st["steady"] == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("supersede run did not start its programs: %v %v\n%s", st, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	conns := make([]net.Conn, 0, idle)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range idle {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}

	// For 3 s, the owner asks for every process's state, as supervisorctl
	// status does; the restarting program restarts about 15 times.
	var lat []time.Duration
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		start := time.Now()
		st, err := states()
		if err != nil {
			t.Fatalf("getAllProcessInfo under %d idle connections: %v\n%s", idle, err, out.String())
		}
		lat = append(lat, time.Since(start))
		if st["flap"] == "FATAL" || st["steady"] != "RUNNING" {
			t.Fatalf("under %d idle connections: %v\n%s", idle, st, readTestFile(t, dir+"/main.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(lat)
	t.Logf("getAllProcessInfo under %d idle connections: %d calls, p50 %v, p99 %v, max %v",
		idle, len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])

	if ctl := "/usr/bin/supervisorctl"; fileExists(ctl) {
		c := exec.Command(ctl, "-c", conf, "status")
		start := time.Now()
		got, err := c.CombinedOutput()
		t.Logf("supervisorctl status: %v", time.Since(start))
		if !strings.Contains(string(got), "steady") || strings.Contains(string(got), "FATAL") {
			t.Errorf("supervisorctl status under %d idle connections: %v\n%s", idle, err, got)
		}
	} else {
		testreal.Missing(t, "/usr/bin/supervisorctl is not installed (make deps)")
	}
	if log := readTestFile(t, dir+"/main.log"); strings.Contains(log, "too many open files") {
		t.Errorf("the main log reports descriptors running out:\n%s", log)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
