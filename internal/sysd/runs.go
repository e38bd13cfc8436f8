package sysd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"
)

// The runs of running units, kept from one read to the next.
//
// Why: the status of a running unit needs its main process's pid and
// start time, which the manager gives one unit per Properties.Get, and
// the Gets of 1000 running units are about 14 ms of the manager's CPU:
// the critical path of `ctl status` (docs/PERFORMANCE.md). But a run
// does not change while it lasts, and systemd gives each start of a
// unit a new invocation ID, which it publishes as a symlink that one
// readlink(2) reads: <runtime>/systemd/units/invocation:UNIT, which
// journald reads too, written as the unit starts and removed when it
// stops or waits to restart. So the pid and start time a Get told of a
// run are kept in a file under the units' runtime state directory (see
// runsFile), under the unit's name and the run's invocation ID, and a
// later read takes them from there for a unit that ListUnitsByNames
// says is active (running) with no job, whose symlink still names that
// run, and whose pid is alive. Everything else, and any doubt (no
// symlink, another ID, a dead pid, a file or directory someone else
// could have written), is asked of the manager as before.
//
// A run that no ctl command has seen (systemd started the unit at
// boot, by Restart=, or systemctl) comes from the record the unit's own
// exec step wrote as it began (record.go), with the same checks, and
// then joins the cache. Where a unit has a valid record, its run is the
// record's in every read, ahead of the cache's entry from a Get and of a
// Get's answer, so that one process shows one start time.
//
// The start time is then the exec step's own clock at the exec, not
// systemd's ExecMainStartTimestamp, which the manager takes after fork
// returns, a few ms earlier. That is as close to Supervisor as systemd's
// own: supervisord's laststart is its clock just before its fork, and
// supervisorctl shows the uptime in whole seconds from it. What ruled
// the process itself out before was /proc/PID/stat's start time, which
// counts clock ticks (10 ms) since boot, and would move every start by
// a wall-clock step since (NTP at boot); the record holds the wall clock
// read once, at the exec, and the tick count only to tell the process
// from a later one with its pid.
//
// The symlinks are not a documented interface of systemd (journald's
// way to look up a unit's invocation), so nothing depends on them but
// speed: without them every running unit is asked for, as before.

// run is one run of a unit as the manager or the unit's record told it.
type run struct {
	id    string // the invocation ID, 32 hex digits
	pid   uint32 // the main process
	start uint64 // the start time, µs since the epoch: ExecStart's, or the record's exec
	ticks uint64 // from a record: the main process's start tick (/proc/PID/stat); 0: from a Get
	fresh bool   // read from the record now, not from the cache: checked again after the manager's answer (readStates)
	stale bool   // read from the record, and the unit ran another run by the manager's answer: asked
}

// runCache is the file of runs of one configuration's units (one
// anchor target), and what a read changed in it.
type runCache struct {
	file  string // the cache file
	dir   string // the units' state directories' parent, %t/supersede (the records, record.go)
	links string // the directory of the invocation symlinks
	known map[string]run
	dirty bool
}

// runsHeader starts the cache file; a file without it is not read (the
// first status after an upgrade from a build that wrote "supersede runs
// 1" reads the records, or asks).
const runsHeader = "supersede runs 2\n"

// openRuns returns the cache of the units of anchor on the manager of
// scope, or nil when there is no place for it: a user manager without
// XDG_RUNTIME_DIR. The file is read on first use.
func openRuns(scope Scope, getenv func(string) string, anchor string) *runCache {
	rt, links := runtimeDir(scope, getenv), "/run/systemd/units"
	if rt == "" {
		return nil
	}
	if scope == User {
		links = filepath.Join(getenv("XDG_RUNTIME_DIR"), "systemd", "units")
	}
	return &runCache{file: runsFile(rt, anchor), dir: rt, links: links}
}

// runsFile is the cache file of the units of anchor: in the directory
// of the units' compatibility step (supersede/UNIT, unitgen's
// RuntimeDirectory=), under a name no unit's directory can take
// (unitgen escapes a leading '.').
func runsFile(rt, anchor string) string {
	return filepath.Join(rt, ".runs."+anchor)
}

