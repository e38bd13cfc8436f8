// Fbbench measures one supervisor daemon — the real supervisord or
// `supersede run` — for bench/fallback/run.sh, which runs it for both and
// prints the table. Each measurement starts the daemon on a generated
// configuration in a fresh directory, and shuts it down afterwards.
//
// Usage:
//
//	fbbench measure -daemon supervisord|supersede [-supersede PATH] [-victim PATH] [-only NAME,...] WORKDIR
//	fbbench stamp FILE    (a program: appends "PID UNIX_NANOS" to FILE, then waits for SIGTERM)
//	fbbench spew BYTES    (a program: writes BYTES of a known pattern to stdout, then exits 0)
//
// The restart measurement kills and times a program that stamps the time
// and waits: -victim (bench/fallback/stamp, which run.sh builds; argument
// FILE), or else this program's own stamp command. Both daemons run the
// same one. It waits for the stamps with inotify, so that no polling
// takes CPU from the daemon and the child while they restart.
//
// measure prints one "name value unit" line per result on stdout:
//
//	restart_p50 / restart_p90   SIGKILL of the program → its new process runs (the
//	                            new process's own clock reading, first thing in main)
//	victim_exit_p50             SIGKILL → the program reaped by its direct parent
//	                            (os/exec): the part of restart_p50 that is the old
//	                            process's own exit, before any daemon can see it
//	exec_baseline_p50           the same program started directly with os/exec: the
//	                            part of restart_p50 that is the program's own start
//	spawned_after_kill_p50      SIGKILL → the daemon logs "spawned:" (the log's clock
//	running_after_kill_p50      has milliseconds, truncated: these are the medians
//	                            plus half a millisecond, ±0.5 ms); "success:" for
//	                            RUNNING, at once with startsecs=0
//	rss_1000 / hwm_1000         daemon VmRSS / VmHWM with 1000 programs RUNNING
//	rss_anon_1000 / rss_file_1000   VmRSS's anonymous part (heap, stacks, runtime)
//	                            and its file-backed part (the daemon's executable and
//	                            libraries mapped from the page cache, shared with any
//	                            other process running them)
//	start_1000                  daemon exec → all 1000 programs RUNNING (startsecs=1)
//	status_1000                 `supervisorctl status` with 1000 programs (hyperfine median)
//	stop_1000                   stopAllProcesses(wait) over XML-RPC → the last
//	                            program reaped ("stopped:" in the main log, ±1 ms)
//	stop_call_1000              until that call returned
//	idle_wakeups                context switches/s of all daemon threads, 100 programs, 10 s
//	log_mbps / log_cpu / log_lost   500 MB through a child's stdout into its log file
//	storm_*                     a crash storm (not in the default -only; see storm.go
//	                            and bench/fallback/storm.sh)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "stamp":
		err = stamp(os.Args[2:])
	case "spew":
		err = spew(os.Args[2:])
	case "measure":
		err = measure(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fbbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: fbbench measure -daemon supervisord|supersede [-supersede PATH] [-only NAMES] WORKDIR\n       fbbench stamp FILE\n       fbbench spew BYTES")
	os.Exit(2)
}

// stamp is the program of the restart measurement.
func stamp(args []string) error {
	now := time.Now().UnixNano()
	if len(args) != 1 {
		return errors.New("stamp FILE")
	}
	f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "%d %d\n", os.Getpid(), now)
	f.Close()
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
	return nil
}

// pattern is what spew writes, over and over.
var pattern = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = "0123456789abcdefghijklmnopqrstuvwxyz\n"[i%37]
	}
	return b
}()

// spew is the program of the log capture measurement.
func spew(args []string) error {
	if len(args) != 1 {
		return errors.New("spew BYTES")
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return err
	}
	for n > 0 {
		chunk := pattern[:min(int64(len(pattern)), n)]
		if _, err := os.Stdout.Write(chunk); err != nil {
			return err
		}
		n -= int64(len(chunk))
	}
	return nil
}

type bench struct {
	daemon    string
	supersede string
	work      string
	self      string   // this executable
	victim    []string // the restart measurement's program, without its FILE
}

