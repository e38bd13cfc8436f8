// Stamp is the program bench/fallback/fbbench kills and times the
// restart of: the first thing it does is read the clock, then it appends
// "PID UNIX_NANOS" to the file named by its argument and waits to be
// killed. It is a program of its own, as small as Go allows, so that
// what the restart measurement holds beyond the daemon's own work (the
// victim's exit, the new process's start) is as small as it can be:
// fbbench itself is a 9 MB program whose exit alone takes about half a
// millisecond here, tearing down its mappings.
package main

import (
	"os"
	"strconv"
	"time"
)

func main() {
	now := time.Now().UnixNano()
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: stamp FILE\n")
		os.Exit(2)
	}
	f, err := os.OpenFile(os.Args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	// One write, so that a reader never sees half a line.
	if _, err := f.WriteString(strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(now, 10) + "\n"); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	f.Close()
	// Until a signal ends it (SIGTERM's default action, as for any
	// program that does not catch it).
	time.Sleep(1<<63 - 1)
}
