package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stormTimeout bounds one getAllProcessInfo call during the storm; a call
// that takes longer counts as this long, and as a timeout.
const stormTimeout = 10 * time.Second

// storm: STORM_PROGRAMS (300) programs of /bin/false with autorestart=true
// and startsecs=0, all crashing and restarted as fast as the daemon
// restarts them, for STORM_SECONDS (20) from the daemon's exec.
// STORM_COMMAND replaces /bin/false: "sleep 1000" gives the same client's
// figures without a storm, on the same machine at the same load. Through
// the storm a client calls getAllProcessInfo over the unix socket, on a
// new connection each time as supervisorctl status does, one call every
// 50 ms after the previous answer; then the daemon gets SIGTERM.
//
//	storm_calls / storm_timeouts   calls made; calls not answered within 10 s
//	storm_first_answer             exec → the first answer
//	storm_p50 / storm_p99 / storm_max   call latency (a timeout counts as 10 s)
//	storm_rss_base                 VmRSS 2 s after exec, the storm under way
//	storm_rss_growth               VmRSS at the end of the storm − storm_rss_base
//	storm_peak_growth              VmHWM at the end of the storm − storm_rss_base
//	storm_spawns_per_s             "spawned:" lines in the main log per second
//	storm_exit                     SIGTERM → the daemon exited (-1: not within
//	                               stopwaitsecs + 30 s; then SIGKILL)
//	storm_all_gone                 SIGTERM → no process of its session left
func (b *bench) storm() error {
	n := envInt("STORM_PROGRAMS", 300)
	secs := envInt("STORM_SECONDS", 20)
	command := os.Getenv("STORM_COMMAND")
	if command == "" {
		command = "/bin/false"
	}
	var progs strings.Builder
	for i := range n {
		fmt.Fprintf(&progs, "[program:crash%03d]\ncommand=%s\nautorestart=true\nstartsecs=0\n\n", i, command)
	}
	d, err := b.launch("storm", progs.String())
	if err != nil {
		return err
	}
	defer d.stop()
	pid := d.cmd.Process.Pid
	end := d.t0.Add(time.Duration(secs) * time.Second)
	if err := waitSocket(d, end); err != nil {
		return err
	}

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.sock)
		},
		DisableKeepAlives: true,
	}}
	const call = `<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>`
	var (
		lat      []float64 // ms
		timeouts int
		first    time.Duration
		callErr  error
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		for time.Now().Before(end) {
			ctx, cancel := context.WithTimeout(context.Background(), stormTimeout)
			req, _ := http.NewRequestWithContext(ctx, "POST", "http://localhost/RPC2", strings.NewReader(call))
			req.Header.Set("Content-Type", "text/xml")
			t := time.Now()
			resp, err := client.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && (resp.StatusCode != 200 || !strings.Contains(string(body), "crash000")) {
					err = fmt.Errorf("getAllProcessInfo: HTTP %d: %.300s", resp.StatusCode, body)
				}
			}
			took := time.Since(t)
			cancel()
			switch {
			case err == nil:
				if first == 0 {
					first = time.Since(d.t0)
				}
				lat = append(lat, float64(took)/float64(time.Millisecond))
			case ctx.Err() != nil:
				timeouts++
				lat = append(lat, float64(stormTimeout)/float64(time.Millisecond))
			default:
				callErr = err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	time.Sleep(time.Until(d.t0.Add(2 * time.Second)))
	base := procStatus(pid)["VmRSS"]
	time.Sleep(time.Until(end))
	st := procStatus(pid)
	spawns := d.logCount("spawned: ")
	t0 := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	exit := -1.0
	select {
	case <-d.done:
		exit = time.Since(t0).Seconds()
	case <-time.After(40 * time.Second): // stopwaitsecs (10) + 30 s
		d.cmd.Process.Kill()
		<-d.done
	}
	for sessionAlive(pid) {
		time.Sleep(5 * time.Millisecond)
	}
	gone := time.Since(t0).Seconds()
	wg.Wait()
	if callErr != nil {
		return callErr
	}

	result("storm_programs", float64(n), "programs")
	result("storm_seconds", float64(secs), "s")
	result("storm_calls", float64(len(lat)), "calls")
	result("storm_timeouts", float64(timeouts), "calls")
	if first > 0 {
		result("storm_first_answer", first.Seconds(), "s")
	}
	if len(lat) > 0 {
		result("storm_p50", percentile(lat, 0.5), "ms")
		result("storm_p99", percentile(lat, 0.99), "ms")
		result("storm_max", slices.Max(lat), "ms")
	}
	result("storm_rss_base", float64(base)/1024, "MiB")
	result("storm_rss_growth", float64(st["VmRSS"]-base)/1024, "MiB")
	result("storm_peak_growth", float64(st["VmHWM"]-base)/1024, "MiB")
	result("storm_spawns_per_s", float64(spawns)/float64(secs), "/s")
	result("storm_exit", exit, "s")
	result("storm_all_gone", gone, "s")
	return nil
}

// waitSocket waits until the daemon's socket accepts a connection.
func waitSocket(d *daemon, deadline time.Time) error {
	for {
		if c, err := net.Dial("unix", d.sock); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-d.done:
			data, _ := os.ReadFile(d.dir + "/daemon.out")
			return fmt.Errorf("%s exited at start: %s", d.cmd.Path, data)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no socket at %s", d.cmd.Path, d.sock)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sessionAlive reports whether a live process of session sid remains.
func sessionAlive(sid int) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(data), ')')
		f := strings.Fields(string(data[i+1:]))
		if len(f) > 3 && f[3] == fmt.Sprint(sid) && f[0] != "Z" {
			return true
		}
	}
	return false
}
