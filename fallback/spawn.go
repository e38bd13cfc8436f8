package fallback

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/fallback/logfile"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// spawnFailEnv marks a child that stands in for one whose setup failed
// after the fork (setuid, chdir, exec): it writes its message to stderr
// and exits 127, as Supervisor's forked child does, so the failure shows
// the same way: "spawned: 'x' with pid N", the message in the stderr
// log, then "Exited too quickly". Go cannot run code between fork and
// exec, so the stand-in is this binary re-executed (see init).
const spawnFailEnv = "SUPERSEDE_FALLBACK_SPAWN_FAILED"

func init() {
	// The stand-in child: nothing else of the program runs.
	if msg, ok := os.LookupEnv(spawnFailEnv); ok {
		os.Stderr.WriteString(msg)
		os.Exit(127)
	}
}

// childSetup is everything the fork needs for one process.
type childSetup struct {
	filename string
	argv     []string
	env      []string
	dir      string
	umask    int // -1: inherit
	cred     *syscall.Credential
	files    [3]uintptr // the child's fds 0, 1, 2
	failMsg  string     // non-empty: spawn the stand-in that prints this
}

// parentSideErrno reports whether a ForkExec error comes from the
// parent (pipes, fork) rather than from the child's setup.
func parentSideErrno(e syscall.Errno) bool {
	switch e {
	case syscall.EAGAIN, syscall.ENOMEM, syscall.EMFILE, syscall.ENFILE:
		return true
	}
	return false
}

// checkDir is the chdir the child would do, checked from here: 0 when
// dir is a searchable directory.
func checkDir(dir string) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		var e syscall.Errno
		if errors.As(err, &e) {
			return e
		}
		return syscall.ENOENT
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return syscall.ENOTDIR
	}
	if err := syscall.Access(dir, 1 /* X_OK */); err != nil {
		return syscall.EACCES
	}
	return 0
}

// errnoName is Python's errno.errorcode[e]: "ENOENT".
func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return strconv.Itoa(int(e))
}

// credential is Supervisor's drop_privileges for a child, computed in the
// parent: nil when there is nothing to do (no user=, or the same uid),
// else the uid, the user's primary gid and its groups. A non-empty
// message is the error the child would print.
func credential(uid *int) (*syscall.Credential, string) {
	if uid == nil {
		return nil, ""
	}
	u, err := user.LookupId(strconv.Itoa(*uid))
	if err != nil {
		return nil, fmt.Sprintf("Can't find uid %d", *uid)
	}
	if os.Getuid() == *uid {
		return nil, ""
	}
	if os.Getuid() != 0 {
		return nil, "Can't drop privilege as nonroot user"
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, "Could not set group id of effective user"
	}
	cred := &syscall.Credential{Uid: uint32(*uid), Gid: uint32(gid), Groups: []uint32{uint32(gid)}}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, "Could not set groups of effective user"
	}
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil && g != gid {
			cred.Groups = append(cred.Groups, uint32(g))
		}
	}
	return cred, ""
}

// envBase is supervisord's environment as every child's begins (with
// Python's locale coercion): "K=V"
// entries, each name once (its last value, at its first place, as in a
// Python dict), and where each name is. It is made once; a spawn copies
// it and sets its own variables (childEnv).
type envBase struct {
	kv    []string
	index map[string]int
}

func newEnvBase(environ []string) *envBase {
	b := &envBase{kv: make([]string, 0, len(environ)), index: make(map[string]int, len(environ))}
	for _, kv := range environ {
		k, _, ok := cut(kv)
		if !ok {
			continue
		}
		if i, ok := b.index[k]; ok {
			b.kv[i] = kv
			continue
		}
		b.index[k] = len(b.kv)
		b.kv = append(b.kv, kv)
	}
	// supervisord runs on Python 3.11, which sets LC_CTYPE=C.UTF-8 in
	// its own environment when started in the C locale, as in most
	// containers (translate.CoercedLocale); its children inherit it.
	if l := translate.CoercedLocale(environ); l != "" {
		kv := "LC_CTYPE=" + l
		if i, ok := b.index["LC_CTYPE"]; ok {
			b.kv[i] = kv
		} else {
			b.index["LC_CTYPE"] = len(b.kv)
			b.kv = append(b.kv, kv)
		}
	}
	return b
}

