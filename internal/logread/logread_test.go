package logread

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
)

// pyRead answers each case as Supervisor's rpcinterface does
// (readProcessStdoutLog and tailProcessStdoutLog around readFile and
// tailFile): the data, or the fault's name and detail, or "500" for the
// exception that becomes an HTTP error (undecodable bytes).
const pyRead = `
import sys, json, os
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor.options import readFile, tailFile
from supervisor.compat import as_string
out = []
for c in json.load(sys.stdin):
    path, off, ln = c['path'], c['offset'], c['length']
    r = {}
    if path is None or not os.path.exists(path):
        r['fault'] = 'NO_FILE'; r['detail'] = path
    else:
        try:
            r['data'] = readFile(path, off, ln).hex()
        except ValueError as e:
            r['fault'] = e.args[0]
    t = {}
    if path is None or not os.path.exists(path):
        t['tail'] = ['', 0, False]
    else:
        try:
            d, n, o = tailFile(path, off, ln)
            t['tail'] = [d.encode('utf-8').hex(), n, o]
        except UnicodeDecodeError:
            t['fault'] = '500'
    out.append({'read': r, 'tail': t})
json.dump(out, sys.stdout)
`

type readCase struct {
	Path   *string `json:"path"`
	Offset int64   `json:"offset"`
	Length int64   `json:"length"`
}

type pyReadResult struct {
	Read struct {
		Data   *string `json:"data"`
		Fault  string  `json:"fault"`
		Detail *string `json:"detail"`
	} `json:"read"`
	Tail struct {
		Tail  []any  `json:"tail"`
		Fault string `json:"fault"`
	} `json:"tail"`
}

func TestReadTailMatchSupervisor(t *testing.T) {
	testreal.RequireSupervisor(t)
	d := t.TempDir()
	contents := map[string]string{
		"empty":   "",
		"short":   "hello world\n",
		"long":    "0123456789abcdefghijklmnopqrstuvwxyz\n" + "The quick brown fox jumps over the lazy dog.\n",
		"utf8":    "h\u00e9llo w\u00f6rld \u2603 \U0001F600 end\n",
		"invalid": "ok \xff\xfe bad\n",
	}
	var paths []*string
	for name, c := range contents {
		p := filepath.Join(d, name+".log")
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, &p)
	}
	missing, dir := filepath.Join(d, "missing.log"), filepath.Join(d, "adir")
	os.Mkdir(dir, 0o755)
	paths = append(paths, &missing, &dir, nil)
	var cases []readCase
	for _, p := range paths {
		for _, off := range []int64{-1000, -12, -5, -1, 0, 1, 2, 5, 11, 12, 13, 40, 100} {
			for _, ln := range []int64{-1, 0, 1, 2, 5, 12, 100} {
				cases = append(cases, readCase{p, off, ln})
			}
		}
	}
	var want []pyReadResult
	testreal.RunPython(t, pyRead, cases, &want)
	for i, c := range cases {
		path := ""
		if c.Path != nil {
			path = *c.Path
		}
		name := fmt.Sprintf("%s@%d+%d", filepath.Base(path), c.Offset, c.Length)
		w := want[i]

		if path == "" || !exists(path) {
			// The caller's NO_FILE; nothing for Read and Tail to do.
			if w.Read.Fault != "NO_FILE" {
				t.Errorf("%s: Supervisor says %+v for a missing log", name, w.Read)
			}
			continue
		}
		got, err := Read(path, c.Offset, c.Length)
		switch {
		case w.Read.Data != nil:
			if err != nil || hex.EncodeToString(got) != *w.Read.Data {
				t.Errorf("Read %s = %q, %v; Supervisor %s (hex)", name, got, err, *w.Read.Data)
			}
		default:
			wantKind := map[string]error{"FAILED": status.ErrFailed, "BAD_ARGUMENTS": status.ErrBadArguments}[w.Read.Fault]
			if !errors.Is(err, wantKind) || wantKind == nil {
				t.Errorf("Read %s = %v; Supervisor %s", name, err, w.Read.Fault)
			}
		}

		data, next, overflow := Tail(path, c.Offset, c.Length)
		if w.Tail.Fault == "500" {
			// Supervisor cannot decode these bytes and fails; they are
			// the caller's to handle.
			if utf8.Valid(data) {
				t.Errorf("Tail %s = %q: Supervisor found bytes that are not UTF-8", name, data)
			}
			continue
		}
		wt := w.Tail.Tail
		if hex.EncodeToString(data) != wt[0].(string) || float64(next) != wt[1].(float64) || overflow != wt[2].(bool) {
			t.Errorf("Tail %s = [%q %d %v]; Supervisor %v", name, data, next, overflow, wt)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A FIFO is opened without waiting for a writer, and is not read
// (Supervisor's seek fails: FAILED).
func TestReadFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path, -100, 0); !errors.Is(err, status.ErrFailed) {
		t.Errorf("Read of a FIFO: %v, want FAILED", err)
	}
	if data, next, overflow := Tail(path, 0, 100); len(data) != 0 || next != 0 || overflow {
		t.Errorf("Tail of a FIFO = %q %d %v", data, next, overflow)
	}
}
