package status

import "errors"

// The kinds of failure a backend reports for an operation on the daemon or
// on a process. They are Supervisor's fault kinds (supervisor.md §9.1) in
// Go words; each message is what supervisorctl prints for it. The wire
// codes (BAD_NAME = 10, ...) live in internal/xmlrpc, which maps these
// both ways. Test with errors.Is; a backend may wrap them with %w or
// carry a detail in an *Error.
var (
	ErrBadName             = errors.New("no such process")                 // BAD_NAME: unknown process or group
	ErrBadSignal           = errors.New("bad signal name")                 // BAD_SIGNAL
	ErrNoFile              = errors.New("no such file")                    // NO_FILE: command not found, no log file, stdin closed
	ErrNotExecutable       = errors.New("file is not executable")          // NOT_EXECUTABLE
	ErrFailed              = errors.New("failed")                          // FAILED: the operation went wrong (kill error, unknown state, ...)
	ErrAbnormalTermination = errors.New("abnormal termination")            // ABNORMAL_TERMINATION: died while being waited for
	ErrSpawnError          = errors.New("spawn error")                     // SPAWN_ERROR: could not be started
	ErrAlreadyStarted      = errors.New("already started")                 // ALREADY_STARTED: in STARTING, RUNNING or BACKOFF
	ErrNotRunning          = errors.New("not running")                     // NOT_RUNNING
	ErrAlreadyAdded        = errors.New("process group already active")    // ALREADY_ADDED
	ErrStillRunning        = errors.New("process/group still running")     // STILL_RUNNING: cannot remove a group with live processes
	ErrCantReread          = errors.New("cannot reread the configuration") // CANT_REREAD: the new configuration has an error
	ErrShutdownState       = errors.New("supervisor shutting down")        // SHUTDOWN_STATE: the daemon is stopping or restarting
	ErrBadArguments        = errors.New("bad arguments")                   // BAD_ARGUMENTS: e.g. a negative read length
)

// Error is one of the kinds above with the detail Supervisor writes after
// its name: the process name as given ("BAD_NAME: web:web1"), the spawn
// check's message ("NO_FILE: can't find command '/x'"), the kill error
// ("FAILED: ..."), or the configuration error ("CANT_REREAD: ...").
//
// A backend returns an *Error when it has a detail of its own to give
// (NO_FILE, NOT_EXECUTABLE, FAILED, CANT_REREAD). When it returns a bare
// kind, the XML-RPC server adds the detail Supervisor would: the name
// the client gave, for the kinds whose detail is a name.
type Error struct {
	Kind   error  // one of the ErrX kinds of this package
	Detail string // the text after "KIND: "; "" for none
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns Kind, so errors.Is(err, ErrNotRunning) sees through an
// *Error.
func (e *Error) Unwrap() error { return e.Kind }

// Kinds lists every kind of this package, for code that maps them.
var Kinds = []error{
	ErrBadName, ErrBadSignal, ErrNoFile, ErrNotExecutable, ErrFailed,
	ErrAbnormalTermination, ErrSpawnError, ErrAlreadyStarted, ErrNotRunning,
	ErrAlreadyAdded, ErrStillRunning, ErrCantReread, ErrShutdownState,
	ErrBadArguments,
}

// KindOf returns the kind of err (one of Kinds) and its detail text: the
// Detail of the first *Error in err's chain, or "". The kind is nil when
// err is none of them.
func KindOf(err error) (kind error, detail string) {
	for _, k := range Kinds {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	var e *Error
	if errors.As(err, &e) {
		detail = e.Detail
	}
	return kind, detail
}
