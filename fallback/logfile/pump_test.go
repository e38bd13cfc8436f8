package logfile

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startPump runs a Pump until the test ends.
func startPump(t testing.TB) *Pump {
	t.Helper()
	p, err := NewPump()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return p
}

// child is a process whose stdout goes through the pump.
type child struct {
	cmd    *exec.Cmd
	src    *Source
	closed chan struct{}
	errs   *errList
}

type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errList) check(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		t.Errorf("OnError: %v", err)
	}
}

// spawn starts argv with its stdout on a new pipe pumped as o says.
func spawn(t testing.TB, p *Pump, o Output, argv ...string) *child {
	t.Helper()
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{closed: make(chan struct{}), errs: &errList{}}
	onClose := o.OnClose
	o.OnClose = func() {
		if onClose != nil {
			onClose()
		}
		close(c.closed)
	}
	if o.OnError == nil {
		o.OnError = c.errs.add
	}
	if c.src, err = p.Add(r, o); err != nil {
		syscall.Close(w)
		t.Fatal(err)
	}
	wf := os.NewFile(uintptr(w), "child stdout")
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Stdout = wf
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		wf.Close()
		t.Fatal(err)
	}
	wf.Close()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

// reap waits for the child, tells the source, and waits for it to close,
// as fallback does when it reaps a child.
func (c *child) reap(t testing.TB) {
	t.Helper()
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("%v: %v", c.cmd.Args, err)
	}
	c.src.Finish()
	select {
	case <-c.closed:
	case <-time.After(time.Minute):
		t.Fatalf("%v: source not closed a minute after Finish", c.cmd.Args)
	}
	c.errs.check(t)
}

