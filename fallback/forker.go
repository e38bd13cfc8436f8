package fallback

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawner forks children.
//
// A child is forked right where it is asked for (the loop goroutine),
// without a hop to another thread: that is the restart path. Two things
// send a fork to threads of their own, forkers:
//
//   - A umask. Go's SysProcAttr has no umask, and the umask is the
//     process's, so a child with a umask of its own is forked from a
//     thread whose file-system attributes are its own (unshare(CLONE_FS)),
//     set for the fork.
//   - A batch: the start, or a group added. A fork waits for the
//     child's exec (vfork), so a batch forks from a few threads in
//     parallel. These threads also have a descriptor table of their own
//     (unshare(CLONE_FILES)), as small as the daemon's was when the
//     batch began, and make each child's pipes there: a fork copies the
//     forking thread's descriptor table and the child's exec closes the
//     copy again, so forking from the daemon's own table, which holds
//     five descriptors for every child already running (three pipes,
//     two logs), would make every fork of a big batch slower than the
//     last. Our ends of the pipes come back to the daemon's table over a
//     socket (SCM_RIGHTS).
//
// A forker lives only as long as its batch: its goroutine locks its
// thread and never unlocks it, so the runtime ends the thread with the
// goroutine (nothing else ever runs with its umask or descriptor table),
// and an idle daemon keeps no thread for forking. The runtime makes new
// threads from a locked thread's through its template thread, so no
// thread is ever cloned from a forker's.
type spawner struct {
	self string // this executable, for the stand-in child
}

// spawnThreads is how many threads fork a batch in parallel.
const spawnThreads = 4

// forkWindow is how many children of a batch may wait, prepared, for
// their fork.
const forkWindow = 2 * spawnThreads

// forkers are the threads forking one batch: jobs in, results out.
type forkers struct {
	jobs    chan *prepared
	results chan *prepared
	socks   []int // the daemon's ends of the forkers' sockets
}

// startForkers starts n forking threads. With ownFiles they make the
// children's pipes in descriptor tables of their own and send our ends
// back; without, the pipes are made before (prepare) in the daemon's.
// stop ends them.
func (sp *spawner) startForkers(n int, ownFiles bool) *forkers {
	f := &forkers{jobs: make(chan *prepared), results: make(chan *prepared, forkWindow)}
	for range n {
		ready := make(chan [2]int)
		go sp.forker(f, ownFiles, ready, nil)
		if sock := <-ready; sock[0] >= 0 {
			// The forker's table has its own copy of its end by now.
			syscall.Close(sock[0])
			f.socks = append(f.socks, sock[1])
		}
	}
	return f
}

// stop ends the forkers, once every result is in.
func (f *forkers) stop() {
	close(f.jobs)
	for _, fd := range f.socks {
		syscall.Close(fd)
	}
}

// forker forks the jobs it gets until jobs is closed; its thread ends
// with it. held, if not nil, is closed once the forker has a thread of
// its own.
func (sp *spawner) forker(f *forkers, ownFiles bool, ready chan<- [2]int, held chan<- struct{}) {
	// Never unlocked: when this goroutine returns, the runtime ends the
	// thread rather than reuse its umask and descriptor table.
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The main thread, which the runtime never ends (it would park
		// it for good, with its own table) and whose table is the one
		// /proc/PID/fd shows: it must keep the process's. A forker
		// started while this goroutine holds it runs on another thread;
		// then this one lets it go, untouched.
		moved := make(chan struct{})
		go sp.forker(f, ownFiles, ready, moved)
		<-moved
		runtime.UnlockOSThread()
		return
	}
	if held != nil {
		close(held)
	}
	sock := [2]int{-1, -1} // ours, the daemon's
	if ownFiles {
		// The socket our ends of the pipes go back by: made before the
		// tables part, so that both hold both ends; each table then
		// closes the other's.
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
		if err == nil && unshareFiles() == nil {
			sock = fds
			syscall.Close(sock[1]) // in our table
		} else if err == nil {
			// Without a table of our own, the pipes made here are the
			// daemon's: nothing to send.
			syscall.Close(fds[0])
			syscall.Close(fds[1])
		}
	}
	// If unshare fails (a seccomp filter?), the umask is the process's
	// for the moment of the fork: as close as Go allows.
	_ = unix.Unshare(unix.CLONE_FS)
	base := syscall.Umask(0o022)
	syscall.Umask(base)
	ready <- sock
	for pr := range f.jobs {
		sp.forkJob(pr, sock, base)
		f.results <- pr
	}
}

