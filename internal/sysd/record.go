package sysd

import (
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/internal/shim"
)

// The records of runs that the units' exec steps write, for the status
// of a run that no ctl command has seen.
//
// Why: the cache of runs (runs.go) knows only the runs that ctl's own
// reads asked for. After systemd itself started the units (at boot, by
// Restart=, or systemctl), the first status asked the manager once for
// every running unit: 1000 Properties.Get, 14 ms of the manager's CPU
// (docs/PERFORMANCE.md). But every start of a unit with the
// compatibility step runs its exec step (internal/shim), whoever started
// the unit, and that step is the unit's main process: just before it
// execs the program it records the run beside the unit's state
// directory (shim.RunPrefix: a symlink %t/supersede/.run.NAME whose
// target is the run's invocation ID from the manager's symlink, its own
// pid and start tick, and the time of the exec). It asks the manager
// for nothing, so a thousand units started at once record their runs
// as well as one.
//
// A record gives a unit's run only where it is the run the unit runs,
// checked as the cache's entries are and more: the unit's invocation
// symlink names the record's ID when ctl has sent its request and still
// once the manager answered (confirm), the manager's ListUnitsByNames
// says it is active (running) with no job, and the record's pid is
// alive; and only where no one but this user or root could have written
// it: it is a symlink (which no one can change in place) in
// %t/supersede, a directory this user or root owns that no one else may
// write, checked once per read. Anything else is asked of the manager,
// as before.

// records reads the records of the runs of units[look[k]], whose
// invocation IDs are ids (read from the symlinks), and returns, for
// each k, the run its record gives (zero where there is none that
// passes the checks so far; confirm makes the last), marked fresh.
// Read in parallel, as the symlinks are.
func (rc *runCache) records(units, ids []string, look []int) []run {
	found := make([]run, len(look))
	if len(look) == 0 {
		return found
	}
	fd, err := unix.Open(rc.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return found
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !trustedStat(st.Uid, st.Mode) {
		return found
	}
	read := func(from, to int) {
		var buf [128]byte
		for k := from; k < to; k++ {
			i := look[k]
			if r, ok := readRecord(fd, units[i], buf[:]); ok && r.id == ids[i] && pidAlive(r.pid) {
				r.fresh = true
				found[k] = r
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 4, len(look)/64+1)
	if workers <= 1 {
		read(0, len(look))
		return found
	}
	var wg sync.WaitGroup
	step := (len(look) + workers - 1) / workers
	for from := 0; from < len(look); from += step {
		wg.Go(func() { read(from, min(from+step, len(look))) })
	}
	wg.Wait()
	return found
}

// readRecord reads the record of unit's run (shim.RunPrefix) in dirFD,
// the trusted %t/supersede, with buf as room: ok false for a missing or
// malformed one, or one that is not a symlink (readlinkat(2) reads no
// other file).
func readRecord(dirFD int, unit string, buf []byte) (run, bool) {
	name, ok := strings.CutSuffix(unit, ".service")
	if !ok || name == "" || strings.ContainsRune(name, '/') || name[0] == '.' {
		return run{}, false
	}
	n, err := unix.Readlinkat(dirFD, shim.RunPrefix+name, buf)
	if err != nil || n <= 0 || n == len(buf) {
		return run{}, false
	}
	r, ok := shim.ParseRun(buf[:n])
	if !ok {
		return run{}, false
	}
	return run{id: r.ID, pid: r.PID, start: r.Start, ticks: r.Ticks}, true
}

// confirm marks stale each run in taken that was read from its record
// now (fresh) and whose unit's symlink no longer names it, read again
// once the manager answered: readStates asks for those. A record's run
// is the unit's only if the unit ran it when the manager listed it: its
// symlink, read as the request left and again after the answer, names
// it both times, so that run lasted through the listing (an ID never
// comes back), and its main process, the record's pid, was alive then
// (the manager lists a unit active and running until it has reaped that
// process, so no other process can have had its pid). This is what
// checks the record's pid (a pid reused since belongs to another run, or
// none), with the liveness check as the record is read: reading each
// process's start tick from /proc/PID/stat instead, 7 µs a process on
// the machine of docs/PERFORMANCE.md, cost a status of 1000 units more
// than the manager's Gets it saved. (The symlinks are read while the
// manager lists the units, not before the request leaves, which would
// put 1000 readlinks before its work: a manager that answered before the
// first read, for a unit that began another run in between, makes the
// unit show that run's pid and start with the listing's state, as a Get
// sent after the listing shows it.)
func (rc *runCache) confirm(units []string, taken []run) {
	var again []int
	for i, r := range taken {
		if r.fresh {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return
	}
	names := make([]string, len(again))
	for k, i := range again {
		names[k] = units[i]
	}
	for k, id := range rc.invocations(names) {
		if i := again[k]; id != taken[i].id {
			taken[i].fresh, taken[i].stale = false, true
		}
	}
}
