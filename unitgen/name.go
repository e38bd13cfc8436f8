package unitgen

import (
	"errors"
	"fmt"
	"strings"

	"github.com/supersede/supersede/translate"
)

// Unit type suffixes.
const (
	Service = ".service"
	Target  = ".target"
	Socket  = ".socket"
)

// MaxNameLen is systemd's limit on the length of a unit name.
const MaxNameLen = 255

// ErrName is returned when a name cannot become a unit name.
var ErrName = errors.New("bad unit name")

// UnitName is the one function that names supersede's units. name is a
// Supervisor namespec or a group name: "gunicorn" becomes
// PREFIXgunicorn.service, and "web:web_00" (a process of group web)
// becomes PREFIXweb@web_00.service, an instance of web@, so a drop-in in
// web@.service.d/ applies to the whole group and `systemctl status
// 'web@*'` lists it. Each part is escaped (see escapeName), so the mapping
// is one-to-one. Every front end maps Supervisor names to units through
// this function, so `supersede ctl restart web:web_00` finds the unit
// convert wrote.
func UnitName(prefix, name, suffix string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrName)
	}
	n := escapeName(prefix) + escapeName(name) + suffix
	if group, proc, ok := strings.Cut(name, ":"); ok {
		if group == "" || proc == "" {
			return "", fmt.Errorf("%w: %q has an empty group or process name", ErrName, name)
		}
		n = escapeName(prefix) + escapeName(group) + "@" + escapeName(proc) + suffix
	}
	if len(n) > MaxNameLen {
		return "", fmt.Errorf("%w: %q would be %d characters long, more than systemd's %d", ErrName, n[:40]+"…", len(n), MaxNameLen)
	}
	return n, nil
}

// ServiceName is the name of the service unit of process p.
func ServiceName(prefix string, p *translate.Process) (string, error) {
	return UnitName(prefix, p.Namespec(), Service)
}

// GroupTarget is the name of the target unit of group g, or "" when g
// needs none: a group gets a target when any of its processes is named
// differently from the group ([group:x] sections, numprocs), which is
// when supervisorctl addresses it as "g:*".
func GroupTarget(prefix string, g *translate.Group) (string, error) {
	if !hasTarget(g) {
		return "", nil
	}
	return UnitName(prefix, g.Name, Target)
}

func hasTarget(g *translate.Group) bool {
	for _, p := range g.Processes {
		if p.Name != g.Name {
			return true
		}
	}
	return false
}

// anchorName is the target that keeps every generated unit loaded, so
// that a program's last exit status survives systemd's garbage
// collection (reference/systemd.md §5.3). A group of the same name is
// refused.
const anchorName = "supersede"

// AnchorTarget is the name of the anchor target for prefix.
func AnchorTarget(prefix string) string {
	n, _ := UnitName(prefix, anchorName, Target)
	return n
}
