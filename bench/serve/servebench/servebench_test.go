//go:build servebench

package servebench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/sdtest"
)

const (
	supervisord  = "/usr/bin/supervisord"
	startTimeout = 5 * time.Minute
)

const request = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo</methodName>\n<params>\n</params>\n</methodCall>\n"

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q is not a whole number", name, v)
	}
	return n
}

func TestServeBench(t *testing.T) {
	sdtest.Require(t)
	exe := os.Getenv("SUPERSEDE")
	if exe == "" {
		t.Fatal("SUPERSEDE is not set: name the supersede binary (bench/serve/run.sh builds one)")
	}
	exe, _ = filepath.Abs(exe)
	n, runs, warmup, idle := envInt(t, "N", 1000), envInt(t, "RUNS", 30), envInt(t, "WARMUP", 3), envInt(t, "IDLE", 20)
	if _, err := os.Stat(supervisord); err != nil {
		t.Fatal("no /usr/bin/supervisord (make deps)")
	}
	load0 := loadavg()

	// the same configuration for both, in two directories
	svDir, sdDir := t.TempDir(), t.TempDir()
	svConf, svSock := writeConfig(t, svDir, n)
	sdConf, sdSock := writeConfig(t, sdDir, n)

	sv := startSupervisord(t, svDir, svConf)
	defer stop(sv)
	waitRunning(t, "supervisord", svSock, n)

	m := sdtest.Start(t, sdtest.Options{})
	defer m.Stop()
	if out, err := exec.Command(exe, "convert", "--user", "-c", sdConf, "-o", m.UnitDir).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	m.DaemonReload()
	m.Systemctl("start", "supersede.target", "supersede-serve.socket")
	t0 := time.Now()
	first, err := call(sdSock)
	activation := time.Since(t0)
	if err != nil {
		t.Fatalf("first call to serve: %v", err)
	}
	_ = first
	waitRunning(t, "serve", sdSock, n)
	servePID, _ := strconv.Atoi(m.Show("supersede-serve.service", "MainPID")["MainPID"])
	if servePID == 0 {
		t.Fatal("supersede-serve.service has no main pid")
	}

	// side by side, alternating
	var svTimes, sdTimes []time.Duration
	var svBytes, sdBytes int
	for i := 0; i < warmup+runs; i++ {
		for _, side := range []struct {
			sock  string
			times *[]time.Duration
			bytes *int
		}{{svSock, &svTimes, &svBytes}, {sdSock, &sdTimes, &sdBytes}} {
			t0 := time.Now()
			body, err := call(side.sock)
			d := time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			if i >= warmup {
				*side.times = append(*side.times, d)
			}
			*side.bytes = len(body)
		}
	}
	svRSS, sdRSS := rss(sv.Process.Pid), rss(servePID)

	// idle: no client for IDLE seconds
	time.Sleep(2 * time.Second) // let the last connection's goroutines end
	svSw0, sdSw0 := switches(sv.Process.Pid), switches(servePID)
	time.Sleep(time.Duration(idle) * time.Second)
	svSw1, sdSw1 := switches(sv.Process.Pid), switches(servePID)
	svIdleRSS, sdIdleRSS := rss(sv.Process.Pid), rss(servePID)

	svMed, sdMed := median(svTimes), median(sdTimes)
	var b strings.Builder
	fmt.Fprintf(&b, "getAllProcessInfo over %d programs, %d calls each after %d warm-up calls, alternating; load average %s before, %s after, %d cores\n\n", n, runs, warmup, load0, loadavg(), runtime.NumCPU())
	b.WriteString("| server | median | min | max | response | RSS after the calls |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| supervisord 4.2.5 | %s | %s | %s | %d bytes | %d KiB |\n", ms(svMed), ms(slices.Min(svTimes)), ms(slices.Max(svTimes)), svBytes, svRSS)
	fmt.Fprintf(&b, "| supersede serve (systemd --user) | %s | %s | %s | %d bytes | %d KiB |\n", ms(sdMed), ms(slices.Min(sdTimes)), ms(slices.Max(sdTimes)), sdBytes, sdRSS)
	fmt.Fprintf(&b, "\nserve is %.1fx faster (median over median). serve's first call, which socket activation answers by starting it: %s.\n\n", float64(svMed)/float64(sdMed), ms(activation))
	b.WriteString("| idle, no client | wake-ups/s | RSS |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| supervisord 4.2.5 | %.2f | %d KiB |\n", float64(svSw1-svSw0)/float64(idle), svIdleRSS)
	fmt.Fprintf(&b, "| supersede serve | %.2f | %d KiB |\n", float64(sdSw1-sdSw0)/float64(idle), sdIdleRSS)
	fmt.Fprintf(&b, "\n(context switches of all threads over %d s)\n", idle)
	t.Logf("\n%s", b.String())
	if out := os.Getenv("SERVE_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeConfig(t *testing.T, dir string, n int) (conf, sock string) {
	conf, sock = filepath.Join(dir, "supervisord.conf"), filepath.Join(dir, "s.sock")
	var b strings.Builder
	fmt.Fprintf(&b, "[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\nminfds=8192\nuser=root\n\n", dir)
	fmt.Fprintf(&b, "[unix_http_server]\nfile=%s\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n", sock)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n[program:prog_%04d]\ncommand=/bin/sleep infinity\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n", i)
	}
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, sock
}

func startSupervisord(t *testing.T, dir, conf string) *exec.Cmd {
	cmd := exec.Command(supervisord, "-n", "-c", conf)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	runtime.LockOSThread()
	err := cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
	}
}

// call POSTs getAllProcessInfo over the unix socket and returns the body.
func call(sock string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(c, "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(request), request)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<name>statename</name>")) {
		return nil, fmt.Errorf("%s: %s %.300s", sock, resp.Status, body)
	}
	return body, nil
}

func waitRunning(t *testing.T, who, sock string, n int) {
	deadline := time.Now().Add(startTimeout)
	for {
		body, err := call(sock)
		if err == nil && bytes.Count(body, []byte("<string>RUNNING</string>")) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %d RUNNING after %v (%v)", who, n, startTimeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// switches sums the context switches of every thread of pid.
func switches(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	total := 0
	for _, p := range tasks {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if strings.HasPrefix(line, "voluntary_ctxt_switches:") || strings.HasPrefix(line, "nonvoluntary_ctxt_switches:") {
				v, _ := strconv.Atoi(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]))
				total += v
			}
		}
	}
	return total
}

// rss is VmRSS of pid in KiB.
func rss(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