func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	daemon := fs.String("daemon", "supervisord", "supervisord or supersede")
	supersede := fs.String("supersede", "bin/supersede", "the supersede binary")
	only := fs.String("only", "restart,scale,idle,log", "measurements to run")
	victim := fs.String("victim", "", "the program the restart measurement kills (default: this one's stamp command)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*daemon != "supervisord" && *daemon != "supersede") {
		usage()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{daemon: *daemon, supersede: *supersede, work: fs.Arg(0), self: self, victim: []string{self, "stamp"}}
	if *victim != "" {
		if b.victim[0], err = filepath.Abs(*victim); err != nil {
			return err
		}
		b.victim = b.victim[:1]
	}
	for _, m := range strings.Split(*only, ",") {
		var err error
		switch m {
		case "restart":
			err = b.restart()
		case "scale":
			err = b.scale()
		case "idle":
			err = b.idle()
		case "log":
			err = b.logCapture()
		case "storm":
			err = b.storm()
		default:
			return fmt.Errorf("unknown measurement %q (restart, scale, idle, log, storm)", m)
		}
		if err != nil {
			return fmt.Errorf("%s on %s: %w", m, *daemon, err)
		}
	}
	return nil
}

func result(name string, value float64, unit string) {
	fmt.Printf("%s %.6g %s\n", name, value, unit)
}

// daemon is one running supervisor daemon.
type daemon struct {
	dir  string
	conf string
	sock string
	cmd  *exec.Cmd
	done chan struct{}
	rpc  *http.Client
	t0   time.Time // just before exec
}

// start launches the daemon and waits until it answers getState RUNNING.
func (b *bench) start(name, programs string) (*daemon, error) {
	d, err := b.launch(name, programs)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-d.done:
			data, _ := os.ReadFile(filepath.Join(d.dir, "daemon.out"))
			return nil, fmt.Errorf("%s exited at start: %s", d.cmd.Path, data)
		default:
		}
		if body, err := d.call("supervisor.getState"); err == nil && strings.Contains(body, "RUNNING") {
			return d, nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("%s did not answer on %s", d.cmd.Path, d.sock)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// launch writes the configuration and starts the daemon on it.
func (b *bench) launch(name, programs string) (*daemon, error) {
	dir := filepath.Join(b.work, b.daemon+"-"+name)
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		return nil, err
	}
	d := &daemon{dir: dir, conf: filepath.Join(dir, "supervisord.conf"), sock: filepath.Join(dir, "s.sock"), done: make(chan struct{})}
	conf := fmt.Sprintf(`[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s/log
minfds=8192
user=root

[unix_http_server]
file=%[1]s/s.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/s.sock

%[2]s`, dir, programs)
	if os.Getuid() != 0 {
		conf = strings.Replace(conf, "user=root\n", "", 1)
	}
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	argv := []string{"/usr/bin/supervisord", "-n", "-c", d.conf}
	if b.daemon == "supersede" {
		argv = []string{b.supersede, "run", "-n", "-c", d.conf}
	}
	out, err := os.Create(filepath.Join(dir, "daemon.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = out, out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	d.rpc = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.sock)
	}}}
	d.t0 = time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	return d, nil
}

// call makes an XML-RPC call; params are already-encoded <value>s. It
// returns the response body, or an error for a fault.
func (d *daemon) call(method string, params ...string) (string, error) {
	var req strings.Builder
	req.WriteString(`<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params>`)
	for _, p := range params {
		req.WriteString("<param>" + p + "</param>")
	}
	req.WriteString("</params></methodCall>")
	resp, err := d.rpc.Post("http://localhost/RPC2", "text/xml", strings.NewReader(req.String()))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 || bytes.Contains(body, []byte("<fault>")) {
		return "", fmt.Errorf("%s: HTTP %d: %.300s", method, resp.StatusCode, body)
	}
	return string(body), nil
}

