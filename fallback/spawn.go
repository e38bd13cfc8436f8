package fallback

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"syscall"

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
	files    []uintptr // the child's fds 0, 1, 2
	failMsg  string    // non-empty: spawn the stand-in that prints this
}

// spawner forks children from a few OS threads whose file-system
// attributes (umask, cwd) are their own (unshare(CLONE_FS)), so setting
// a child's umask there for the fork does not touch the rest of the
// daemon: Go's SysProcAttr has no umask, and the umask is per process
// otherwise. There are several because a fork waits for the child's
// exec (vfork): spawning many children at once goes faster in parallel.
type spawner struct {
	reqs chan spawnReq
	self string // this executable, for the stand-in child
}

type spawnReq struct {
	c   *childSetup
	res chan<- spawnRes
	i   int
}

type spawnRes struct {
	pid int
	err error
	i   int
}

// spawnThreads is how many threads fork in parallel.
const spawnThreads = 4

// startSpawner starts the spawning threads; stop ends them.
func startSpawner() *spawner {
	sp := &spawner{reqs: make(chan spawnReq), self: "/proc/self/exe"}
	for range spawnThreads {
		ready := make(chan struct{})
		go sp.run(ready)
		<-ready
	}
	return sp
}

func (sp *spawner) run(ready chan struct{}) {
	// The thread stays locked: when this goroutine returns, the runtime
	// ends the thread rather than reuse its private umask.
	runtime.LockOSThread()
	// If unshare fails (a seccomp filter?), the umask is the process's
	// for the moment of the fork: as close as Go allows.
	_ = unix.Unshare(unix.CLONE_FS)
	base := syscall.Umask(0o022)
	syscall.Umask(base)
	close(ready)
	for r := range sp.reqs {
		c := r.c
		if c.umask >= 0 {
			syscall.Umask(c.umask)
		}
		pid, err := sp.fork(c)
		if c.umask >= 0 {
			syscall.Umask(base)
		}
		r.res <- spawnRes{pid, err, r.i}
	}
}

func (sp *spawner) fork(c *childSetup) (int, error) {
	if c.failMsg != "" {
		return sp.forkStandIn(c, c.failMsg)
	}
	attr := &syscall.ProcAttr{
		Dir:   c.dir,
		Env:   c.env,
		Files: c.files,
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
		Files: c.files,
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	return syscall.ForkExec(sp.self, []string{c.argv[0]}, attr)
}

func (sp *spawner) spawn(c *childSetup) (int, error) {
	res := make(chan spawnRes, 1)
	sp.reqs <- spawnReq{c, res, 0}
	r := <-res
	return r.pid, r.err
}

// spawnAll forks every child, in parallel, and returns the results in
// the order of cs.
func (sp *spawner) spawnAll(cs []*childSetup) []spawnRes {
	res := make(chan spawnRes, len(cs))
	out := make([]spawnRes, len(cs))
	go func() {
		for i, c := range cs {
			sp.reqs <- spawnReq{c, res, i}
		}
	}()
	for range cs {
		r := <-res
		out[r.i] = r
	}
	return out
}

func (sp *spawner) stop() { close(sp.reqs) }

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

// childEnv is the environment Supervisor gives a child: its own, then
// SUPERVISOR_ENABLED, SUPERVISOR_SERVER_URL (when there is one),
// SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME, then the program's
// environment (merged over [supervisord] environment) on top.
func childEnv(base []string, p *translate.Process, serverURL *string) []string {
	env := make([]string, 0, len(base)+4+len(p.Env))
	index := make(map[string]int, len(base)+4+len(p.Env))
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			env[i] = k + "=" + v
			return
		}
		index[k] = len(env)
		env = append(env, k+"="+v)
	}
	for _, kv := range base {
		k, v, ok := cut(kv)
		if ok {
			set(k, v)
		}
	}
	set("SUPERVISOR_ENABLED", "1")
	url := p.ServerURL
	if url == nil {
		url = serverURL
	}
	if url != nil && *url != "" {
		set("SUPERVISOR_SERVER_URL", *url)
	}
	set("SUPERVISOR_PROCESS_NAME", p.Name)
	set("SUPERVISOR_GROUP_NAME", p.Group)
	for _, kv := range p.Env {
		set(kv.Name, kv.Value)
	}
	return env
}

func cut(kv string) (string, string, bool) {
	k, v, ok := strings.Cut(kv, "=")
	return k, v, ok && k != ""
}

// prepared is a child ready to fork: the parent's half of the spawn
// done (command resolved, pipes made, logs opened).
type prepared struct {
	c        *childSetup
	fds      []int  // every pipe end
	in       [2]int // stdin: child's end, ours
	out, err [2]int // stdout, stderr: ours, child's (err[0] -1 when redirected)
	logs     *runOutput
	sock     *fcgiSocket // held for the child's fd 0

	// A batch fork's result, waiting for the state machine's spawn.
	forked bool
	pid    int
	ferr   error
}

