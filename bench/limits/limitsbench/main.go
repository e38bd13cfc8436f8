// Limitsbench measures how one supervisor daemon — the real supervisord
// or `supersede run` — holds up against hostile clients of its XML-RPC
// API (issue 15), for bench/limits/run.sh, which runs it for each daemon
// and prints the table. Each measurement starts the daemon under
// `ulimit -n 1024` (supervisord's default minfds), soft and hard, on a
// fresh directory, and stops it afterwards by its PID.
//
// Usage:
//
//	limitsbench -daemon supervisord|supersede [-bin PATH] [-only entity,idle,bodies] WORKDIR
//
// It prints one "name value" line per result:
//
//	entity_code, entity_ms, entity_hwm_mib   one 101 KB request (a 100,000-byte
//	                                entity referenced 1000 times): the HTTP status,
//	                                the time to answer, the daemon's peak RSS after it
//	idle_ok, idle_failed            owner's getAllProcessInfo calls during 10 s under
//	                                2000 idle connections: answered, failed (5 s timeout)
//	idle_p50_ms, idle_p99_ms, idle_max_ms   their latency, a new connection each
//	idle_ctl_ms, idle_ctl_exit      `supervisorctl status` once, under the same load
//	idle_ctl_base_ms                the same before the connections are opened
//	idle_flap                       the state of a program restarting every 0.2 s, after
//	idle_emfile                     main-log lines saying descriptors ran out
//	bodies_hwm_mib, bodies_s, bodies_codes   ten concurrent 60 MB requests: peak
//	                                RSS, time until all are answered, their statuses
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	daemonFlag = flag.String("daemon", "supersede", "supervisord or supersede")
	binFlag    = flag.String("bin", "", "the supersede binary")
	onlyFlag   = flag.String("only", "entity,idle,bodies", "measurements to make")
)

func main() {
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: limitsbench -daemon supervisord|supersede [-bin PATH] [-only entity,idle,bodies] WORKDIR")
		os.Exit(2)
	}
	work := flag.Arg(0)
	for _, m := range strings.Split(*onlyFlag, ",") {
		var err error
		switch m {
		case "entity":
			err = withDaemon(work, m, entity)
		case "idle":
			err = withDaemon(work, m, idle)
		case "bodies":
			err = withDaemon(work, m, bodies)
		default:
			err = fmt.Errorf("unknown measurement %q", m)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "limitsbench: %s: %s: %v\n", *daemonFlag, m, err)
		}
	}
}

type daemon struct {
	dir, sock, conf string
	pid             int
	client          *http.Client
}

