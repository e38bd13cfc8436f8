package shim

import (
	"os"
	"runtime"
)

// The steps that exec a program (exec, listen, hold-stdin) exec it from
// the process's first thread.
//
// Why: Go's syscall.Exec runs on whichever thread the goroutine is on.
// From another thread, the kernel's exec (de_thread) ends every other
// thread, and the first one, whose pid the process has, stays a zombie
// until the exec'ing thread takes that pid over: meanwhile
// /proc/PID/stat reads "Z" for a process that is only exec'ing, which a
// watcher takes for a dead program (the startsecs step's alive counts
// the threads to tell them apart, for steps of older builds; a check by
// anything else would not). Here (2 cores) 95 of 200 execs showed it.
// runtime.LockOSThread in an init makes main, and so Main and its exec,
// run on the first thread, so the first thread is the one that execs.
// Only for those steps, decided from the command line: it keeps every
// other goroutine off the first thread, which the other commands (ctl's
// status reads its replies on several) need not pay for.
func init() {
	if execStep(os.Args) {
		runtime.LockOSThread()
	}
}

// execStep reports whether args is `supersede shim STEP ...` for a step
// that execs a program.
func execStep(args []string) bool {
	if len(args) < 3 || args[1] != "shim" {
		return false
	}
	switch args[2] {
	case "exec", "listen", "hold-stdin":
		return true
	}
	return false
}
