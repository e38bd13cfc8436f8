package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/renameio/v2"
)

// State is the migration's record, kept in the state file: what the host
// was like before (each program's state, how supervisord was started),
// every file migrate wrote, and each step, recorded before it is taken
// and marked done after. A migration that was killed half-way is
// resumed (each step is idempotent: a begun step is taken again) or
// rolled back (each begun step is undone) from it.
type State struct {
	Version   int    `json:"version"`
	Config    string `json:"config"` // the main configuration file, absolute
	Scope     string `json:"scope"`  // "system" or "user"
	UnitDir   string `json:"unitDir"`
	Prefix    string `json:"prefix,omitempty"`
	LogFiles  bool   `json:"logFiles,omitempty"`
	ServerURL string `json:"serverURL"`

	// Before is each process's Supervisor state (namespec → "RUNNING")
	// when migrate first looked; a group's entries are read again just
	// before the group is stopped.
	Before map[string]string `json:"before"`

	Supervisord Daemon `json:"supervisord"`

	Files []File `json:"files,omitempty"` // unit files migrate created or replaced
	Links []File `json:"links,omitempty"` // symlinks migrate created (Path, Target)
	Steps []Step `json:"steps,omitempty"`

	path string
}

// Daemon is how the supervisord that ran the programs was started, so
// that a rollback can start it the same way.
type Daemon struct {
	PID  int      `json:"pid"`
	Argv []string `json:"argv,omitempty"`
	Dir  string   `json:"dir,omitempty"`
	Env  []string `json:"env,omitempty"`
	// Unit is the service unit that started it ("supervisor.service"),
	// "" when it was started otherwise; UnitScope is its manager.
	Unit       string `json:"unit,omitempty"`
	UnitScope  string `json:"unitScope,omitempty"`
	WasEnabled bool   `json:"wasEnabled,omitempty"` // the unit was enabled before migrate disabled it
	Cgroup     string `json:"cgroup,omitempty"`
}

// File is one file migrate wrote: Created, or replaced (Old is what was
// there); for a link, Target.
type File struct {
	Path    string `json:"path"`
	Group   string `json:"group,omitempty"` // "" for the host's units (anchor, serve)
	Created bool   `json:"created,omitempty"`
	Old     []byte `json:"old,omitempty"`
	Target  string `json:"target,omitempty"`
}

// Step is one step of the migration.
type Step struct {
	Op    string    `json:"op"`
	Group string    `json:"group,omitempty"`
	Begun time.Time `json:"begun"`
	Done  bool      `json:"done,omitempty"`
}

// The steps, in the order they are taken. Per group: units, stop, start
// (and back, when its units did not reach RUNNING); then once for the
// host.
const (
	opUnits    = "units"    // write and load the group's units
	opStop     = "stop"     // stop the group in supervisord
	opStart    = "start"    // start the units, wait for RUNNING
	opBack     = "back"     // the group failed: stop its units, start it in supervisord, remove its units
	opHost     = "host"     // write and load the anchor target and the serve units
	opShutdown = "shutdown" // stop supervisord
	opDisable  = "disable"  // disable the unit that started supervisord
	opEnable   = "enable"   // enable the anchor target, start the serve socket
	opLink     = "link"     // supervisorctl on PATH drives the units
	opDone     = "done"
)

const stateVersion = 1

// loadState reads the state file; nil, nil when there is none.
func loadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: not a migration state file (%v): move it away if it is not supersede's", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: state file version %d, this supersede reads %d", path, st.Version, stateVersion)
	}
	st.path = path
	return &st, nil
}

// save writes the state file atomically (renameio: a temporary file in
// the same directory, fsynced, renamed over it), mode 0600: it holds
// supervisord's environment.
func (st *State) save() error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(st.path), 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(st.path, append(data, '\n'), 0o600, renameio.WithStaticPermissions(0o600))
}

// remove deletes the state file.
func (st *State) remove() error {
	err := os.Remove(st.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (st *State) find(op, group string) *Step {
	for i := range st.Steps {
		if st.Steps[i].Op == op && st.Steps[i].Group == group {
			return &st.Steps[i]
		}
	}
	return nil
}

// begun reports whether a step was recorded (taken, or under way when
// migrate stopped).
func (st *State) begun(op, group string) bool { return st.find(op, group) != nil }

// done reports whether a step was completed.
func (st *State) done(op, group string) bool {
	s := st.find(op, group)
	return s != nil && s.Done
}

// groups are the groups the steps name, in the order of their first
// step.
func (st *State) groups() []string {
	var out []string
	for _, s := range st.Steps {
		if s.Group != "" && !slices.Contains(out, s.Group) {
			out = append(out, s.Group)
		}
	}
	return out
}

// forgetGroup drops a group's steps and files: after a group was moved
// back, a later run moves it afresh.
func (st *State) forgetGroup(group string) {
	st.Steps = slices.DeleteFunc(st.Steps, func(s Step) bool { return s.Group == group })
	st.Files = slices.DeleteFunc(st.Files, func(f File) bool { return f.Group == group })
}

// record notes a file about to be written, unless it is recorded already
// (a resumed step writes the same files again).
func (st *State) record(f File) {
	for _, g := range st.Files {
		if g.Path == f.Path {
			return
		}
	}
	st.Files = append(st.Files, f)
}