// randomFile writes n pseudo-random bytes to a new file.
func randomFile(t testing.TB, dir string, n int, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, fmt.Sprintf("data-%d", seed))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// joinBackups is what a rotated log holds, oldest first: NAME.k … NAME.1,
// NAME.
func joinBackups(t testing.TB, path string) []byte {
	t.Helper()
	var all []byte
	for i := 1000; i >= 1; i-- {
		b, err := os.ReadFile(path + "." + strconv.Itoa(i))
		if err == nil {
			all = append(all, b...)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return append(all, b...)
}

// TestPumpLosesNothing: children of different write patterns write
// megabytes through small rotating logs; every backup together holds
// exactly what each wrote, and every rolled-over file is between maxbytes
// and maxbytes plus one read, as with Supervisor.
func TestPumpLosesNothing(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	const maxBytes = 100 << 10
	type run struct {
		c    *child
		log  string
		data []byte
	}
	var runs []run
	for i, argv := range [][]string{
		{"cat", "%s"},
		{"dd", "if=%s", "bs=4096", "status=none"},
		{"dd", "if=%s", "bs=1000000", "status=none"},
		{"head", "-c", "3000000", "%s"},
		{"sh", "-c", "while IFS= read -r l; do printf '%%s\\n' \"$l\"; done < %s"},
	} {
		n := 3 << 20
		if argv[0] == "sh" {
			n = 50 << 10
		}
		data, want := randomFile(t, dir, n, uint64(i))
		if argv[0] == "head" {
			want = want[:3000000]
		}
		if argv[0] == "sh" {
			// Lines of text, written one printf at a time.
			var b bytes.Buffer
			for j := 0; b.Len() < n; j++ {
				fmt.Fprintf(&b, "line %d %s\n", j, strings.Repeat("x", j%97))
			}
			want = b.Bytes()
			os.WriteFile(data, want, 0o644)
		}
		for k := range argv {
			if strings.Contains(argv[k], "%s") {
				argv[k] = fmt.Sprintf(argv[k], data)
			}
		}
		log := filepath.Join(dir, fmt.Sprintf("child%d.log", i))
		f, err := Open(log, maxBytes, 100)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		runs = append(runs, run{spawn(t, p, Output{File: f, Name: argv[0]}, argv...), log, want})
	}
	for _, r := range runs {
		r.c.reap(t)
		if got := joinBackups(t, r.log); !bytes.Equal(got, r.data) {
			t.Errorf("%v: logs hold %d bytes, child wrote %d (equal prefix %d)", r.c.cmd.Args, len(got), len(r.data), commonPrefix(got, r.data))
		}
		for i := 1; ; i++ {
			fi, err := os.Stat(r.log + "." + strconv.Itoa(i))
			if err != nil {
				break
			}
			if fi.Size() < maxBytes || fi.Size() >= maxBytes+chunkSize {
				t.Errorf("%s.%d has %d bytes, want [%d, %d)", r.log, i, fi.Size(), maxBytes, maxBytes+chunkSize)
			}
		}
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// A grandchild that keeps the pipe open does not hold the source open
// after Finish, and what the child wrote is all logged.
func TestPumpFinishWithoutEOF(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	data, want := randomFile(t, dir, 300000, 42)
	pidFile := filepath.Join(dir, "grandchild.pid")
	log := filepath.Join(dir, "out.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := spawn(t, p, Output{File: f}, "sh", "-c", "sleep 60 & echo $! > "+pidFile+"; cat "+data)
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	c.reap(t)
	if got, _ := os.ReadFile(log); !bytes.Equal(got, want) {
		t.Errorf("log holds %d bytes, child wrote %d", len(got), len(want))
	}
}

// Without Finish, end of file closes the source.
func TestPumpEOF(t *testing.T) {
	p := startPump(t)
	log := filepath.Join(t.TempDir(), "out.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := spawn(t, p, Output{File: f}, "printf", "a\\nb")
	<-c.closed
	c.cmd.Wait()
	if got, _ := os.ReadFile(log); string(got) != "a\nb" {
		t.Errorf("log = %q", got)
	}
}

// A destination that is full (a pipe nobody reads) stops only the
// sources writing to it: their children block on their own pipes, other
// logs keep moving, and once the destination drains everything arrives.
func TestPumpBackPressure(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(r)
	full, err := Open(fmt.Sprintf("/dev/fd/%d", w), 0, 0)
	syscall.Close(w)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	data, want := randomFile(t, dir, 2<<20, 7)
	blocked := spawn(t, p, Output{File: full}, "cat", data)

	log := filepath.Join(dir, "other.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data2, want2 := randomFile(t, dir, 1<<20, 8)
	other := spawn(t, p, Output{File: f}, "cat", data2)
	other.reap(t) // completes while the first is stuck
	if got, _ := os.ReadFile(log); !bytes.Equal(got, want2) {
		t.Errorf("other log: %d bytes, want %d", len(got), len(want2))
	}
	select {
	case <-blocked.closed:
		t.Fatal("the blocked source closed before its destination was read")
	default:
	}

	got := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 64<<10)
		for len(all) < len(want) {
			n, err := syscall.Read(r, buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				time.Sleep(time.Millisecond)
				continue
			}
			if n <= 0 {
				break
			}
			all = append(all, buf[:n]...)
		}
		got <- all
	}()
	blocked.reap(t)
	if g := <-got; !bytes.Equal(g, want) {
		t.Errorf("full destination got %d bytes, want %d (equal prefix %d)", len(g), len(want), commonPrefix(g, want))
	}
}

// Stopping the pump logs what the pipes hold and closes every source,
// even with the children still running.
func TestPumpRunStop(t *testing.T) {
	p, err := NewPump()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	log := filepath.Join(t.TempDir(), "out.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := spawn(t, p, Output{File: f}, "sh", "-c", "echo before; exec sleep 60")
	for {
		if b, _ := os.ReadFile(log); string(b) == "before\n" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.closed:
	default:
		t.Error("Run returned with a source open")
	}
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(w)
	if _, err := p.Add(r, Output{}); err != ErrStopped { // closes r
		t.Errorf("Add after Run: %v, want ErrStopped", err)
	}
}

// An append-only file (chattr +a) cannot have O_APPEND turned off for
// splice: its output is copied instead, and nothing is lost.
func TestPumpAppendOnlyFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chattr +a needs root")
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "append-only.log")
	os.WriteFile(log, nil, 0o644)
	if out, err := exec.Command(chattr, "+a", log).CombinedOutput(); err != nil {
		t.Skipf("chattr +a: %v %s", err, out)
	}
	defer exec.Command(chattr, "-a", log).Run()
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := startPump(t)
	data, want := randomFile(t, dir, 500000, 9)
	c := spawn(t, p, Output{File: f}, "cat", data)
	c.reap(t)
	if got, _ := os.ReadFile(log); !bytes.Equal(got, want) {
		t.Errorf("log holds %d bytes, want %d", len(got), len(want))
	}
	if !f.s.noSplice {
		t.Error("splice was not given up")
	}
}

// Idle pipes cost no wake-ups.
func TestPumpIdle(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	for i := range 100 {
		f, err := Open(filepath.Join(dir, fmt.Sprintf("%d.log", i)), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, w, err := Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(w)
		if _, err := p.Add(r, Output{File: f}); err != nil {
			t.Fatal(err)
		}
	}
	before := p.turns.Load()
	time.Sleep(100 * time.Millisecond)
	if n := p.turns.Load() - before; n != 0 {
		t.Errorf("%d wake-ups with every pipe idle", n)
	}
}

// At shutdown a destination that stays full loses what waits for it,
// with an error, and Run still returns.
func TestPumpShutdownFullDestination(t *testing.T) {
	p, err := NewPump()
	if err != nil {
		t.Fatal(err)
	}
	p.grace = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(r)
	setPipeSize(w, 4096) // the smallest pipe: full at once
	full, err := Open(fmt.Sprintf("/dev/fd/%d", w), 0, 0)
	syscall.Close(w)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	var mu sync.Mutex
	var errs []error
	c := spawn(t, p, Output{File: full, OnError: func(e error) { mu.Lock(); errs = append(errs, e); mu.Unlock() }},
		"head", "-c", "3000000", "/dev/zero")
	for { // until the pump has filled the destination
		if n, _ := pending(r); n == 4096 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-c.closed
	c.cmd.Wait() // EPIPE once the pump closed its end
	mu.Lock()
	defer mu.Unlock()
	if len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error(), "dropped") {
		t.Errorf("errors %v, want the dropped output reported", errs)
	}
}

// OnRaw and OnData see every chunk; with nothing to transform both hold
// what the log holds.
func TestPumpCallbacks(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	data, want := randomFile(t, dir, 400000, 10)
	log := filepath.Join(dir, "out.log")
	f, err := Open(log, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var raw, logged bytes.Buffer
	c := spawn(t, p, Output{File: f, OnRaw: func(b []byte) { raw.Write(b) }, OnData: func(b []byte) { logged.Write(b) }},
		"cat", data)
	c.reap(t)
	got, _ := os.ReadFile(log)
	if !bytes.Equal(got, want) || !bytes.Equal(raw.Bytes(), want) || !bytes.Equal(logged.Bytes(), want) {
		t.Errorf("log %d, OnRaw %d, OnData %d bytes; want %d", len(got), raw.Len(), logged.Len(), len(want))
	}
}

// Two children's lines, prefixed, into one small pipe read slowly: the
// queueing behind the full pipe keeps every line whole and prefixed and
// each child's text complete.
func TestPumpPrefixedBackPressure(t *testing.T) {
	p := startPump(t)
	dir := t.TempDir()
	r, w, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(r)
	syscall.SetNonblock(r, true)
	setPipeSize(w, 4096)
	shared, err := Open(fmt.Sprintf("/dev/fd/%d", w), 0, 0)
	syscall.Close(w)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	var texts [2]string
	var kids [2]*child
	for i := range kids {
		var b strings.Builder
		for j := range 3000 {
			fmt.Fprintf(&b, "%d:%d h\u00e9llo %s\n", i, j, strings.Repeat("\u2603", j%13))
		}
		texts[i] = b.String()
		data := filepath.Join(dir, fmt.Sprint(i))
		os.WriteFile(data, []byte(texts[i]), 0o644)
		kids[i] = spawn(t, p, Output{File: shared, Prefix: fmt.Sprintf("P%d| ", i)}, "dd", "if="+data, "bs=777", "status=none")
	}
	got := make(chan string)
	stop := make(chan struct{})
	go func() { // a slow reader, until the sources are closed and the pipe is empty
		var all []byte
		buf := make([]byte, 1000)
		for {
			n, err := syscall.Read(r, buf)
			if n > 0 {
				all = append(all, buf[:n]...)
				continue
			}
			if err != syscall.EAGAIN && err != syscall.EINTR {
				break
			}
			select {
			case <-stop:
				got <- string(all)
				return
			default:
				time.Sleep(100 * time.Microsecond)
			}
		}
		got <- string(all)
	}()
	for _, k := range kids {
		k.reap(t)
	}
	close(stop)
	out := <-got
	var bodies [2]strings.Builder
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		var i int
		switch {
		case strings.HasPrefix(line, "P0| "):
			i = 0
		case strings.HasPrefix(line, "P1| "):
			i = 1
		default:
			t.Fatalf("line without a prefix: %q", line)
		}
		bodies[i].WriteString(line[4:])
	}
	for i := range texts {
		if g, w := bodies[i].String(), strings.ReplaceAll(texts[i], "\n", ""); g != w {
			t.Errorf("child %d: %d bytes of text, want %d (equal prefix %d)", i, len(g), len(w), commonPrefix([]byte(g), []byte(w)))
		}
	}
}
