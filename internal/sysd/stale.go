package sysd

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Under supervisord a group stays active ("in use") after its section
// left the configuration, until update or remove takes it out: status
// shows it, stop stops it, remove removes it. ctl reads the
// configuration anew for every command, so it finds such groups where
// they are: the service files in the unit directory that this
// configuration generated earlier and generates no more. Each names its
// process in SUPERVISOR_GROUP_NAME and SUPERVISOR_PROCESS_NAME.

// findStale adds, once per Manager, the processes of such units to the
// known ones. dir is the unit directory, or "" to ask the manager.
func (m *Manager) findStale(ctx context.Context, dir string) error {
	m.mu.Lock()
	done, cfg := m.staleDone, m.cfg
	known := make(map[string]bool, len(m.procs))
	for _, p := range m.procs {
		known[p.unit] = true
	}
	m.mu.Unlock()
	if done {
		return nil
	}
	if dir == "" {
		d, _, err := m.unitDir(ctx)
		if err != nil {
			return err
		}
		dir = d
	}
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		m.setStaleDone()
		return nil
	}
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1) // unsorted, no types: the cheapest listing
	f.Close()
	if err != nil {
		return err
	}
	var found []staleUnit
	for _, name := range names {
		if known[name] || !strings.HasSuffix(name, unitgen.Service) {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			continue // a link or directory is never a unit supersede wrote
		}
		data, err := os.ReadFile(path)
		if err != nil || unitgen.GeneratedFrom(data) != cfg.File {
			continue // gone meanwhile, or not this config's
		}
		if group, pname, ok := staleProc(data); ok {
			found = append(found, staleUnit{group: group, name: pname, unit: name, p: staleConfig(group, pname, data)})
		}
	}
	m.addStale(found)
	m.setStaleDone()
	return nil
}

func (m *Manager) setStaleDone() {
	m.mu.Lock()
	m.staleDone = true
	m.mu.Unlock()
}

// staleUnit is a process whose unit the configuration no longer has.
type staleUnit struct {
	group, name, unit string
	p                 *translate.Process // its configuration when an earlier one is known, else nil
}

// addStale adds the processes of found to the known ones, with their
// groups, except those whose group is still configured or known.
func (m *Manager) addStale(found []staleUnit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	merged := *m.cfg
	merged.Groups = slices.Clone(m.cfg.Groups)
	procs := slices.Clip(m.procs)
	groups := map[string]*translate.Group{}
	changed := false
	for _, s := range found {
		if _, ok := m.byName[s.group+":"+s.name]; ok {
			continue
		}
		if i := slices.IndexFunc(m.cfg.Groups, func(g *translate.Group) bool { return g.Name == s.group }); i >= 0 || m.configured(s.group) {
			// A process its group no longer has, the group still
			// configured (numprocs given to a program, a program taken
			// out of a [group:]): still in use with that group, as
			// under supervisord until update, which stops and removes
			// it with the group's other processes. It joins the
			// group's processes here, not its configuration, from
			// which AddGroup writes the group's units anew.
			if i < 0 {
				continue // the config read last has it, this Manager's not yet
			}
			p := s.p
			if p == nil {
				p = &translate.Process{Name: s.name, Group: s.group}
			}
			pr := &proc{p: p, g: m.cfg.Groups[i], unit: s.unit, path: unitPath(s.unit)}
			procs = append(procs, pr)
			m.byName[s.group+":"+s.name] = pr
			changed = true
			continue
		}
		g := groups[s.group]
		if g == nil {
			g = &translate.Group{Name: s.group}
			groups[s.group] = g
			merged.Groups = append(merged.Groups, g)
		}
		p := s.p
		if p == nil {
			p = &translate.Process{Name: s.name, Group: s.group}
		}
		g.Processes = append(g.Processes, p)
		pr := &proc{p: p, g: g, unit: s.unit, path: unitPath(s.unit)}
		procs = append(procs, pr)
		m.byName[s.group+":"+s.name] = pr
	}
	if len(groups) > 0 {
		m.cfg = &merged
	}
	if len(groups) > 0 || changed {
		m.procs = procs
	}
}

// configured reports whether the configuration read last has group.
// Called with mu held.
func (m *Manager) configured(group string) bool {
	cfg := m.next
	if cfg == nil {
		cfg = m.base
	}
	return slices.ContainsFunc(cfg.Groups, func(g *translate.Group) bool { return g.Name == group })
}

// staleConfig is what a unit file tells of its process's configuration:
// enough for avail (autostart: the unit is wanted by the boot target).
func staleConfig(group, name string, data []byte) *translate.Process {
	p := &translate.Process{Name: name, Group: group}
	_, install, _ := strings.Cut(string(data), "\n[Install]\n")
	p.AutoStart = strings.Contains(install, "WantedBy=")
	return p
}

// Converted reports whether the units of the config are loaded in the
// manager: its anchor target is loaded from a unit file generated from
// this config.
func (m *Manager) Converted(ctx context.Context) (bool, error) {
	_, dir, err := m.readUnits(ctx, nil, true)
	if err != nil || dir == "" {
		return false, err
	}
	data, err := os.ReadFile(filepath.Join(dir, m.anchor()))
	if err != nil {
		return false, nil
	}
	m.mu.Lock()
	file := m.base.File
	m.mu.Unlock()
	return unitgen.GeneratedFrom(data) == file, nil
}
