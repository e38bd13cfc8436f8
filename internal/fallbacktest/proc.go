package fallbacktest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc is one process as /proc/PID/stat shows it.
type Proc struct {
	PID       int
	PPID      int
	PGID      int
	SID       int
	State     byte   // R, S, D, Z, T, ...
	StartTime uint64 // clock ticks after boot; tells a reused PID apart
	Comm      string
}

// Alive reports whether the process still runs (it exists and is not a
// zombie waiting to be reaped).
func (p Proc) Alive() bool { return p.State != 'Z' && p.State != 'X' && p.State != 0 }

// String names the process for a report: "1234 (sleep)".
func (p Proc) String() string { return fmt.Sprintf("%d (%s)", p.PID, p.Comm) }

// ReadProc reads /proc/PID/stat. The error wraps fs.ErrNotExist when the
// process is gone.
func ReadProc(pid int) (Proc, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Proc{}, err
	}
	return parseStat(data)
}

// parseStat parses one /proc/PID/stat line (proc(5)). comm is in
// parentheses and may itself hold spaces and parentheses, so the fields
// after it are found from the last ')'.
func parseStat(data []byte) (Proc, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Proc{}, fmt.Errorf("malformed /proc stat line %q", data)
	}
	var p Proc
	var err error
	if p.PID, err = strconv.Atoi(strings.TrimSpace(string(data[:open]))); err != nil {
		return Proc{}, fmt.Errorf("malformed /proc stat line %q: %w", data, err)
	}
	p.Comm = string(data[open+1 : closing])
	f := strings.Fields(string(data[closing+1:]))
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return Proc{}, fmt.Errorf("malformed /proc stat line %q", data)
	}
	p.State = f[0][0]
	nums := []*int{&p.PPID, &p.PGID, &p.SID}
	for i, dst := range nums {
		if *dst, err = strconv.Atoi(f[1+i]); err != nil {
			return Proc{}, fmt.Errorf("malformed /proc stat line %q: %w", data, err)
		}
	}
	if p.StartTime, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return Proc{}, fmt.Errorf("malformed /proc stat line %q: %w", data, err)
	}
	return p, nil
}

// Procs lists every process on the machine. Processes that exit while
// /proc is read are left out.
func Procs() ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		p, err := ReadProc(pid)
		if err != nil {
			continue // gone meanwhile, or not readable
		}
		out = append(out, p)
	}
	return out, nil
}

// Tree returns root and every live process descending from it by parent
// links, from one reading of /proc.
func Tree(procs []Proc, root int) []Proc {
	children := map[int][]Proc{}
	var out []Proc
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p)
		if p.PID == root {
			out = append(out, p)
		}
	}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i].PID]...)
	}
	return out
}

// Alive reports whether the process pid started at startTime still runs.
func Alive(pid int, startTime uint64) bool {
	p, err := ReadProc(pid)
	return err == nil && p.StartTime == startTime && p.Alive()
}