// childEnv is the environment Supervisor gives a child: its own, then
// SUPERVISOR_ENABLED, SUPERVISOR_SERVER_URL (when there is one),
// SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME, then the program's
// environment (merged over [supervisord] environment) on top.
func (b *envBase) childEnv(p *translate.Process, serverURL *string) []string {
	e := childEnv{base: b, env: make([]string, len(b.kv), len(b.kv)+4+len(p.Env))}
	copy(e.env, b.kv)
	e.set("SUPERVISOR_ENABLED", "1")
	url := p.ServerURL
	if url == nil {
		url = serverURL
	}
	if url != nil && *url != "" {
		e.set("SUPERVISOR_SERVER_URL", *url)
	}
	e.set("SUPERVISOR_PROCESS_NAME", p.Name)
	e.set("SUPERVISOR_GROUP_NAME", p.Group)
	for _, kv := range p.Env {
		e.set(kv.Name, kv.Value)
	}
	return e.env
}

// childEnv is one child's environment being made.
type childEnv struct {
	base *envBase
	env  []string
}

func (e *childEnv) set(k, v string) {
	kv := k + "=" + v
	if i, ok := e.base.index[k]; ok {
		e.env[i] = kv
		return
	}
	// Few variables come on top of the base: a search does.
	for i := len(e.base.kv); i < len(e.env); i++ {
		if name, _, _ := strings.Cut(e.env[i], "="); name == k {
			e.env[i] = kv
			return
		}
	}
	e.env = append(e.env, kv)
}

func cut(kv string) (string, string, bool) {
	k, v, ok := strings.Cut(kv, "=")
	return k, v, ok && k != ""
}

// prepared is a child ready to fork: the parent's half of the spawn
// done (command resolved, logs opened, pipes made or to be made by its
// forker). The child's ends of its pipes are closed as soon as it is
// forked; ours wait for complete.
type prepared struct {
	c        *childSetup
	redirect bool   // stderr goes into the stdout pipe
	piped    bool   // the pipes are made (in the daemon's table)
	child    [3]int // the child's ends, closed once it is forked; -1: none, or not ours (an fcgi socket)
	stdin    int    // our end of its stdin pipe; -1: none
	out      [2]int // our ends of its stdout and stderr pipes; -1: none (stderr redirected)
	logs     *runOutput
	sock     *fcgiSocket // held for the child's fd 0

	// The fork's result; a batch's waits here for the state machine's
	// spawn.
	started time.Time // just before the fork (a batch's)
	pid     int
	ferr    error // the fork failed
	perr    error // making the pipes failed (no fork)
	xerr    error // our ends of the pipes could not come back (forked)
	via     int   // our ends wait on this socket (recvFDs); -1: they do not
}

func newPrepared() *prepared {
	return &prepared{child: [3]int{-1, -1, -1}, stdin: -1, out: [2]int{-1, -1}, via: -1}
}

// makePipes makes the child's stdin, stdout and stderr pipes (no stdin
// for an fcgi program, whose fd 0 is set already; no stderr pipe when
// it is redirected).
func (pr *prepared) makePipes() (err error) {
	defer func() {
		if err != nil {
			pr.closeChild()
			pr.closeOurs()
		}
	}()
	if pr.sock == nil {
		if pr.child[0], pr.stdin, err = logfile.Pipe(); err != nil {
			return err
		}
		pr.c.files[0] = uintptr(pr.child[0])
	}
	if pr.out[0], pr.child[1], err = logfile.Pipe(); err != nil {
		return err
	}
	pr.c.files[1], pr.c.files[2] = uintptr(pr.child[1]), uintptr(pr.child[1])
	if !pr.redirect {
		if pr.out[1], pr.child[2], err = logfile.Pipe(); err != nil {
			return err
		}
		pr.c.files[2] = uintptr(pr.child[2])
	}
	return nil
}

