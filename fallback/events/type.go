package events

import "github.com/supersede/supersede/internal/status"

// Type is an event type of Supervisor 4.2.5 (supervisor.md §10), named as
// in events.EventTypes. Abstract types (Any, ProcessState, ProcessLog, ...)
// are never published themselves; subscribing to one subscribes to all of
// its subtypes, as Supervisor's isinstance test does.
type Type uint8

// The event types, in the order of Supervisor's EventTypes class.
const (
	Any                           Type = iota // EVENT (abstract)
	ProcessState                              // PROCESS_STATE (abstract)
	ProcessStateStopped                       // PROCESS_STATE_STOPPED
	ProcessStateExited                        // PROCESS_STATE_EXITED
	ProcessStateStarting                      // PROCESS_STATE_STARTING
	ProcessStateStopping                      // PROCESS_STATE_STOPPING
	ProcessStateBackoff                       // PROCESS_STATE_BACKOFF
	ProcessStateFatal                         // PROCESS_STATE_FATAL
	ProcessStateRunning                       // PROCESS_STATE_RUNNING
	ProcessStateUnknown                       // PROCESS_STATE_UNKNOWN
	ProcessCommunication                      // PROCESS_COMMUNICATION (abstract)
	ProcessCommunicationStdout                // PROCESS_COMMUNICATION_STDOUT
	ProcessCommunicationStderr                // PROCESS_COMMUNICATION_STDERR
	ProcessLog                                // PROCESS_LOG (abstract)
	ProcessLogStdout                          // PROCESS_LOG_STDOUT
	ProcessLogStderr                          // PROCESS_LOG_STDERR
	RemoteCommunication                       // REMOTE_COMMUNICATION
	SupervisorStateChange                     // SUPERVISOR_STATE_CHANGE (abstract)
	SupervisorStateChangeRunning              // SUPERVISOR_STATE_CHANGE_RUNNING
	SupervisorStateChangeStopping             // SUPERVISOR_STATE_CHANGE_STOPPING
	Tick                                      // TICK (abstract)
	Tick5                                     // TICK_5
	Tick60                                    // TICK_60
	Tick3600                                  // TICK_3600
	ProcessGroup                              // PROCESS_GROUP (abstract)
	ProcessGroupAdded                         // PROCESS_GROUP_ADDED
	ProcessGroupRemoved                       // PROCESS_GROUP_REMOVED
	numTypes
)

var types = [numTypes]struct {
	name     string
	parent   Type // Any for Any itself
	abstract bool
}{
	Any:                           {"EVENT", Any, true},
	ProcessState:                  {"PROCESS_STATE", Any, true},
	ProcessStateStopped:           {"PROCESS_STATE_STOPPED", ProcessState, false},
	ProcessStateExited:            {"PROCESS_STATE_EXITED", ProcessState, false},
	ProcessStateStarting:          {"PROCESS_STATE_STARTING", ProcessState, false},
	ProcessStateStopping:          {"PROCESS_STATE_STOPPING", ProcessState, false},
	ProcessStateBackoff:           {"PROCESS_STATE_BACKOFF", ProcessState, false},
	ProcessStateFatal:             {"PROCESS_STATE_FATAL", ProcessState, false},
	ProcessStateRunning:           {"PROCESS_STATE_RUNNING", ProcessState, false},
	ProcessStateUnknown:           {"PROCESS_STATE_UNKNOWN", ProcessState, false},
	ProcessCommunication:          {"PROCESS_COMMUNICATION", Any, true},
	ProcessCommunicationStdout:    {"PROCESS_COMMUNICATION_STDOUT", ProcessCommunication, false},
	ProcessCommunicationStderr:    {"PROCESS_COMMUNICATION_STDERR", ProcessCommunication, false},
	ProcessLog:                    {"PROCESS_LOG", Any, true},
	ProcessLogStdout:              {"PROCESS_LOG_STDOUT", ProcessLog, false},
	ProcessLogStderr:              {"PROCESS_LOG_STDERR", ProcessLog, false},
	RemoteCommunication:           {"REMOTE_COMMUNICATION", Any, false},
	SupervisorStateChange:         {"SUPERVISOR_STATE_CHANGE", Any, true},
	SupervisorStateChangeRunning:  {"SUPERVISOR_STATE_CHANGE_RUNNING", SupervisorStateChange, false},
	SupervisorStateChangeStopping: {"SUPERVISOR_STATE_CHANGE_STOPPING", SupervisorStateChange, false},
	Tick:                          {"TICK", Any, true},
	Tick5:                         {"TICK_5", Tick, false},
	Tick60:                        {"TICK_60", Tick, false},
	Tick3600:                      {"TICK_3600", Tick, false},
	ProcessGroup:                  {"PROCESS_GROUP", Any, true},
	ProcessGroupAdded:             {"PROCESS_GROUP_ADDED", ProcessGroup, false},
	ProcessGroupRemoved:           {"PROCESS_GROUP_REMOVED", ProcessGroup, false},
}

// String is the type's Supervisor name ("PROCESS_STATE_RUNNING"), the
// word of events= lines and of the eventname: header token.
func (t Type) String() string {
	if t >= numTypes {
		return "EVENT"
	}
	return types[t].name
}

// ParseType returns the type Supervisor names name (upper case, as
// events= values are after Supervisor upper-cases them).
func ParseType(name string) (Type, bool) {
	for t := range numTypes {
		if types[t].name == name {
			return t, true
		}
	}
	return 0, false
}

// Is reports whether an event of type t is delivered to a subscriber of
// super: t is super or one of its subtypes.
func (t Type) Is(super Type) bool {
	if t >= numTypes {
		return false
	}
	for {
		if t == super {
			return true
		}
		if t == Any {
			return false
		}
		t = types[t].parent
	}
}

// Abstract reports whether t is only a subscription word (EVENT,
// PROCESS_STATE, ...) that no event is ever published as.
func (t Type) Abstract() bool { return t < numTypes && types[t].abstract }

// StateType is the PROCESS_STATE_* type of a change into s.
func StateType(s status.State) Type {
	switch s {
	case status.Stopped:
		return ProcessStateStopped
	case status.Starting:
		return ProcessStateStarting
	case status.Running:
		return ProcessStateRunning
	case status.Backoff:
		return ProcessStateBackoff
	case status.Stopping:
		return ProcessStateStopping
	case status.Exited:
		return ProcessStateExited
	case status.Fatal:
		return ProcessStateFatal
	}
	return ProcessStateUnknown
}

// tickPeriods are the concrete TICK types and their periods in seconds,
// Supervisor's TICK_EVENTS.
var tickPeriods = [...]struct {
	t      Type
	period int64
}{{Tick5, 5}, {Tick60, 60}, {Tick3600, 3600}}

// ListenerState is where an event listener process is in the protocol
// (Supervisor's EventListenerStates).
type ListenerState int

// The listener protocol states. A listener starts Acknowledged (awaiting
// READY), is Ready for one event, Busy while it handles it, Acknowledged
// again after its RESULT; Unknown after a protocol error, for good.
const (
	ListenerReady        ListenerState = 10
	ListenerBusy         ListenerState = 20
	ListenerAcknowledged ListenerState = 30
	ListenerUnknown      ListenerState = 40
)

// String is the state's name as Supervisor logs it ("READY").
func (s ListenerState) String() string {
	switch s {
	case ListenerReady:
		return "READY"
	case ListenerBusy:
		return "BUSY"
	case ListenerAcknowledged:
		return "ACKNOWLEDGED"
	case ListenerUnknown:
		return "UNKNOWN"
	}
	return "None"
}
