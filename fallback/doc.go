// Package fallback supervises processes where systemd is absent, as
// supervisord 4.2.5 does: `supersede run` is this package behind the
// XML-RPC API of internal/xmlrpc, so the real supervisorctl works with
// it unchanged.
//
// It owns:
//
//   - The state machine of each process (supervisor.md §7), written after
//     supervisor/process.py: STOPPED, STARTING, RUNNING, BACKOFF,
//     STOPPING, EXITED, FATAL, UNKNOWN; startsecs (strictly more),
//     startretries with waits of 1 s, 2 s, 3 s, ...; autorestart and
//     exitcodes; death by a signal as exit status -1; stopsignal, then
//     SIGKILL after stopwaitsecs; Supervisor's spawn errors and main-log
//     lines. It does no I/O itself and takes the time as an argument, so
//     its tests run on a fake clock (machine.go).
//   - Spawning as Supervisor's forked child does (supervisor.md §6.4): a
//     new process group, stdin/stdout/stderr pipes (stderr into stdout
//     with redirect_stderr), user= with its groups, the environment,
//     directory and umask; the command resolved as translate.ResolveExec
//     does. A failure after the fork (chdir, setuid, exec) shows as
//     Supervisor's does: the child writes "supervisor: couldn't ..." to
//     its stderr log and exits 127 (spawn.go). A restart forks right on
//     the loop goroutine, before the main-log lines of the exit and the
//     spawn are written; a batch (the start, a group added) forks from
//     a few short-lived threads with descriptor tables of their own
//     (forker.go), so that no fork copies, and no exec closes, the five
//     descriptors the daemon holds for every child already running.
//   - The event loop (Supervisor.Run): one goroutine owns every process;
//     it sleeps until SIGCHLD (then wait4(-1, WNOHANG) until nothing is
//     left), a signal, a request or the earliest pending deadline
//     (startsecs, backoff, stopwaitsecs). There is no periodic tick: an
//     idle daemon does not wake up. Exits are reaped, and deadlines
//     fired, a bounded batch a turn (16, or 5 ms; turnBudget), with the
//     requests and signals that wait served between two batches, so
//     that programs that die as fast as they are restarted (a crash
//     storm: autorestart=true, startsecs=0) cannot keep the daemon from
//     answering or from stopping. Run sets PR_SET_CHILD_SUBREAPER, so
//     orphaned grandchildren are reaped too ("reaped unknown pid"), as
//     PID 1 must in a container.
//   - Groups and priorities: start in ascending group priority, all at
//     once (the forks run in parallel, each group's as soon as it is
//     added, while the next groups' AUTO logs are made; startsecs count
//     from each fork); the orderly stop of §7.3 group by
//     group in descending priority; add/remove/reload of groups with
//     Supervisor's diff; SIGTERM/SIGINT/SIGQUIT, SIGHUP (Run returns
//     ErrRestart and the caller runs a new Supervisor) and SIGUSR2.
//   - fcgi-program sockets as Supervisor's SocketManager keeps them: bound
//     while a process of the group runs, passed as its fd 0 (fcgi.go).
//   - The operations of Supervisor's rpcinterface in Go words: Supervisor
//     implements internal/xmlrpc.Backend without importing it (ops.go).
//
// Child output goes through fallback/logfile's Pump (one goroutine, one
// epoll set, back-pressure); events go through fallback/events' Bus,
// which also runs the event listener pools.
//
// Memory. With a thousand programs running, `supersede run` holds about
// 12.5 MB resident: some 5.8 MB anonymous and 6.7 MB file-backed.
// The anonymous part is the Go heap, about 2.5 MB of it live (per
// program: its configuration, about 0.7 KB; its state here, 0.8 KB; its
// two log files and the pump's two sources, 0.75 KB), the free room the
// runtime keeps around it, goroutine and thread stacks and the runtime's
// own tables. The file-backed part is the supersede executable: the
// kernel maps a file's page-cache pages into a process in large folios,
// so that almost all of the 7.6 MB the executable loads (code, read-only
// data, the function tables the runtime walks) is counted resident as
// soon as the daemon runs, whatever part of the code it uses; these
// pages are shared with every other process running the executable and
// are the first the kernel reclaims. About 1.4 MB of them come with
// net/http, most of it TLS and certificate code that the XML-RPC server
// links in and never runs. After a burst of requests (a `supervisorctl status` of a thousand
// processes makes several megabytes of garbage), the daemon gives the
// memory back a second after the last request (see trimAfter), rather
// than keep it until the runtime's next collection, minutes later.
//
// Exit on FATAL. With Options.ExitOnFatal, a process (or one of the
// named ones) entering FATAL stops everything and Run returns a
// *FatalError; `supersede run --exit-on-fatal` then exits with status 3,
// so a container whose essential program cannot start stops with a code
// that says so. The exit statuses of `supersede run`: 0 after an orderly
// stop (SIGTERM, SIGINT, SIGQUIT, the shutdown RPC), 1 on a runtime
// error, 2 on a usage or configuration error (also when the
// configuration read for a restart is invalid), 3 after --exit-on-fatal.
//
// What it must not do: speak XML-RPC or HTTP (internal/xmlrpc does),
// parse configuration (translate does), or let anything else in the
// process fork with os/exec while Run runs: the reaper's wait4(-1) would
// take its children.
//
// Deliberate differences from supervisord, all in timing: transitions
// happen when their deadline passes instead of on the next turn of a
// loop that runs about once a second, so a process becomes RUNNING just
// after startsecs, a retry starts just after its backoff wait, FATAL
// follows the last failure at once, and a process that dies is
// restarted at once. Between two SIGKILLs of a process that does not die
// (stopwaitsecs=0) a second passes, as in supervisord's idle loop. The
// orphans that come to the daemon as subreaper are reaped with a DEBUG
// line ("reaped unknown pid"); supervisord never sees them, unless it is
// PID 1, where the line is INFO as in supervisord.
package fallback