// ours are our ends of the pipes: stdin, stdout, stderr, those there are.
func (pr *prepared) ours() []int {
	var fds []int
	for _, fd := range [3]int{pr.stdin, pr.out[0], pr.out[1]} {
		if fd >= 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// receive takes our ends of the pipes from the forker that made them.
func (pr *prepared) receive() error {
	if pr.via < 0 {
		return nil
	}
	n := 3
	if pr.redirect {
		n--
	}
	if pr.sock != nil {
		n--
	}
	fds, err := recvFDs(pr.via, n)
	pr.via = -1
	if err != nil {
		return err
	}
	if pr.sock == nil {
		pr.stdin, fds = fds[0], fds[1:]
	}
	pr.out[0] = fds[0]
	if !pr.redirect {
		pr.out[1] = fds[1]
	}
	return nil
}

// closeChild closes the child's ends of its pipes: it has them now (or
// the fork failed).
func (pr *prepared) closeChild() {
	for i, fd := range pr.child {
		if fd >= 0 {
			syscall.Close(fd)
			pr.child[i] = -1
		}
	}
}

// closeOurs closes our ends of the pipes.
func (pr *prepared) closeOurs() {
	for _, fd := range [3]int{pr.stdin, pr.out[0], pr.out[1]} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
	pr.stdin, pr.out = -1, [2]int{-1, -1}
}

// closeAll undoes the preparation.
func (pr *prepared) closeAll(s *Supervisor) {
	pr.closeChild()
	pr.closeOurs()
	if pr.logs != nil {
		pr.logs.closeFiles()
	}
	if pr.sock != nil {
		pr.sock.release(s.log)
		pr.sock = nil
	}
}

// spawn is the fork half of Subprocess.spawn: resolve the command, make
// the pipes and open the logs, fork. It returns the pid, or Supervisor's
// spawn error. A child forked ahead by spawnBatch is taken as is.
func (s *Supervisor) spawn(p *proc) (int, string) {
	pr := p.pre
	p.pre = nil
	if pr == nil {
		var msg string
		if pr, msg = s.prepare(p, true); msg != "" {
			return 0, msg
		}
		s.sp.forkNow(pr)
	} else if !pr.started.IsZero() {
		// Forked ahead: startsecs count from the fork, as Supervisor's
		// laststart is taken just before its fork.
		p.laststart = pr.started
	}
	return s.complete(p, pr)
}

// prepare is the parent's half of a spawn before the fork. Without
// pipes, the forker makes them.
func (s *Supervisor) prepare(p *proc, pipes bool) (*prepared, string) {
	ex := translate.ResolveExec(p.cfg, s.environ, s.dir)
	if ex.Err != "" {
		return nil, ex.Err
	}
	pr := newPrepared()
	pr.c = &childSetup{}
	pr.redirect = p.cfg.RedirectStderr
	if g := s.groups[p.cfg.Group]; g != nil && g.sock != nil {
		// An fcgi-program's fd 0 is its group's socket: no stdin.
		fd, err := g.sock.acquire(s.log)
		if err != nil {
			return nil, fmt.Sprintf("unknown error making dispatchers for '%s': %s", p.name(), errName(err))
		}
		pr.sock = g.sock
		pr.c.files[0] = uintptr(fd)
	}
	if pipes {
		if err := pr.makePipes(); err != nil {
			pr.closeAll(s)
			return nil, pipeErr(p.name(), err)
		}
		pr.piped = true
	}
	var err error
	if pr.logs, err = s.openLogs(p); err != nil {
		pr.closeAll(s)
		return nil, pipeErr(p.name(), err)
	}
	c := pr.c
	c.filename = ex.Filename
	c.argv = ex.Argv
	c.env = s.env.childEnv(p.cfg, s.serverURL)
	c.umask = -1
	if p.cfg.Dir != nil {
		c.dir = *p.cfg.Dir
	}
	if p.cfg.Umask != nil {
		c.umask = *p.cfg.Umask
	}
	cred, msg := credential(p.cfg.UID)
	if msg != "" {
		c.failMsg = fmt.Sprintf("supervisor: couldn't setuid to %d: %s\n", *p.cfg.UID, msg)
	}
	c.cred = cred
	return pr, ""
}

// complete is the parent's half of a spawn after the fork.
func (s *Supervisor) complete(p *proc, pr *prepared) (int, string) {
	if pr.perr != nil {
		pr.closeAll(s)
		return 0, pipeErr(p.name(), pr.perr)
	}
	if pr.ferr != nil {
		pr.closeAll(s)
		if errors.Is(pr.ferr, syscall.EAGAIN) {
			return 0, fmt.Sprintf("Too many processes in process table to spawn '%s'", p.name())
		}
		return 0, fmt.Sprintf("unknown error during fork for '%s': %s", p.name(), errName(pr.ferr))
	}
	if pr.xerr != nil {
		// Forked, but without our ends of its pipes: as if the pipes
		// could not be made.
		syscall.Kill(pr.pid, syscall.SIGKILL)
		s.pids[pr.pid] = nil // reaped as ours, silently
		pr.closeAll(s)
		return 0, pipeErr(p.name(), pr.xerr)
	}
	pid := pr.pid
	p.stdin = pr.stdin
	p.stdinFile = nil
	p.sock = pr.sock
	p.listener = nil
	var closeStdin *os.File
	if g := s.groups[p.cfg.Group]; g != nil && g.pool != nil {
		stdin := p.stdinWriter()
		l, err := g.pool.Attach(p.cfg.Name, stdin)
		if err != nil {
			s.logf(slog.LevelError, "attaching listener %s: %v", p.name(), err)
		}
		p.listener = l
		if l != nil {
			closeStdin = stdin // after the listener's output is done
		}
	}
	s.pump(p, pr.logs, pr.out, pid, p.listener, closeStdin)
	p.out = pr.logs
	s.pids[pid] = p
	return pid, ""
}

// spawnBatch forks, in parallel, the processes that the coming
// transitions will start: at startup or when a group is added, all
// autostart processes are started at once. Each result waits in p.pre
// for the state machine's spawn, so the states, logs and events come in
// Supervisor's order.
func (s *Supervisor) spawnBatch(ps []*proc) {
	b := s.newBatch()
	for _, p := range ps {
		b.add(p)
	}
	b.end()
}

// batch forks processes ahead of their state machine's spawn (see
// spawnBatch), in parallel (see spawner): add them in the order their
// transitions come, then end. Processes of one priority (group and
// process) fork together; a higher priority waits for the lower ones'
// forks, so the start order stays Supervisor's. The start adds each
// group's processes as soon as the group is added, so that their forks
// run while the next groups' AUTO logs are being created.
type batch struct {
	s        *Supervisor
	f        *forkers  // from the second process on
	first    *prepared // the first process, until there is a second
	next     *prepared // prepared, not yet with a forker
	inflight int
	last     *proc // the last process added
}

func (s *Supervisor) newBatch() *batch { return &batch{s: s} }

// add forks p ahead if its coming transition starts it. A process whose
// preparation fails is left to its spawn, which will find the same
// error.
func (b *batch) add(p *proc) {
	s := b.s
	if !s.running() || p.state != status.Stopped || !p.laststart.IsZero() || !p.cfg.AutoStart || p.pid != 0 || p.pre != nil {
		return
	}
	if b.last != nil && !samePriority(p, b.last) {
		b.drain()
	}
	b.last = p
	pr, msg := s.prepare(p, false)
	if msg != "" {
		return
	}
	p.pre = pr // its result is read once the batch ends
	if pr.sock != nil {
		// The socket is in our table only: fork it here.
		b.forkHere(pr)
		return
	}
	switch {
	case b.f != nil:
	case b.first == nil:
		// A batch of one forks here, without a thread of its own.
		b.first = pr
		return
	default:
		b.f = s.sp.startForkers(spawnThreads, true)
		b.send(b.first)
		b.first = nil
	}
	b.send(pr)
}

// forkHere forks pr on the calling goroutine's thread, its pipes made
// in the daemon's table.
func (b *batch) forkHere(pr *prepared) {
	if pr.perr = pr.makePipes(); pr.perr == nil {
		pr.piped = true
		pr.started = b.s.now()
		b.s.sp.forkNow(pr)
	}
}

// send hands pr to a forker, taking results while none is free.
func (b *batch) send(pr *prepared) {
	for {
		var jobs chan<- *prepared
		if b.inflight < forkWindow {
			jobs = b.f.jobs
			pr.started = b.s.now() // a forker takes it at once
		}
		select {
		case jobs <- pr:
			b.inflight++
			return
		case r := <-b.f.results:
			b.took(r)
		}
	}
}

func (b *batch) took(r *prepared) {
	b.inflight--
	if err := r.receive(); err != nil {
		r.xerr = err
	}
}

// drain waits for every fork handed out.
func (b *batch) drain() {
	if b.first != nil {
		b.forkHere(b.first)
		b.first = nil
	}
	for b.inflight > 0 {
		b.took(<-b.f.results)
	}
}

// end waits for every fork and ends the forkers.
func (b *batch) end() {
	b.drain()
	if b.f != nil {
		b.f.stop()
		b.f = nil
	}
}

func samePriority(a, b *proc) bool {
	return a.cfg.Priority == b.cfg.Priority && a.groupPriority == b.groupPriority
}

// dropPre undoes a batch fork that the state machine did not take.
func (s *Supervisor) dropPre(p *proc) {
	pr := p.pre
	if pr == nil {
		return
	}
	p.pre = nil
	if pr.perr == nil && pr.ferr == nil && pr.pid > 0 {
		syscall.Kill(pr.pid, syscall.SIGKILL)
		s.pids[pr.pid] = nil // reaped as ours, silently
		pr.ferr = syscall.ECHILD
	}
	pr.closeAll(s)
}

func errName(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return errnoName(e)
	}
	return err.Error()
}

// stdinWriter is the child's stdin as a file, for writing: made when it
// is first needed (sendProcessStdin, an event listener), since most
// children never get anything on their stdin and an *os.File costs a
// poller registration.
func (p *proc) stdinWriter() *os.File {
	if p.stdinFile == nil && p.stdin >= 0 {
		// Non-blocking, so that writes wait in the runtime's poller,
		// where a deadline can end them.
		syscall.SetNonblock(p.stdin, true)
		p.stdinFile = os.NewFile(uintptr(p.stdin), "stdin")
	}
	return p.stdinFile
}

// closeStdin closes our end of the child's stdin.
func (p *proc) closeStdin() {
	switch {
	case p.stdinFile != nil:
		p.stdinFile.Close()
	case p.stdin >= 0:
		syscall.Close(p.stdin)
	}
	p.stdin, p.stdinFile = -1, nil
}