// unshareFiles gives the calling thread a descriptor table of its own,
// a copy of the process's. A seccomp filter may forbid it (Docker's
// default one does without CAP_SYS_ADMIN): then forkers fork from the
// process's table. Tests replace it.
var unshareFiles = func() error { return unix.Unshare(unix.CLONE_FILES) }

// forkJob forks one child on a forker's thread.
func (sp *spawner) forkJob(pr *prepared, sock [2]int, base int) {
	if !pr.piped {
		if pr.perr = pr.makePipes(); pr.perr != nil {
			return
		}
	}
	c := pr.c
	if c.umask >= 0 {
		syscall.Umask(c.umask)
	}
	pr.pid, pr.ferr = sp.fork(c)
	if c.umask >= 0 {
		syscall.Umask(base)
	}
	pr.closeChild()
	if pr.piped || sock[0] < 0 {
		return // the pipes are in the daemon's table already
	}
	// Our ends go to the daemon's table; these copies close.
	ends := pr.ours()
	if pr.ferr == nil {
		if err := sendFDs(sock[0], ends); err != nil {
			pr.xerr = err
		} else {
			pr.via = sock[1]
		}
	}
	for _, fd := range ends {
		syscall.Close(fd)
	}
	pr.stdin, pr.out = -1, [2]int{-1, -1}
}

// forkNow forks pr's child, its pipes made (prepare), and closes the
// child's ends of them: on the calling goroutine's thread, or, for a
// umask of its own, on a thread made for it.
func (sp *spawner) forkNow(pr *prepared) {
	if pr.c.umask < 0 {
		pr.pid, pr.ferr = sp.fork(pr.c)
		pr.closeChild()
		return
	}
	f := sp.startForkers(1, false)
	f.jobs <- pr
	<-f.results
	f.stop()
}

func (sp *spawner) fork(c *childSetup) (int, error) {
	if c.failMsg != "" {
		return sp.forkStandIn(c, c.failMsg)
	}
	attr := &syscall.ProcAttr{
		Dir:   c.dir,
		Env:   c.env,
		Files: c.files[:],
		Sys:   &syscall.SysProcAttr{Setpgid: true, Credential: c.cred},
	}
	pid, err := syscall.ForkExec(c.filename, c.argv, attr)
	if err == nil {
		return pid, nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || parentSideErrno(errno) {
		return 0, err
	}
	// The child failed after the fork. Supervisor's child reports it
	// on stderr and exits 127; so does the stand-in.
	msg := ""
	if c.dir != "" {
		if derr := checkDir(c.dir); derr != 0 {
			msg = fmt.Sprintf("couldn't chdir to %s: %s\n", c.dir, errnoName(derr))
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("couldn't exec %s: %s\n", c.argv[0], errnoName(errno))
	}
	return sp.forkStandIn(c, "supervisor: "+msg)
}

func (sp *spawner) forkStandIn(c *childSetup, msg string) (int, error) {
	attr := &syscall.ProcAttr{
		Env:   []string{spawnFailEnv + "=" + msg + "supervisor: child process was not spawned\n"},
		Files: c.files[:],
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	return syscall.ForkExec(sp.self, []string{c.argv[0]}, attr)
}

// sendFDs sends fds in one message.
func sendFDs(sock int, fds []int) error {
	for {
		err := syscall.Sendmsg(sock, []byte{byte(len(fds))}, syscall.UnixRights(fds...), nil, 0)
		if err != syscall.EINTR {
			return err
		}
	}
}

// recvFDs receives the n descriptors of one sendFDs message, close-on-exec.
func recvFDs(sock int, n int) ([]int, error) {
	var b [1]byte
	oob := make([]byte, syscall.CmsgSpace(n*4))
	var oobn, flags int
	var err error
	for {
		_, oobn, flags, _, err = syscall.Recvmsg(sock, b[:], oob, syscall.MSG_CMSG_CLOEXEC)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	var fds []int
	msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn])
	for _, m := range msgs {
		if got, err := syscall.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		} else if perr == nil {
			perr = err
		}
	}
	if flags&syscall.MSG_CTRUNC != 0 || len(fds) != n || int(b[0]) != n {
		// The table was full (EMFILE): what came is of no use.
		for _, fd := range fds {
			syscall.Close(fd)
		}
		if perr == nil {
			perr = syscall.EMFILE
		}
		return nil, perr
	}
	return fds, nil
}
