package logfile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// fileOp is one step done to a log file: a write (one emit), "reopen"
// (SIGUSR2) or "clear" (clearProcessLogs).
type fileOp struct {
	Op   string `json:"op"`
	Data []byte `json:"data,omitempty"`
}

type rotationCase struct {
	Name     string            `json:"-"`
	MaxBytes int64             `json:"maxbytes"`
	Backups  int               `json:"backups"`
	Before   map[string][]byte `json:"before"` // files present before the handler opens
	Ops      []fileOp          `json:"ops"`
}

// pyRotation runs each case through Supervisor's own handlers, set up as
// POutputDispatcher sets them up (loggers.handle_file), and returns the
// files each leaves: name → contents.
const pyRotation = `
import sys, json, os, base64, tempfile
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor import loggers
cases = json.load(sys.stdin)
out = []
for c in cases:
    d = tempfile.mkdtemp()
    for name, data in (c['before'] or {}).items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(base64.b64decode(data))
    path = os.path.join(d, 'app.log')
    logger = loggers.getLogger()
    loggers.handle_file(logger, filename=path, fmt='%(message)s',
                        rotating=not not c['maxbytes'], maxbytes=c['maxbytes'],
                        backups=c['backups'])
    for op in c['ops']:
        if op['op'] == 'write':
            logger.info(base64.b64decode(op.get('data') or ''))
        elif op['op'] == 'reopen':
            for h in logger.handlers: h.reopen()
        elif op['op'] == 'clear':
            for h in logger.handlers:
                h.remove(); h.reopen()
    logger.close()
    files = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), 'rb') as f:
            files[name] = base64.b64encode(f.read()).decode()
        os.remove(os.path.join(d, name))
    os.rmdir(d)
    out.append(files)
json.dump(out, sys.stdout)
`