func withDaemon(work, name string, f func(*daemon) error) error {
	dir, err := os.MkdirTemp(work, name)
	if err != nil {
		return err
	}
	d := &daemon{dir: dir, sock: filepath.Join(dir, "s.sock"), conf: filepath.Join(dir, "supervisord.conf")}
	conf := `[supervisord]
logfile=` + dir + `/main.log
pidfile=` + dir + `/sd.pid
childlogdir=` + dir + `
[unix_http_server]
file=` + d.sock + `
[supervisorctl]
serverurl=unix://` + d.sock + `
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:flap]
command=/bin/sh -c "sleep 0.2; exit 1"
autorestart=true
startsecs=0
startretries=3
[program:steady]
command=/bin/sleep 1000
`
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		return err
	}
	argv := []string{"/usr/bin/supervisord", "-n"}
	if *daemonFlag == "supersede" {
		argv = []string{*binFlag, "run", "-n"}
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit -n 1024 && exec "$@" -c "$0"`, d.conf}, argv...)...)
	cmd.Dir = dir
	out, _ := os.Create(filepath.Join(dir, "daemon.out"))
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	d.pid = cmd.Process.Pid
	defer func() {
		syscall.Kill(d.pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			syscall.Kill(-d.pid, syscall.SIGKILL) // its session: the daemon and its programs
			<-done
		}
	}()
	d.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.sock)
		},
		DisableKeepAlives: true,
	}}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if st, err := d.state("steady", 2*time.Second); err == nil && st == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return f(d)
}

// post sends body to /RPC2 and returns the status and response.
func (d *daemon) post(body io.Reader, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://localhost/RPC2", body)
	req.Header.Set("Content-Type", "text/xml")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// state is a program's statename, from getAllProcessInfo.
func (d *daemon) state(name string, timeout time.Duration) (string, error) {
	code, b, err := d.post(strings.NewReader(`<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params/></methodCall>`), timeout)
	if err != nil {
		return "", err
	}
	if code != 200 {
		return "", fmt.Errorf("HTTP %d", code)
	}
	i := bytes.Index(b, []byte("<value><string>"+name+"</string></value>"))
	if i < 0 {
		return "", fmt.Errorf("no %s", name)
	}
	const key = "<name>statename</name>\n<value><string>"
	j := bytes.Index(b[i:], []byte(key))
	if j < 0 {
		return "", fmt.Errorf("no statename")
	}
	rest := b[i+j+len(key):]
	return string(rest[:bytes.IndexByte(rest, '<')]), nil
}

// status reads a field of /proc/PID/status in MiB.
func (d *daemon) status(field string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return float64(kb) / 1024
		}
	}
	return -1
}

func entity(d *daemon) error {
	body := `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "` + strings.Repeat("x", 100_000) + `">]>` +
		`<methodCall><methodName>supervisor.getPID</methodName><params><param><value><string>` +
		strings.Repeat("&e;", 1000) + `</string></value></param></params></methodCall>`
	fmt.Printf("entity_hwm_before_mib %.1f\n", d.status("VmHWM"))
	start := time.Now()
	code, _, err := d.post(strings.NewReader(body), 120*time.Second)
	if err != nil {
		fmt.Printf("entity_code %v\n", err)
	} else {
		fmt.Printf("entity_code %d\n", code)
	}
	fmt.Printf("entity_ms %.1f\n", float64(time.Since(start).Microseconds())/1000)
	fmt.Printf("entity_hwm_mib %.1f\n", d.status("VmHWM"))
	return nil
}

// ctl runs `supervisorctl status` and returns its time and exit status.
func (d *daemon) ctl() (time.Duration, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := exec.CommandContext(ctx, "/usr/bin/supervisorctl", "-c", d.conf, "status").Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return time.Since(start), code
}

func idle(d *daemon) error {
	base, _ := d.ctl()
	fmt.Printf("idle_ctl_base_ms %d\n", base.Milliseconds())
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 2000 {
		c, err := net.DialTimeout("unix", d.sock, 5*time.Second)
		if err != nil {
			fmt.Printf("idle_dial_failed_at %d\n", len(conns))
			break
		}
		conns = append(conns, c)
	}
	var lat []time.Duration
	failed := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		start := time.Now()
		if _, err := d.state("flap", 5*time.Second); err != nil {
			failed++
		} else {
			lat = append(lat, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("idle_ok %d\nidle_failed %d\n", len(lat), failed)
	if len(lat) > 0 {
		slices.Sort(lat)
		ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
		fmt.Printf("idle_p50_ms %.2f\nidle_p99_ms %.2f\nidle_max_ms %.2f\n", ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]))
	}
	took, code := d.ctl()
	fmt.Printf("idle_ctl_ms %d\nidle_ctl_exit %d\n", took.Milliseconds(), code)
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	st, err := "", error(nil)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, err = d.state("flap", 5*time.Second); err == nil {
			break
		}
	}
	if err != nil {
		st = "no answer: " + err.Error()
	}
	fmt.Printf("idle_flap %s\n", st)
	log, _ := os.ReadFile(filepath.Join(d.dir, "main.log"))
	fmt.Printf("idle_emfile %d\n", bytes.Count(log, []byte("too many open files")))
	return nil
}

func bodies(d *daemon) error {
	const n, size = 10, 60 << 20
	var wg sync.WaitGroup
	codes := make([]string, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				io.WriteString(pw, `<?xml version="1.0"?><methodCall><methodName>supervisor.sendProcessStdin</methodName><params><param><value><string>nosuch</string></value></param><param><value><string>`)
				chunk := bytes.Repeat([]byte("x"), 1<<20)
				for range size >> 20 {
					pw.Write(chunk)
				}
				io.WriteString(pw, `</string></value></param></params></methodCall>`)
				pw.Close()
			}()
			// A known length, as supervisorctl sends.
			body := io.MultiReader(pr)
			req, _ := http.NewRequest("POST", "http://localhost/RPC2", body)
			req.ContentLength = int64(len(`<?xml version="1.0"?><methodCall><methodName>supervisor.sendProcessStdin</methodName><params><param><value><string>nosuch</string></value></param><param><value><string>`) + size + len(`</string></value></param></params></methodCall>`))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
			defer cancel()
			resp, err := d.client.Do(req.WithContext(ctx))
			if err != nil {
				codes[i] = "err"
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = strconv.Itoa(resp.StatusCode)
		}()
	}
	wg.Wait()
	fmt.Printf("bodies_s %.1f\nbodies_hwm_mib %.0f\nbodies_codes %s\n", time.Since(start).Seconds(), d.status("VmHWM"), strings.Join(codes, ","))
	return nil
}
