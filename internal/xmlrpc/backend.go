package xmlrpc

import (
	"context"
	"syscall"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// Backend is what the server needs from whatever supervises the
// processes (fallback.Supervisor). It speaks Go: processes are named by
// group and process name (never "group:name" specs, which the server
// resolves), states are status.State, and failures are the kinds of
// internal/status (status.ErrBadName, ...), bare, wrapped with %w, or in
// a *status.Error when there is a detail of the backend's own (the
// NO_FILE/NOT_EXECUTABLE message of a spawn check, a kill error for
// FAILED, the configuration error for CANT_REREAD). Return the kinds
// whose Supervisor detail is the process or group name bare (BAD_NAME,
// ALREADY_STARTED, NOT_RUNNING, SPAWN_ERROR, ABNORMAL_TERMINATION,
// ALREADY_ADDED, STILL_RUNNING): the server adds the name exactly as the
// client wrote it ("web:web1", "sleeper:sleeper"). Any other error
// becomes fault FAILED with the error's text.
//
// The server does the wire work around it, as Supervisor's
// rpcinterface.py does: name resolution ("web", "g:web", "g:*"), the
// SHUTDOWN_STATE rule (it asks ShuttingDown before each call), which
// processes a group or "all" operation touches and in what order, the
// result structs, the descriptions, signal names, and reading and
// following log files by path.
//
// Methods that may block take a ctx and give up when it is done (the
// client went away); methods that only read a field do not.
type Backend interface {
	// Identification is the [supervisord] identifier (getIdentification).
	Identification() string

	// PID is the daemon's process id (getPID).
	PID() int

	// ShuttingDown reports whether the daemon is on its way down or
	// restarting, after Shutdown, Restart, SIGTERM or SIGHUP. While it
	// is, every supervisor.* method but sendRemoteCommEvent answers
	// SHUTDOWN_STATE.
	ShuttingDown() bool

	// MainLogFile is the path of the daemon's own log ([supervisord]
	// logfile), "" when there is none (syslog). The server reads and
	// follows it (readLog, /mainlogtail).
	MainLogFile() string

	// ClearMainLog empties the main log and reopens it (clearLog).
	// status.ErrNoFile when there is no log file, status.ErrFailed when
	// it cannot be removed.
	ClearMainLog(ctx context.Context) error

	// Shutdown starts an orderly stop of everything and the daemon's exit,
	// as SIGTERM does, and returns at once (shutdown).
	Shutdown(ctx context.Context) error

	// Restart starts an orderly stop, a re-read of the configuration and
	// a fresh start in the same process, as SIGHUP does, and returns at
	// once (restart).
	Restart(ctx context.Context) error

	// Reload re-reads the configuration file without applying it and
	// returns the names of the groups that are new, changed (any process
	// setting differs) and gone, compared with the active groups
	// (reloadConfig). A configuration error is a *status.Error of kind
	// status.ErrCantReread whose Detail is the message supervisord would
	// print.
	Reload(ctx context.Context) (added, changed, removed []string, err error)

	// Configured returns the groups of the configuration read last (at
	// start or by Reload), in Supervisor's order, and the names of those
	// that are active (getAllConfigInfo). The groups are read, never
	// changed.
	Configured(ctx context.Context) (groups []*translate.Group, active []string, err error)

	// AddGroup makes the group of the configuration read last active and
	// starts its autostart processes (addProcessGroup).
	// status.ErrBadName if the configuration has no such group,
	// status.ErrAlreadyAdded if it is active already.
	AddGroup(ctx context.Context, group string) error

	// RemoveGroup removes an active group whose processes are all
	// stopped (removeProcessGroup). status.ErrBadName if it is not
	// active, status.ErrStillRunning if a process is not in a stopped
	// state.
	RemoveGroup(ctx context.Context, group string) error

	// Processes returns the status of every process of every active
	// group, in Supervisor's priority order: groups by priority then
	// name, within a group processes by priority then name (the order
	// in which startAllProcesses starts them). The server sorts by name
	// itself where Supervisor does.
	Processes(ctx context.Context) ([]status.Process, error)

	// Groups returns the names of the active groups, including groups
	// without processes (numprocs=0), in any order.
	Groups(ctx context.Context) ([]string, error)

	// Start starts one process and returns without waiting for it to
	// count as started (startProcess, first half). The checks come in
	// Supervisor's order: status.ErrBadName; the executable check
	// (*status.Error of kind ErrNoFile or ErrNotExecutable with
	// supervisord's message, even when the process runs);
	// status.ErrAlreadyStarted in STARTING, RUNNING or BACKOFF;
	// status.ErrFailed in UNKNOWN (bare: the server writes Supervisor's
	// "NAME is in an unknown process state" with the name the client
	// gave); then the spawn, and
	// status.ErrSpawnError if that failed or the child is already known
	// to be dead.
	Start(ctx context.Context, group, name string) error

	// WaitStarted blocks until a process that Start started is RUNNING
	// (stayed up for startsecs) and returns nil; status.ErrSpawnError if
	// it failed to start (a spawn error is set, e.g. it exited too
	// quickly); status.ErrAbnormalTermination if it left STARTING and
	// RUNNING otherwise (startProcess with wait=true, second half).
	WaitStarted(ctx context.Context, group, name string) error

	// Stop sends a process its stop signal, or moves it from BACKOFF to
	// STOPPED, and returns without waiting for it to die (stopProcess,
	// first half). status.ErrBadName; status.ErrNotRunning unless it is
	// in STARTING, RUNNING or BACKOFF; a *status.Error of kind ErrFailed
	// with the kill error.
	Stop(ctx context.Context, group, name string) error

	// WaitStopped blocks until the process is in a stopped state
	// (STOPPED, EXITED, FATAL, UNKNOWN) (stopProcess with wait=true,
	// second half). SIGKILL after stopwaitsecs is the backend's job.
	WaitStopped(ctx context.Context, group, name string) error

	// Signal sends sig to a process (signalProcess). status.ErrBadName;
	// status.ErrNotRunning unless it is in STARTING, RUNNING or
	// STOPPING; a *status.Error of kind ErrFailed with the kill error.
	Signal(ctx context.Context, group, name string, sig syscall.Signal) error

	// ClearLogs empties the process's stdout and stderr log files and
	// reopens them (clearProcessLogs). status.ErrBadName;
	// status.ErrFailed when a file cannot be removed (bare: the fault
	// detail is the name). The server reads
	// and follows the files itself, by the paths in status.Process.
	ClearLogs(ctx context.Context, group, name string) error

	// WriteStdin writes data to the process's standard input
	// (sendProcessStdin). status.ErrBadName; status.ErrNotRunning when
	// it has no pid or is being stopped; status.ErrNoFile when its stdin
	// is closed (EPIPE).
	WriteStdin(ctx context.Context, group, name string, data []byte) error

	// SendRemoteComm emits a REMOTE_COMMUNICATION event with the header
	// "type:typ" and the body data to event listeners
	// (sendRemoteCommEvent). It is served even while shutting down.
	SendRemoteComm(ctx context.Context, typ, data string) error
}