// stop shuts the daemon down and kills whatever is left of its session.
func (d *daemon) stop() {
	d.call("supervisor.shutdown")
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	sid := d.cmd.Process.Pid
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := sessionOf(pid); err == nil && s == sid {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func sessionOf(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return strconv.Atoi(f[3])
}

// logCount counts lines containing s in the main log.
func (d *daemon) logCount(s string) int {
	data, _ := os.ReadFile(filepath.Join(d.dir, "supervisord.log"))
	return bytes.Count(data, []byte(s))
}

// waitLog waits until the main log holds n lines containing s.
func (d *daemon) waitLog(s string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for d.logCount(s) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("main log: %d of %d %q lines after %v", d.logCount(s), n, s, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// logTimes returns the timestamps of the main log lines containing s.
func (d *daemon) logTimes(s string) []time.Time {
	f, err := os.Open(filepath.Join(d.dir, "supervisord.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []time.Time
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 23 || !strings.Contains(line, s) {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05,000", line[:23], time.Local)
		if err == nil {
			out = append(out, t)
		}
	}
	return out
}

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1)+0.5)]
}

// restart: SIGKILL the program, time until its new process runs.
func (b *bench) restart() error {
	runs := envInt("RESTARTS", 15)
	stampFile := filepath.Join(b.work, b.daemon+"-restart.stamps")
	if err := os.WriteFile(stampFile, nil, 0o644); err != nil {
		return err
	}
	w, err := watchFile(stampFile)
	if err != nil {
		return err
	}
	defer w.Close()
	command := strings.Join(append(slices.Clone(b.victim), stampFile), " ")
	d, err := b.start("restart", fmt.Sprintf("[program:victim]\ncommand=%s\nstartsecs=0\nautorestart=true\n", command))
	if err != nil {
		return err
	}
	defer d.stop()
	var execs, spawneds, runnings []float64
	for i := 0; i <= runs; i++ {
		if err := d.waitLog("success: victim", i+1, 30*time.Second); err != nil {
			return err
		}
		if i == runs {
			break
		}
		time.Sleep(50 * time.Millisecond) // let the daemon settle
		stamps := readStamps(stampFile)
		if len(stamps) != i+1 {
			return fmt.Errorf("%d stamps after %d kills", len(stamps), i)
		}
		pid := stamps[i][0]
		t0 := time.Now()
		if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
			return err
		}
		deadline := t0.Add(30 * time.Second)
		for len(readStamps(stampFile)) < i+2 {
			if err := w.wait(deadline); err != nil {
				return fmt.Errorf("no restart within 30 s: %w", err)
			}
		}
		execs = append(execs, float64(readStamps(stampFile)[i+1][1]-t0.UnixNano())/1e6)
		if err := d.waitLog("success: victim", i+2, 30*time.Second); err != nil {
			return err
		}
		// The log's times are truncated to the millisecond.
		const half = 0.5
		ts := d.logTimes("spawned: 'victim'")
		spawneds = append(spawneds, float64(ts[i+1].Sub(t0))/1e6+half)
		ts = d.logTimes("success: victim")
		runnings = append(runnings, float64(ts[i+1].Sub(t0))/1e6+half)
	}
	result("restart_p50", percentile(execs, 0.5), "ms")
	result("restart_p90", percentile(execs, 0.9), "ms")
	result("spawned_after_kill_p50", percentile(spawneds, 0.5), "ms")
	result("running_after_kill_p50", percentile(runnings, 0.5), "ms")
	base, exit, err := b.execBaseline(runs, w)
	if err != nil {
		return err
	}
	result("exec_baseline_p50", base, "ms")
	result("victim_exit_p50", exit, "ms")
	return nil
}

// execBaseline runs the victim directly, as a child of this program: the
// median time from starting it to its clock reading, and from killing
// it to its reaping.
func (b *bench) execBaseline(runs int, w *fileWatch) (start, exit float64, err error) {
	file := filepath.Join(b.work, b.daemon+"-restart.stamps")
	n := len(readStamps(file))
	var starts, exits []float64
	for i := range runs {
		cmd := exec.Command(b.victim[0], append(slices.Clone(b.victim[1:]), file)...)
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, 0, err
		}
		for len(readStamps(file)) < n+i+1 {
			if err := w.wait(t0.Add(30 * time.Second)); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				return 0, 0, fmt.Errorf("%s did not start: %w", b.victim[0], err)
			}
		}
		starts = append(starts, float64(readStamps(file)[n+i][1]-t0.UnixNano())/1e6)
		time.Sleep(50 * time.Millisecond)
		t1 := time.Now()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		exits = append(exits, float64(time.Since(t1))/1e6)
	}
	return percentile(starts, 0.5), percentile(exits, 0.5), nil
}