func (pr *prepared) closeAll(s *Supervisor) {
	for _, fd := range pr.fds {
		syscall.Close(fd)
	}
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
		if pr, msg = s.prepare(p); msg != "" {
			return 0, msg
		}
		pr.pid, pr.ferr = s.sp.spawn(pr.c)
	}
	return s.complete(p, pr)
}

// prepare is the parent's half of a spawn before the fork.
func (s *Supervisor) prepare(p *proc) (*prepared, string) {
	ex := translate.ResolveExec(p.cfg, s.environ, s.dir)
	if ex.Err != "" {
		return nil, ex.Err
	}
	pr := &prepared{}
	pipe := func() (r, w int, err error) {
		if r, w, err = logfile.Pipe(); err == nil {
			pr.fds = append(pr.fds, r, w)
		}
		return r, w, err
	}
	var err error
	if g := s.groups[p.cfg.Group]; g != nil && g.sock != nil {
		// An fcgi-program's fd 0 is its group's socket: no stdin.
		fd, err := g.sock.acquire(s.log)
		if err != nil {
			return nil, fmt.Sprintf("unknown error making dispatchers for '%s': %s", p.name(), errName(err))
		}
		pr.sock = g.sock
		pr.in = [2]int{fd, -1}
	} else if pr.in[0], pr.in[1], err = pipe(); err != nil {
		pr.closeAll(s)
		return nil, pipeErr(p.name(), err)
	}
	if pr.out[0], pr.out[1], err = pipe(); err != nil {
		pr.closeAll(s)
		return nil, pipeErr(p.name(), err)
	}
	pr.err = [2]int{-1, pr.out[1]}
	if !p.cfg.RedirectStderr {
		if pr.err[0], pr.err[1], err = pipe(); err != nil {
			pr.closeAll(s)
			return nil, pipeErr(p.name(), err)
		}
	}
	if pr.logs, err = s.openLogs(p); err != nil {
		pr.closeAll(s)
		return nil, pipeErr(p.name(), err)
	}
	c := &childSetup{
		filename: ex.Filename,
		argv:     ex.Argv,
		env:      childEnv(s.environ, p.cfg, s.serverURL),
		umask:    -1,
		files:    []uintptr{uintptr(pr.in[0]), uintptr(pr.out[1]), uintptr(pr.err[1])},
	}
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
	pr.c = c
	return pr, ""
}

// complete is the parent's half of a spawn after the fork.
func (s *Supervisor) complete(p *proc, pr *prepared) (int, string) {
	if pr.ferr != nil {
		pr.closeAll(s)
		if errors.Is(pr.ferr, syscall.EAGAIN) {
			return 0, fmt.Sprintf("Too many processes in process table to spawn '%s'", p.name())
		}
		return 0, fmt.Sprintf("unknown error during fork for '%s': %s", p.name(), errName(pr.ferr))
	}
	pid := pr.pid
	// The child has its ends; keep ours.
	syscall.Close(pr.out[1])
	if pr.err[0] >= 0 {
		syscall.Close(pr.err[1])
	}
	var stdin *os.File
	if pr.sock == nil {
		syscall.Close(pr.in[0])
		syscall.SetNonblock(pr.in[1], true)
		stdin = os.NewFile(uintptr(pr.in[1]), "stdin")
	}
	p.stdin = stdin
	p.sock = pr.sock
	p.listener = nil
	if g := s.groups[p.cfg.Group]; g != nil && g.pool != nil {
		l, err := g.pool.Attach(p.cfg.Name, stdin)
		if err != nil {
			s.logf(slog.LevelError, "attaching listener %s: %v", p.name(), err)
		}
		p.listener = l
	}
	closeStdin := (*os.File)(nil)
	if p.listener != nil {
		closeStdin = stdin // after the listener's output is done
	}
	s.pump(p, pr.logs, [2]int{pr.out[0], pr.err[0]}, pid, p.listener, closeStdin)
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
	var todo []*proc
	var cs []*childSetup
	for _, p := range ps {
		if !s.running() || p.state != status.Stopped || !p.laststart.IsZero() || !p.cfg.AutoStart || p.pid != 0 || p.pre != nil {
			continue
		}
		pr, msg := s.prepare(p)
		if msg != "" {
			continue // the spawn will find the same error
		}
		p.pre = pr
		todo = append(todo, p)
		cs = append(cs, pr.c)
	}
	// Processes of one priority (group and process) fork together; a
	// higher priority waits for the lower ones' forks, so the start
	// order stays Supervisor's.
	for len(todo) > 0 {
		n := 1
		for n < len(todo) && samePriority(todo[n], todo[0]) {
			n++
		}
		if n == 1 {
			todo[0].pre.pid, todo[0].pre.ferr = s.sp.spawn(cs[0])
		} else {
			for i, r := range s.sp.spawnAll(cs[:n]) {
				todo[i].pre.pid, todo[i].pre.ferr = r.pid, r.err
			}
		}
		todo, cs = todo[n:], cs[n:]
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
	if pr.ferr == nil {
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