// trusted reports whether fi, a file or directory the cache depends on,
// can only have been written by this user or root.
func trusted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && trustedStat(st.Uid, st.Mode)
}

// trustedStat is trusted's rule on a stat's owner and mode: this user or
// root, and not writable by group or others.
func trustedStat(uid, mode uint32) bool {
	return (uid == 0 || int(uid) == os.Geteuid()) && mode&0o022 == 0
}

// load reads the file once; a missing, untrusted or malformed file is
// an empty cache.
func (rc *runCache) load() {
	if rc.known != nil {
		return
	}
	rc.known = map[string]run{}
	dir, err := os.Stat(filepath.Dir(rc.file))
	if err != nil || !trusted(dir) {
		return
	}
	f, err := os.OpenFile(rc.file, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !trusted(fi) || fi.Size() > 64<<20 {
		return
	}
	b := make([]byte, fi.Size())
	if n, err := f.ReadAt(b, 0); n != len(b) || err != nil && n != len(b) {
		return
	}
	known, err := parseRuns(b)
	if err != nil {
		return
	}
	rc.known = known
}

// parseRuns reads the file's lines: UNIT ID PID START TICKS (TICKS 0:
// the run came from a Get).
func parseRuns(b []byte) (map[string]run, error) {
	rest, ok := bytes.CutPrefix(b, []byte(runsHeader))
	if !ok {
		return nil, errors.New("no header")
	}
	known := make(map[string]run, bytes.Count(rest, []byte{'\n'}))
	for len(rest) > 0 {
		line, more, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok {
			return nil, errors.New("no newline at the end")
		}
		rest = more
		f := strings.Fields(string(line))
		if len(f) != 5 || !isInvocationID(f[1]) {
			return nil, fmt.Errorf("bad line %q", line)
		}
		pid, err1 := strconv.ParseUint(f[2], 10, 32)
		start, err2 := strconv.ParseUint(f[3], 10, 64)
		ticks, err3 := strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || pid == 0 || start == 0 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		known[f[0]] = run{id: f[1], pid: uint32(pid), start: start, ticks: ticks}
	}
	return known, nil
}

// isInvocationID reports whether s is an ID as the symlinks name it.
func isInvocationID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// invocations reads the invocation ID of each unit from its symlink:
// "" where there is none (the unit is not running) or the directory is
// not the manager's. Read in parallel: about 1.5 µs each here.
func (rc *runCache) invocations(units []string) []string {
	ids := make([]string, len(units))
	fd, err := unix.Open(rc.links, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ids
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !trustedStat(st.Uid, st.Mode) {
		return ids
	}
	read := func(from, to int) {
		var buf [64]byte
		for i := from; i < to; i++ {
			n, err := unix.Readlinkat(fd, "invocation:"+units[i], buf[:])
			if err == nil && n == 32 && isInvocationID(string(buf[:n])) {
				ids[i] = string(buf[:n])
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 4, len(units)/64+1)
	if workers <= 1 {
		read(0, len(units))
		return ids
	}
	var wg sync.WaitGroup
	step := (len(units) + workers - 1) / workers
	for from := 0; from < len(units); from += step {
		wg.Go(func() { read(from, min(from+step, len(units))) })
	}
	wg.Wait()
	return ids
}

// lookup returns, for each unit, the run to take instead of a Get's
// (id "" for none): the run its record gives (record.go), or with use,
// the cache's entry for the run its symlink names, whose pid is alive.
// A record is read once per run: an entry that came from one is the
// record (written once per run, at its exec), so it is taken without
// reading it again. An entry that came from a Get is taken where the
// unit has no valid record (a unit whose step wrote none: another
// build's, a unit without the step); its record is looked for only
// while the run is young (recordWindow), since a Get can come before
// the record only between the fork and the exec step's write.
func (rc *runCache) lookup(units, ids []string, use bool) []run {
	rc.load()
	out := make([]run, len(units))
	settled := uint64(time.Now().Add(-recordWindow).UnixMicro())
	var look []int // read the record
	for i, u := range units {
		if ids[i] == "" {
			continue
		}
		r, ok := rc.known[u]
		switch {
		case ok && r.id == ids[i] && r.ticks != 0:
			if pidAlive(r.pid) {
				out[i] = r
				continue
			}
		case ok && r.id == ids[i] && r.start < settled:
			// a run learnt from a Get, too old for a record to come
			if use && pidAlive(r.pid) {
				out[i] = r
			}
			continue
		}
		look = append(look, i)
	}
	found := rc.records(units, ids, look)
	for k, i := range look {
		switch r, ok := rc.known[units[i]]; {
		case found[k].id != "":
			out[i] = found[k]
		case use && ok && r.id == ids[i] && r.ticks == 0 && pidAlive(r.pid):
			out[i] = r
		}
	}
	return out
}

// recordWindow is how long after a run's start its record is looked
// for where a Get told of the run first. The exec step records the run
// as it execs, milliseconds after the fork; a step held up longer (a
// machine so loaded that supersede takes a minute to start) leaves the
// Get's start for that run, systemd's, a few ms before the record's.
const recordWindow = time.Minute

// pidAlive reports whether process pid exists (EPERM: another user's).
func pidAlive(pid uint32) bool {
	err := unix.Kill(int(pid), 0)
	return err == nil || err == unix.EPERM
}

// note records what a read learnt of units: the run of each one that
// runs (st from the manager, ids read before it was asked, taken what
// lookup gave), and drops the others.
func (rc *runCache) note(units, ids []string, sts []unitState, taken []run) {
	rc.load()
	for i, u := range units {
		st := &sts[i]
		old, had := rc.known[u]
		if ids[i] == "" || !runs(st) {
			if had {
				delete(rc.known, u)
				rc.dirty = true
			}
			continue
		}
		r := run{id: ids[i], pid: st.MainPID, start: st.Start}
		if t := taken[i]; t.id == ids[i] && t.ticks != 0 && !t.stale && t.pid == st.MainPID && t.start == st.Start {
			r.ticks = t.ticks // the record's
		}
		if !had || old != r {
			rc.known[u] = r
			rc.dirty = true
		}
	}
}

// runs reports whether st is a unit whose run the cache may give:
// active and running with no job, with a live main process and a start.
func runs(st *unitState) bool {
	return st.Load == "loaded" && st.Active == "active" && st.Sub == "running" && st.Job == "" &&
		st.MainPID != 0 && st.Start != 0 && st.Exit == 0 && st.Code == 0
}

// save writes the file if a read changed it, atomically; the directory
// is made if missing (systemd makes it for the first unit that has a
// compatibility step). A cache that cannot be written is no error: the
// next read asks the manager.
func (rc *runCache) save() {
	if !rc.dirty {
		return
	}
	rc.dirty = false
	dir := filepath.Dir(rc.file)
	if err := os.Mkdir(dir, 0o755); err == nil {
		os.Chmod(dir, 0o755) // past a umask that lets the group write
	}
	if fi, err := os.Stat(dir); err != nil || !trusted(fi) {
		return
	}
	names := make([]string, 0, len(rc.known))
	for u := range rc.known {
		names = append(names, u)
	}
	slices.Sort(names)
	b := make([]byte, 0, len(runsHeader)+len(names)*96)
	b = append(b, runsHeader...)
	for _, u := range names {
		r := rc.known[u]
		b = append(b, u...)
		b = append(b, ' ')
		b = append(b, r.id...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(r.pid), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, r.start, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, r.ticks, 10)
		b = append(b, '\n')
	}
	// not renameio.WriteFile, which would keep the mode of a file it
	// replaces (one load refused as writable by others)
	f, err := renameio.NewPendingFile(rc.file, renameio.WithPermissions(0o644), renameio.IgnoreUmask())
	if err != nil {
		return
	}
	defer f.Cleanup()
	if _, err := f.Write(b); err == nil {
		f.CloseAtomicallyReplace()
	}
}