// fileWatch waits for a file to be written to (inotify).
type fileWatch struct{ f *os.File }

func watchFile(path string) (*fileWatch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_MODIFY); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("inotify %s: %w", path, err)
	}
	return &fileWatch{os.NewFile(uintptr(fd), "inotify")}, nil
}

// wait returns once the file was written to since the last wait, or
// with an error at deadline.
func (w *fileWatch) wait(deadline time.Time) error {
	w.f.SetReadDeadline(deadline)
	var buf [4096]byte
	_, err := w.f.Read(buf[:])
	return err
}

func (w *fileWatch) Close() error { return w.f.Close() }

func readStamps(file string) [][2]int64 {
	data, _ := os.ReadFile(file)
	var out [][2]int64
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasSuffix(line, "\n") {
			continue
		}
		a, _ := strconv.ParseInt(f[0], 10, 64)
		c, _ := strconv.ParseInt(f[1], 10, 64)
		out = append(out, [2]int64{a, c})
	}
	return out
}

func programs(n int, startsecs int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[program:p%04d]\ncommand=/bin/sleep infinity\nstartsecs=%d\n\n", i, startsecs)
	}
	return b.String()
}

// scale: 1000 programs to RUNNING, RSS, status, stop.
func (b *bench) scale() error {
	n := envInt("PROGRAMS", 1000)
	d, err := b.start("scale", programs(n, 1))
	if err != nil {
		return err
	}
	defer d.stop()
	if err := d.waitLog("success: ", n, 120*time.Second); err != nil {
		return err
	}
	ts := d.logTimes("success: ")
	result(fmt.Sprintf("start_%d", n), ts[len(ts)-1].Sub(d.t0).Seconds(), "s")
	time.Sleep(time.Second) // settle
	st := procStatus(d.cmd.Process.Pid)
	result(fmt.Sprintf("rss_%d", n), float64(st["VmRSS"])/1024, "MiB")
	result(fmt.Sprintf("rss_anon_%d", n), float64(st["RssAnon"])/1024, "MiB")
	result(fmt.Sprintf("rss_file_%d", n), float64(st["RssFile"])/1024, "MiB")
	result(fmt.Sprintf("hwm_%d", n), float64(st["VmHWM"])/1024, "MiB")
	if hf, err := exec.LookPath("hyperfine"); err == nil {
		js := filepath.Join(d.dir, "hyperfine.json")
		cmd := exec.Command(hf, "--runs", strconv.Itoa(envInt("STATUS_RUNS", 10)), "--warmup", "1", "--shell=none",
			"--export-json", js, "/usr/bin/supervisorctl -c "+d.conf+" status")
		cmd.Stderr = os.Stderr
		if out, err := cmd.Output(); err != nil {
			return fmt.Errorf("hyperfine: %v\n%s", err, out)
		}
		var r struct{ Results []struct{ Median float64 } }
		data, _ := os.ReadFile(js)
		if err := json.Unmarshal(data, &r); err != nil || len(r.Results) != 1 {
			return fmt.Errorf("hyperfine output: %v", err)
		}
		result(fmt.Sprintf("status_%d", n), r.Results[0].Median*1000, "ms")
	} else {
		t0 := time.Now()
		if out, err := exec.Command("/usr/bin/supervisorctl", "-c", d.conf, "status").CombinedOutput(); err != nil {
			return fmt.Errorf("supervisorctl status: %v\n%.500s", err, out)
		}
		result(fmt.Sprintf("status_%d", n), float64(time.Since(t0))/1e6, "ms")
	}
	t0 := time.Now()
	if _, err := d.call("supervisor.stopAllProcesses", "<value><boolean>1</boolean></value>"); err != nil {
		return err
	}
	returned := time.Since(t0)
	if err := d.waitLog("stopped: ", n, 60*time.Second); err != nil {
		return err
	}
	// Stopped means reaped: the last "stopped:" line of the main log,
	// unless the call returned even later.
	stops := d.logTimes("stopped: ")
	result(fmt.Sprintf("stop_%d", n), max(returned, stops[len(stops)-1].Sub(t0)).Seconds(), "s")
	result(fmt.Sprintf("stop_call_%d", n), returned.Seconds(), "s")
	return nil
}

