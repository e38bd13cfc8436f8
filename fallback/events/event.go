package events

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/status"
)

// Event is one event as a listener receives it: its type and its payload,
// the exact text Supervisor 4.2.5's events.py renders. Build events with
// the New* functions; the Bus numbers them when it publishes them.
type Event struct {
	Type    Type
	Payload string
}

// Source is the process an output event is about.
type Source struct {
	Name  string // process name (processname:)
	Group string // its group's name (groupname:)
	PID   int
}

// Channel is an output channel of a process.
type Channel int

// The output channels.
const (
	Stdout Channel = iota
	Stderr
)

// String is the channel's name ("stdout").
func (c Channel) String() string {
	if c == Stderr {
		return "stderr"
	}
	return "stdout"
}

// StateChange is a process's move into a new state, with the values its
// PROCESS_STATE_* payload carries. Supervisor renders them when the state
// changes, so give the values of that moment.
type StateChange struct {
	Name     string       // processname:
	Group    string       // groupname:
	From, To status.State // from_state:, and the event type
	Tries    int          // tries: for STARTING and BACKOFF (Supervisor's backoff counter)
	Expected bool         // expected: for EXITED
	PID      int          // pid: for EXITED, RUNNING, STOPPING and STOPPED (0 when none)
}

// NewProcessState is the PROCESS_STATE_<To> event of c:
// "processname:P groupname:G from_state:S" then "tries:N" (STARTING,
// BACKOFF), "expected:0|1 pid:N" (EXITED) or "pid:N" (RUNNING, STOPPING,
// STOPPED), space-separated, with no trailing newline.
func NewProcessState(c StateChange) Event {
	t := StateType(c.To)
	b := make([]byte, 0, 64+len(c.Name)+len(c.Group))
	b = append(b, "processname:"...)
	b = append(b, c.Name...)
	b = append(b, " groupname:"...)
	b = append(b, c.Group...)
	b = append(b, " from_state:"...)
	b = append(b, c.From.String()...)
	switch t {
	case ProcessStateStarting, ProcessStateBackoff:
		b = append(b, " tries:"...)
		b = strconv.AppendInt(b, int64(c.Tries), 10)
	case ProcessStateExited:
		b = append(b, " expected:"...)
		if c.Expected {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		fallthrough
	case ProcessStateRunning, ProcessStateStopping, ProcessStateStopped:
		b = append(b, " pid:"...)
		b = strconv.AppendInt(b, int64(c.PID), 10)
	}
	return Event{Type: t, Payload: string(b)}
}

// NewProcessLog is the PROCESS_LOG_STDOUT or _STDERR event of one chunk
// of output: "processname:P groupname:G pid:N channel:C\n" then data, or
// "Undecodable: b'...'" (Python's repr) when data is not UTF-8.
func NewProcessLog(ch Channel, src Source, data []byte) Event {
	t := ProcessLogStdout
	if ch == Stderr {
		t = ProcessLogStderr
	}
	b := appendSource(nil, src)
	b = append(b, " channel:"...)
	b = append(b, ch.String()...)
	b = append(b, '\n')
	return Event{Type: t, Payload: string(appendData(b, data))}
}

// NewProcessCommunication is the PROCESS_COMMUNICATION_STDOUT or _STDERR
// event of data a process wrote between <!--XSUPERVISOR:BEGIN--> and
// <!--XSUPERVISOR:END-->: "processname:P groupname:G pid:N\n" then data
// (or "Undecodable: b'...'").
func NewProcessCommunication(ch Channel, src Source, data []byte) Event {
	t := ProcessCommunicationStdout
	if ch == Stderr {
		t = ProcessCommunicationStderr
	}
	b := append(appendSource(nil, src), '\n')
	return Event{Type: t, Payload: string(appendData(b, data))}
}

// The tokens that delimit a process communication in its output
// (ProcessCommunicationEvent.BEGIN_TOKEN and END_TOKEN).
const (
	CommunicationBegin = "<!--XSUPERVISOR:BEGIN-->"
	CommunicationEnd   = "<!--XSUPERVISOR:END-->"
)

// NewRemoteCommunication is the REMOTE_COMMUNICATION event that the
// supervisor.sendRemoteCommEvent(type, data) call sends: "type:T\n" then
// data.
func NewRemoteCommunication(typ, data string) Event {
	return Event{Type: RemoteCommunication, Payload: "type:" + typ + "\n" + data}
}

// NewSupervisorRunning is SUPERVISOR_STATE_CHANGE_RUNNING, which
// supervisord publishes once its groups are added; its payload is empty.
func NewSupervisorRunning() Event { return Event{Type: SupervisorStateChangeRunning} }

// NewSupervisorStopping is SUPERVISOR_STATE_CHANGE_STOPPING, which
// supervisord publishes when it starts to shut down (or restart); its
// payload is empty.
func NewSupervisorStopping() Event { return Event{Type: SupervisorStateChangeStopping} }

// NewProcessGroupAdded is PROCESS_GROUP_ADDED: "groupname:G\n".
func NewProcessGroupAdded(group string) Event {
	return Event{Type: ProcessGroupAdded, Payload: "groupname:" + group + "\n"}
}

// NewProcessGroupRemoved is PROCESS_GROUP_REMOVED: "groupname:G\n".
func NewProcessGroupRemoved(group string) Event {
	return Event{Type: ProcessGroupRemoved, Payload: "groupname:" + group + "\n"}
}

// NewTick is the TICK_5, TICK_60 or TICK_3600 event for now:
// "when:<epoch seconds rounded down to the period>". It returns false for
// any other type.
func NewTick(t Type, now time.Time) (Event, bool) {
	for _, p := range tickPeriods {
		if p.t == t {
			return Event{Type: t, Payload: "when:" + strconv.FormatInt(timeslice(p.period, now), 10)}, true
		}
	}
	return Event{}, false
}

// timeslice is supervisord's timeslice(period, when):
// int(when - (when % period)) for a float when. Python's % has the sign
// of the divisor, so this is floor(when/period)*period, before 1970 too.
func timeslice(period int64, now time.Time) int64 {
	s := now.Unix() // floor of the float seconds, fraction dropped
	r := s % period
	if r < 0 {
		r += period
	}
	return s - r
}

func appendSource(b []byte, src Source) []byte {
	b = append(b, "processname:"...)
	b = append(b, src.Name...)
	b = append(b, " groupname:"...)
	b = append(b, src.Group...)
	b = append(b, " pid:"...)
	return strconv.AppendInt(b, int64(src.PID), 10)
}

// appendData appends data as Supervisor's payloads render output:
// as_string(data), or 'Undecodable: %r' % data when it is not UTF-8.
func appendData(b, data []byte) []byte {
	if utf8.Valid(data) {
		return append(b, data...)
	}
	b = append(b, "Undecodable: "...)
	return appendBytesRepr(b, data)
}

// appendBytesRepr appends Python's repr() of a bytes object. Written by
// hand: it is a dozen lines and no Go library renders Python literals.
func appendBytesRepr(b, data []byte) []byte {
	const hex = "0123456789abcdef"
	quote := byte('\'')
	if bytes.IndexByte(data, '\'') >= 0 && bytes.IndexByte(data, '"') < 0 {
		quote = '"'
	}
	b = append(b, 'b', quote)
	for _, c := range data {
		switch {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < ' ' || c >= 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, quote)
}
