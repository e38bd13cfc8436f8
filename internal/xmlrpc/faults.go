package xmlrpc

import (
	"errors"

	"github.com/supersede/supersede/internal/status"
)

// Supervisor's fault codes (supervisor.xmlrpc.Faults, supervisor.md §9.1).
const (
	FaultUnknownMethod        = 1
	FaultIncorrectParameters  = 2
	FaultBadArguments         = 3
	FaultSignatureUnsupported = 4
	FaultShutdownState        = 6
	FaultBadName              = 10
	FaultBadSignal            = 11
	FaultNoFile               = 20
	FaultNotExecutable        = 21
	FaultFailed               = 30
	FaultAbnormalTermination  = 40
	FaultSpawnError           = 50
	FaultAlreadyStarted       = 60
	FaultNotRunning           = 70
	FaultSuccess              = 80 // only in the status field of a result struct
	FaultAlreadyAdded         = 90
	FaultStillRunning         = 91
	FaultCantReread           = 92
)

var faultNames = map[int]string{
	FaultUnknownMethod:        "UNKNOWN_METHOD",
	FaultIncorrectParameters:  "INCORRECT_PARAMETERS",
	FaultBadArguments:         "BAD_ARGUMENTS",
	FaultSignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	FaultShutdownState:        "SHUTDOWN_STATE",
	FaultBadName:              "BAD_NAME",
	FaultBadSignal:            "BAD_SIGNAL",
	FaultNoFile:               "NO_FILE",
	FaultNotExecutable:        "NOT_EXECUTABLE",
	FaultFailed:               "FAILED",
	FaultAbnormalTermination:  "ABNORMAL_TERMINATION",
	FaultSpawnError:           "SPAWN_ERROR",
	FaultAlreadyStarted:       "ALREADY_STARTED",
	FaultNotRunning:           "NOT_RUNNING",
	FaultSuccess:              "SUCCESS",
	FaultAlreadyAdded:         "ALREADY_ADDED",
	FaultStillRunning:         "STILL_RUNNING",
	FaultCantReread:           "CANT_REREAD",
}

// FaultName is the name Supervisor gives a fault code ("BAD_NAME"), or
// "UNKNOWN" (getFaultDescription).
func FaultName(code int) string {
	if n, ok := faultNames[code]; ok {
		return n
	}
	return "UNKNOWN"
}

// kindCodes maps the kinds of internal/status to their codes.
var kindCodes = []struct {
	kind error
	code int
}{
	{status.ErrBadName, FaultBadName},
	{status.ErrBadSignal, FaultBadSignal},
	{status.ErrNoFile, FaultNoFile},
	{status.ErrNotExecutable, FaultNotExecutable},
	{status.ErrFailed, FaultFailed},
	{status.ErrAbnormalTermination, FaultAbnormalTermination},
	{status.ErrSpawnError, FaultSpawnError},
	{status.ErrAlreadyStarted, FaultAlreadyStarted},
	{status.ErrNotRunning, FaultNotRunning},
	{status.ErrAlreadyAdded, FaultAlreadyAdded},
	{status.ErrStillRunning, FaultStillRunning},
	{status.ErrCantReread, FaultCantReread},
	{status.ErrShutdownState, FaultShutdownState},
	{status.ErrBadArguments, FaultBadArguments},
}

// Fault is an XML-RPC fault: what a method answers instead of a value.
// The client returns it as the error of a call; it unwraps to the
// matching kind of internal/status, so errors.Is(err,
// status.ErrNotRunning) works on a client's error.
type Fault struct {
	Code   int
	String string // "NAME" or "NAME: detail", as Supervisor writes it
}

func (f *Fault) Error() string { return f.String }

// Unwrap returns the status kind of the fault's code, or nil.
func (f *Fault) Unwrap() error {
	for _, kc := range kindCodes {
		if kc.code == f.Code {
			return kc.kind
		}
	}
	return nil
}

// newFault builds Supervisor's RPCError(code, extra): the fault string is
// the code's name, then ": extra" when there is an extra.
func newFault(code int, extra ...string) *Fault {
	s := FaultName(code)
	if len(extra) > 0 {
		s += ": " + extra[0]
	}
	return &Fault{Code: code, String: s}
}

// toFault turns a backend's error into the fault Supervisor would send.
// name is what the client gave, for the kinds whose detail is the name
// when the backend gave none. An error of no known kind is FAILED with
// its text.
func toFault(err error, name string) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	kind, detail := status.KindOf(err)
	if kind == nil {
		return newFault(FaultFailed, err.Error())
	}
	code := FaultFailed
	for _, kc := range kindCodes {
		if kc.kind == kind {
			code = kc.code
			break
		}
	}
	if detail != "" {
		return newFault(code, detail)
	}
	switch code {
	case FaultBadName, FaultSpawnError, FaultAlreadyStarted, FaultNotRunning,
		FaultAbnormalTermination, FaultAlreadyAdded, FaultStillRunning:
		return newFault(code, name)
	}
	return newFault(code)
}