func procStatus(pid int) map[string]int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	out := map[string]int64{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			out[k] = n
		}
	}
	return out
}

// switches sums the context switches of all of pid's threads.
func switches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var sum int64
	for _, t := range tasks {
		data, _ := os.ReadFile(t)
		for line := range strings.Lines(string(data)) {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			}
		}
	}
	return sum
}

// idle: context switches of the daemon's threads with 100 programs
// running and nothing happening.
func (b *bench) idle() error {
	n := envInt("IDLE_PROGRAMS", 100)
	secs := envInt("IDLE_SECONDS", 10)
	d, err := b.start("idle", programs(n, 1))
	if err != nil {
		return err
	}
	defer d.stop()
	if err := d.waitLog("success: ", n, 120*time.Second); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	pid := d.cmd.Process.Pid
	s0 := switches(pid)
	time.Sleep(time.Duration(secs) * time.Second)
	s1 := switches(pid)
	result("idle_wakeups", float64(s1-s0)/float64(secs), "/s")
	return nil
}

// cpuTime is the daemon's user+system CPU time.
func cpuTime(pid int) time.Duration {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // CLK_TCK is 100 on Linux
}

// logCapture: 500 MB through a child's stdout into its log file.
func (b *bench) logCapture() error {
	size := int64(envInt("LOG_MB", 500)) << 20
	logPath := filepath.Join(b.work, b.daemon+"-capture.log")
	os.Remove(logPath)
	d, err := b.start("log", fmt.Sprintf(`[program:spew]
command=%s spew %d
stdout_logfile=%s
stdout_logfile_maxbytes=0
autostart=false
autorestart=false
startsecs=0
`, b.self, size, logPath))
	if err != nil {
		return err
	}
	defer func() { d.stop(); os.Remove(logPath) }()
	pid := d.cmd.Process.Pid
	c0 := cpuTime(pid)
	t0 := time.Now()
	if _, err := d.call("supervisor.startProcess", "<value><string>spew</string></value>", "<value><boolean>0</boolean></value>"); err != nil {
		return err
	}
	deadline := t0.Add(120 * time.Second)
	for {
		fi, err := os.Stat(logPath)
		if err == nil && fi.Size() >= size {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("log holds %v bytes of %d after 120 s", fi, size)
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(t0)
	if err := d.waitLog("exited: spew", 1, 30*time.Second); err != nil {
		return err
	}
	c1 := cpuTime(pid)
	result("log_mbps", float64(size)/1e6/el.Seconds(), "MB/s")
	result("log_cpu", (c1 - c0).Seconds(), "s")
	lost, err := compare(logPath, size)
	if err != nil {
		return err
	}
	result("log_lost", float64(lost), "bytes")
	return nil
}

// compare returns how many bytes the log differs from what spew wrote:
// missing or extra bytes, plus bytes that are not the pattern.
func compare(path string, size int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	diff := fi.Size() - size
	if diff < 0 {
		diff = -diff
	}
	buf := make([]byte, len(pattern))
	var off int64
	for {
		n, err := io.ReadFull(f, buf)
		want := pattern[:min(n, len(pattern))]
		if off+int64(n) > size {
			break
		}
		if !bytes.Equal(buf[:n], want) {
			for i := range n {
				if buf[i] != want[i] {
					diff++
				}
			}
		}
		off += int64(n)
		if err != nil {
			break
		}
	}
	return diff, nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