// runRotation does the same with File.
func runRotation(t *testing.T, c rotationCase) map[string][]byte {
	t.Helper()
	d := t.TempDir()
	for name, data := range c.Before {
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Open(filepath.Join(d, "app.log"), c.MaxBytes, c.Backups)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range c.Ops {
		switch op.Op {
		case "write":
			if _, err := f.Write(op.Data); err != nil {
				t.Fatal(err)
			}
		case "reopen":
			if err := f.Reopen(); err != nil {
				t.Fatal(err)
			}
		case "clear":
			if err := f.Clear(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return readDir(t, d)
}

func readDir(t *testing.T, d string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(d, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func writes(sizes ...int) []fileOp {
	var ops []fileOp
	for i, n := range sizes {
		ops = append(ops, fileOp{Op: "write", Data: bytes.Repeat([]byte{byte('a' + i%26)}, n)})
	}
	return ops
}

func rotationCases() []rotationCase {
	cases := []rotationCase{
		{Name: "maxbytes=0 never rolls", MaxBytes: 0, Backups: 3, Ops: writes(100, 5000, 70000)},
		{Name: "under maxbytes", MaxBytes: 1000, Backups: 3, Ops: writes(10, 20, 30)},
		{Name: "exactly maxbytes rolls", MaxBytes: 100, Backups: 2, Ops: writes(100, 1)},
		{Name: "one byte short stays", MaxBytes: 100, Backups: 2, Ops: writes(99, 1, 5)},
		{Name: "a chunk bigger than maxbytes", MaxBytes: 100, Backups: 5, Ops: writes(1000, 10, 300, 7)},
		{Name: "more rollovers than backups", MaxBytes: 50, Backups: 3, Ops: writes(60, 60, 60, 60, 60, 60, 10)},
		{Name: "backups=0 truncates", MaxBytes: 50, Backups: 0, Ops: writes(30, 30, 5, 70, 3)},
		{Name: "backups=1", MaxBytes: 50, Backups: 1, Ops: writes(30, 30, 5, 70, 3)},
		{Name: "appends to an existing file", MaxBytes: 100, Backups: 2,
			Before: map[string][]byte{"app.log": bytes.Repeat([]byte("x"), 90)}, Ops: writes(5, 5, 5)},
		{Name: "existing file already over maxbytes", MaxBytes: 100, Backups: 2,
			Before: map[string][]byte{"app.log": bytes.Repeat([]byte("x"), 500)}, Ops: writes(1, 2)},
		{Name: "existing backups beyond the count are kept", MaxBytes: 10, Backups: 2,
			Before: map[string][]byte{"app.log.1": []byte("one"), "app.log.2": []byte("two"),
				"app.log.3": []byte("three"), "app.log.7": []byte("seven")},
			Ops: writes(10, 10, 10)},
		{Name: "gap in existing backups", MaxBytes: 10, Backups: 4,
			Before: map[string][]byte{"app.log.2": []byte("two"), "app.log.3": []byte("three")},
			Ops:    writes(10, 10)},
		{Name: "reopen keeps size", MaxBytes: 100, Backups: 2,
			Ops: append(append(writes(60), fileOp{Op: "reopen"}), writes(50, 1)...)},
		{Name: "clear keeps backups", MaxBytes: 50, Backups: 2,
			Ops: append(append(writes(60, 20), fileOp{Op: "clear"}), writes(5)...)},
		{Name: "empty writes", MaxBytes: 10, Backups: 1, Ops: writes(0, 10, 0, 0, 3)},
	}
	rng := rand.New(rand.NewPCG(5, 11))
	for i := range 20 {
		c := rotationCase{Name: fmt.Sprintf("random %d", i), MaxBytes: int64(rng.IntN(300)), Backups: rng.IntN(5)}
		for range 30 {
			switch rng.IntN(12) {
			case 0:
				c.Ops = append(c.Ops, fileOp{Op: "reopen"})
			case 1:
				c.Ops = append(c.Ops, fileOp{Op: "clear"})
			default:
				b := make([]byte, rng.IntN(200))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				c.Ops = append(c.Ops, fileOp{Op: "write", Data: b})
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// TestRotationMatchesSupervisor writes the same sequences with File and
// with Supervisor's RotatingFileHandler and compares the files left:
// names, sizes and bytes.
func TestRotationMatchesSupervisor(t *testing.T) {
	testreal.RequireSupervisor(t)
	cases := rotationCases()
	var want []map[string]string
	testreal.RunPython(t, pyRotation, cases, &want)
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := runRotation(t, c)
			if d := diffFiles(want[i], got); d != "" {
				t.Errorf("files differ from Supervisor's:\n%s", d)
			}
		})
	}
}

func diffFiles(want map[string]string, got map[string][]byte) string {
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		w64, inWant := want[n]
		g, inGot := got[n]
		w, _ := base64.StdEncoding.DecodeString(w64)
		switch {
		case !inWant:
			fmt.Fprintf(&b, "  %s: not in Supervisor's (%d bytes here)\n", n, len(g))
		case !inGot:
			fmt.Fprintf(&b, "  %s: missing (%d bytes in Supervisor's)\n", n, len(w))
		case !bytes.Equal(w, g):
			fmt.Fprintf(&b, "  %s: %d bytes, Supervisor's %d, contents differ\n", n, len(g), len(w))
		}
	}
	return b.String()
}

func TestSharedPathSharesRotation(t *testing.T) {
	d := t.TempDir()
	path := filepath.Join(d, "both.log")
	a, err := Open(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(filepath.Join(d, ".", "both.log"), 5, 9) // settings of the first Open apply
	if err != nil {
		t.Fatal(err)
	}
	a.Write(bytes.Repeat([]byte("a"), 60))
	b.Write(bytes.Repeat([]byte("b"), 60)) // 120 ≥ 100: one rollover, not one per writer
	a.Write([]byte("c"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("d")) // still open through b
	b.Close()
	got := readDir(t, d)
	want := map[string]string{
		"both.log.1": strings.Repeat("a", 60) + strings.Repeat("b", 60),
		"both.log":   "cd",
	}
	if len(got) != len(want) {
		t.Fatalf("files: %v", keys(got))
	}
	for n, w := range want {
		if string(got[n]) != w {
			t.Errorf("%s = %q, want %q", n, got[n], w)
		}
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestOpenErrors(t *testing.T) {
	d := t.TempDir()
	_, err := Open(filepath.Join(d, "missing", "x.log"), 0, 0)
	var pe *os.PathError
	if !errors.As(err, &pe) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Open in a missing directory: %v, want a *PathError with ENOENT", err)
	}
	if _, err := Open("", 0, 0); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

// A failed rename (the backup's name is taken by a directory) is
// reported, and the log keeps going into a fresh file.
func TestRolloverFailureReopens(t *testing.T) {
	d := t.TempDir()
	path := filepath.Join(d, "app.log")
	if err := os.MkdirAll(path+".1/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("0123456789")); err == nil {
		t.Error("rollover onto a non-empty directory succeeded")
	}
	if _, err := f.Write([]byte("after")); err != nil {
		t.Fatalf("write after a failed rollover: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "after" {
		t.Errorf("log after a failed rollover = %q, want %q", b, "after")
	}
}

// Special files are written, never rotated: /dev/fd/N of a pipe (as
// /dev/stdout in a container), a FIFO, and a socket, which open() cannot
// open (ENXIO) and is duplicated instead. Supervisor crashes the channel
// on these with maxbytes > 0 (Supervisor#1078).
func TestSpecialFilesNotRotated(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		r, w, err := Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(r)
		defer syscall.Close(w)
		checkSpecial(t, fmt.Sprintf("/dev/fd/%d", w), r)
	})
	t.Run("fifo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(r)
		checkSpecial(t, path, r)
	})
	t.Run("socket", func(t *testing.T) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fds[0])
		defer syscall.Close(fds[1])
		checkSpecial(t, fmt.Sprintf("/proc/self/fd/%d", fds[1]), fds[0])
	})
}

func checkSpecial(t *testing.T, path string, r int) {
	t.Helper()
	f, err := Open(path, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Rotates() {
		t.Errorf("%s rotates", path)
	}
	for _, s := range []string{"0123456789", "abcdefghij", "end"} {
		if _, err := f.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Reopen(); err != nil {
		t.Errorf("Reopen: %v", err)
	}
	if err := f.Clear(); err != nil {
		t.Errorf("Clear: %v", err)
	}
	f.Write([]byte("!"))
	buf := make([]byte, 100)
	n, _ := syscall.Read(r, buf)
	if got := string(buf[:max(n, 0)]); got != "0123456789abcdefghijend!" {
		t.Errorf("read back %q", got)
	}
	if _, err := os.Stat(path + ".1"); err == nil {
		t.Errorf("%s.1 exists", path)
	}
}

func TestStdFD(t *testing.T) {
	for path, want := range map[string]int{
		"/dev/stdout": 1, "/dev/stderr": 2, "/dev/stdin": 0, "/dev/fd/7": 7, "/proc/self/fd/12": 12,
		"/dev/fd/": -1, "/dev/fd/+1": -1, "/dev/fd/1x": -1, "/dev/null": -1, "/var/log/x": -1,
		"/proc/self/fd/1/x": -1,
	} {
		if got := stdFD(path); got != want {
			t.Errorf("stdFD(%q) = %d, want %d", path, got, want)
		}
	}
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
