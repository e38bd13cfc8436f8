package status

import (
	"fmt"
	"time"
)

// State is a Supervisor process state.
type State int

// The states of Supervisor's process state machine (supervisor.md §7).
const (
	Stopped State = iota
	Starting
	Running
	Backoff
	Stopping
	Exited
	Fatal
	Unknown
)

var stateNames = [...]string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}

// String is the state's name as supervisorctl prints it ("RUNNING").
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "UNKNOWN"
	}
	return stateNames[s]
}

// ParseState is the inverse of String.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return Unknown, false
}

// IsStopped reports whether s is one of Supervisor's STOPPED_STATES
// (STOPPED, EXITED, FATAL, UNKNOWN).
func (s State) IsStopped() bool {
	return s == Stopped || s == Exited || s == Fatal || s == Unknown
}

// IsRunning reports whether s is one of Supervisor's RUNNING_STATES
// (STARTING, RUNNING, BACKOFF).
func (s State) IsRunning() bool {
	return s == Starting || s == Running || s == Backoff
}

// IsSignallable reports whether a signal may be sent in state s
// (STARTING, RUNNING, STOPPING).
func (s State) IsSignallable() bool {
	return s == Starting || s == Running || s == Stopping
}

// Process is one process's status, the fields of Supervisor's
// getProcessInfo in Go words.
type Process struct {
	Name       string
	Group      string
	State      State
	PID        int       // 0 when not running
	Start      time.Time // last start; zero if never started
	Stop       time.Time // last stop; zero if never stopped
	ExitStatus int       // last exit status; -1 after death by a signal
	SpawnErr   string    // why the last start failed, "" if none
	StdoutLog  string    // stdout log file, "" if none
	StderrLog  string    // stderr log file, "" if none
}

// Namespec is "group:name", or "name" when group and name are the same.
func (p Process) Namespec() string {
	if p.Group == p.Name {
		return p.Name
	}
	return p.Group + ":" + p.Name
}

// Description is the text supervisorctl shows after the state, as
// Supervisor's rpcinterface builds it (supervisor.md §8.4): "pid N,
// uptime H:MM:SS" when running, the stop time when stopped, the spawn
// error in BACKOFF and FATAL. now is the server's clock; loc is where
// the stop time is written (Supervisor uses the server's local time).
func Description(p Process, now time.Time, loc *time.Location) string {
	switch p.State {
	case Running:
		up := now.Sub(p.Start)
		if p.Start.IsZero() || up < 0 {
			up = 0
		}
		return fmt.Sprintf("pid %d, uptime %s", p.PID, Uptime(up))
	case Stopped, Exited:
		if p.Start.IsZero() {
			return "Not started"
		}
		stop := p.Stop
		if stop.IsZero() {
			stop = time.Unix(0, 0) // Supervisor formats a stop time of 0 as is
		}
		return stop.In(loc).Format("Jan 02 03:04 PM")
	case Backoff, Fatal:
		if p.SpawnErr == "" {
			// rpcinterface._interpretProcessInfo names the process, not
			// the namespec.
			return fmt.Sprintf("unknown error (try \"tail %s\")", p.Name)
		}
		return p.SpawnErr
	}
	return ""
}

// Uptime formats d as Python formats a datetime.timedelta of whole
// seconds: "0:00:05", "1 day, 2:03:04", "3 days, 0:00:01".
func Uptime(d time.Duration) string {
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	hms := fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}
