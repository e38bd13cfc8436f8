package sysd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Under systemd, Supervisor's "active process groups" are the groups
// whose service units the manager has loaded, and its configuration
// changes are unit file changes:
//
//   - Reload (reread) reads the config again, generates its units as
//     convert (or the generator) would, and compares them with the unit
//     files in place: a group without loaded units is added, one whose
//     Supervisor configuration differs (the digests in the units'
//     headers, unitChanged) is changed, and a group whose units this config
//     generated earlier but no longer does is removed (its names come
//     from those files' SUPERVISOR_GROUP_NAME/SUPERVISOR_PROCESS_NAME).
//   - AddGroup writes the group's units (and the anchor target), reloads
//     the manager and starts the group's autostart processes.
//   - RemoveGroup deletes the group's unit files and reloads the manager.
//
// When the units come from the generator (they live in its output
// directory), the manager's daemon-reload regenerates them all from the
// config: AddGroup and RemoveGroup reload instead of writing files.

// anchor is the anchor target of the units.
func (m *Manager) anchor() string { return unitgen.AnchorTarget(m.opts.Prefix) }

// unitDir is the directory the units live in: the one the anchor
// target was loaded from, else the scope's administrator directory (where
// `update` installs the units of a config that has none yet). generated reports a generator's directory.
func (m *Manager) unitDir(ctx context.Context) (dir string, generated bool, err error) {
	v, err := m.unitProperty(ctx, m.anchor(), "FragmentPath")
	if err != nil {
		return "", false, fmt.Errorf("%s FragmentPath: %w", m.anchor(), err)
	}
	if p, _ := v.(string); p != "" {
		dir = filepath.Dir(p)
		return dir, strings.HasPrefix(filepath.Base(dir), "generator"), nil
	}
	if m.opts.Scope == System {
		return "/etc/systemd/system", false, nil
	}
	base := m.getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := m.getenv("HOME")
		if home == "" {
			return "", false, errors.New("neither XDG_CONFIG_HOME nor HOME is set: cannot find the user unit directory (set HOME, or convert the units first with supersede convert --user -o DIR)")
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "systemd/user"), false, nil
}

// generate makes the units of cfg, in dir, as convert or the generator
// did: with the compatibility step the units of cfg in dir already run
// (unitgen.ShimIn), or, when none is there yet, the one of
// Options.Shim (none for a generator's directory, as the generator
// decides for itself).
func (m *Manager) generate(cfg *translate.Config, dir string, generated bool) (*unitgen.Result, error) {
	shim, found, err := unitgen.ShimIn(dir, cfg.File)
	if err != nil {
		return nil, err
	}
	if !found && !generated {
		shim = m.opts.Shim
	}
	opts := unitgen.Options{Prefix: m.opts.Prefix, User: m.opts.Scope == User, LogFiles: m.opts.LogFiles,
		Environ: m.opts.Load.Environ, Dir: m.opts.Load.Dir, Shim: shim}
	if generated {
		opts = unitgen.Options{User: m.opts.Scope == User, Environ: m.opts.Load.Environ, Dir: "/", Shim: shim}
	}
	return unitgen.Generate(cfg, opts)
}

// cantReread is Supervisor's CANT_REREAD fault for err.
func cantReread(err error) error {
	return &status.Error{Kind: status.ErrCantReread, Detail: err.Error()}
}

// staleProc is a process whose unit this config generated earlier but
// generates no more, read back from the unit file.
func staleProc(data []byte) (group, name string, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, found := strings.CutPrefix(line, "Environment=")
		if !found {
			continue
		}
		rest = strings.Trim(rest, `"`)
		if v, found := strings.CutPrefix(rest, "SUPERVISOR_GROUP_NAME="); found {
			group = v
		}
		if v, found := strings.CutPrefix(rest, "SUPERVISOR_PROCESS_NAME="); found {
			name = v
		}
	}
	return group, name, group != "" && name != ""
}

// Reload reads the config again and compares its units with those in
// place (supervisord's reloadConfig).
func (m *Manager) Reload(ctx context.Context) (added, changed, removed []string, err error) {
	cfg, err := translate.Load(m.opts.ConfigPath, m.opts.Load)
	if err != nil {
		return nil, nil, nil, cantReread(err)
	}
	dir, generated, err := m.unitDir(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	res, err := m.generate(cfg, dir, generated)
	if err != nil {
		return nil, nil, nil, cantReread(err)
	}
	changes, err := unitgen.Plan(dir, res, unitgen.WriteOptions{Prune: true, DryRun: true})
	if err != nil {
		return nil, nil, nil, cantReread(err)
	}
	// the processes of groups that are gone join the known ones, so
	// that update can stop and remove them
	m.mu.Lock()
	old := m.cfg
	m.mu.Unlock()
	if err := m.setConfig(cfg); err != nil {
		return nil, nil, nil, cantReread(err)
	}
	m.mu.Lock()
	m.gen = res
	m.next = cfg
	m.mu.Unlock()
	var found []staleUnit
	for _, c := range changes {
		if c.Action != unitgen.Remove || !strings.HasSuffix(c.Path, unitgen.Service) {
			continue
		}
		gname, pname, ok := staleProc(c.Old)
		if !ok {
			continue
		}
		p := staleConfig(gname, pname, c.Old)
		for _, og := range old.Groups { // the config this Manager was made with may still know it
			for _, op := range og.Processes {
				if op.Group == gname && op.Name == pname {
					p = op
				}
			}
		}
		found = append(found, staleUnit{group: gname, name: pname, unit: filepath.Base(c.Path), p: p})
	}
	m.addStale(found)
	m.setStaleDone()

	a, err := m.snapshot(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	updated := map[string]bool{}
	var reorder []unitgen.Change
	for _, c := range changes {
		switch {
		case c.Action == unitgen.Create && strings.HasSuffix(c.Path, unitgen.Service):
			// a group in use that gains a process (groupChanged); a
			// target or socket new to a group is the mapping's
			updated[filepath.Base(c.Path)] = true
		case c.Action != unitgen.Update:
		case unitChanged(c.Old, c.New):
			updated[filepath.Base(c.Path)] = true
		case !generated && (strings.HasSuffix(c.Path, unitgen.Service) || unitgen.UnitDigest(c.Old) != ""):
			reorder = append(reorder, c)
		}
	}
	// A program whose unit differs but whose configuration does not (a
	// program of lower priority came or went and reordered it, or this
	// supersede maps a config otherwise than the one that wrote the unit)
	// is not changed, as under supervisord, but its unit file is brought
	// in step with the config now; nothing is restarted. The generator's
	// units are rewritten by the generator at daemon-reload.
	if len(reorder) > 0 {
		if err := unitgen.Apply(dir, reorder, false); err != nil {
			return nil, nil, nil, &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
		if err := m.daemonReload(ctx); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, g := range cfg.Groups {
		if !slices.Contains(a.groups, g.Name) {
			added = append(added, g.Name)
			continue
		}
		if m.groupChanged(g, updated) {
			changed = append(changed, g.Name)
		}
	}
	for _, name := range a.groups {
		if !slices.ContainsFunc(cfg.Groups, func(g *translate.Group) bool { return g.Name == name }) {
			removed = append(removed, name)
		}
	}
	slices.Sort(added)
	slices.Sort(changed)
	slices.Sort(removed)
	return added, changed, removed, nil
}

// unitChanged reports whether the unit in place (old) and the one the
// config makes now (new) are of a changed program or group, as
// supervisord's reread counts them: where both carry the digest of their
// Supervisor configuration (unitgen.UnitDigest), exactly when the
// digests differ, whatever else differs in the units (another mapping of
// the same config, by another supersede version, is no change). A unit
// an older supersede wrote has no digest: then sameUnit decides.
func unitChanged(old, new []byte) bool {
	if a, b := unitgen.UnitDigest(old), unitgen.UnitDigest(new); a != "" && b != "" {
		return a != b
	}
	return !sameUnit(old, new)
}

// sameUnit is how units without a digest (written before supersede
// wrote one) are compared: it knows the mapping changes since, so that
// the first update after upgrading from an older version restarts
// nothing either. A unit written before the digest is compared with
// this version's, so each later mapping change that adds or changes a
// line must be known here too (between two units with digests the
// digest decides, and no mapping change matters); TestSameUnitUpgrade
// compares with unitgen's current output and fails on one it misses.
//
// It reports whether two versions of a generated service unit
// differ only in what does not change the program: the header comment,
// which names the line of the section (a section that moved in the file
// is not a changed program), and the After= ordering against the other
// programs' units, which priority gives (adding a program of lower
// priority orders every program of the lowest level after it; supervisord
// reports only the new one). Nor do the UnsetEnvironment= of the
// variables systemd sets for every service (unitgen.SystemdServiceVars)
// and the compatibility step's exec in ExecStart= (unitgen.WithoutExecStep),
// which every unit gained at once: a supersede upgrade is no change of
// the configuration, and `update` must not restart every program for it.
// The last: the signals of SuccessExitStatus= and RestartPreventExitStatus=
// and the marks of the step's exited in ExecStopPost= (withoutDigestRoundLines),
// which autorestart=false units changed in the version that brought the
// digest, and the OOMPolicy=continue every unit gained in it; and the
// RestartForceExitStatus=254 autorestart=false units gained after it.
func sameUnit(a, b []byte) bool {
	norm := func(u []byte) []byte {
		return unitgen.WithoutExecStep(withoutDigestRoundLines(withoutServiceVars(withoutOrdering(skipComments(u)))))
	}
	return bytes.Equal(norm(a), norm(b))
}

// withoutServiceVars is a unit without its UnsetEnvironment= line of
// systemd's own service variables.
func withoutServiceVars(data []byte) []byte {
	return mapLines(data, func(line []byte) []byte {
		if rest, ok := bytes.CutPrefix(line, []byte("UnsetEnvironment=")); ok && allServiceVars(bytes.Fields(rest)) {
			return nil
		}
		return line
	})
}

// withoutDigestRoundLines is a unit without the lines the mapping
// changed in the version that brought the digest: the signal names of its
// SuccessExitStatus= and RestartPreventExitStatus= lines (a line left
// empty taken out), and without the trailing "0" and "--once" of its
// step's `exited` in ExecStopPost=: which signals end an autorestart=false
// program for good, and how the step marks its ends, are the mapping's
// (what autorestart says stays in Restart=, RestartForceExitStatus= and
// the backoff step's --fatal-status; the exit statuses of exitcodes stay
// in SuccessExitStatus=). Nor the OOMPolicy=continue line of every unit,
// nor the RestartForceExitStatus=254 line of an autorestart=false unit
// (which forces the program's own exit with the step's status to
// restart; a change of exitcodes that adds or takes out such a line in
// another unit changes its SuccessExitStatus= too).
func withoutDigestRoundLines(data []byte) []byte {
	return mapLines(data, func(line []byte) []byte {
		for _, key := range []string{"SuccessExitStatus=", "RestartPreventExitStatus="} {
			rest, ok := bytes.CutPrefix(line, []byte(key))
			if !ok {
				continue
			}
			var kept [][]byte
			for _, w := range bytes.Fields(rest) {
				if !bytes.HasPrefix(w, []byte("SIG")) {
					kept = append(kept, w)
				}
			}
			if len(kept) == 0 {
				return nil
			}
			return append(append([]byte(key), bytes.Join(kept, []byte(" "))...), '\n')
		}
		if string(line) == "OOMPolicy=continue\n" || string(line) == "RestartForceExitStatus=254\n" {
			return nil
		}
		if bytes.HasPrefix(line, []byte("ExecStopPost=")) && bytes.Contains(line, []byte(`"shim" "exited" `)) {
			out := bytes.TrimSuffix(line, []byte("\n"))
			out = bytes.TrimSuffix(out, []byte(" --once"))
			out = bytes.TrimSuffix(out, []byte(" 0"))
			return append(out[:len(out):len(out)], '\n')
		}
		return line
	})
}

// mapLines is data with each line (its newline included) replaced by
// what f returns for it: nil takes the line out.
func mapLines(data []byte, f func(line []byte) []byte) []byte {
	var out []byte
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		out = append(out, f(line)...)
	}
	return out
}

func allServiceVars(words [][]byte) bool {
	for _, w := range words {
		if !slices.Contains(unitgen.SystemdServiceVars[:], string(w)) {
			return false
		}
	}
	return len(words) > 0
}

func skipComments(data []byte) []byte {
	for len(data) > 0 && data[0] == '#' {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}

// withoutOrdering is a unit with the service names taken out of its
// After= lines (and a line left empty taken out): unitgen orders a
// program's unit after the services of the priority level before it, and
// orders nothing else after a service.
func withoutOrdering(data []byte) []byte {
	if !bytes.Contains(data, []byte("\nAfter=")) && !bytes.HasPrefix(data, []byte("After=")) {
		return data
	}
	return mapLines(data, func(line []byte) []byte {
		rest, ok := bytes.CutPrefix(line, []byte("After="))
		if !ok {
			return line
		}
		var kept [][]byte
		for _, w := range bytes.Fields(rest) {
			if !bytes.HasSuffix(w, []byte(unitgen.Service)) {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return append(append([]byte("After="), bytes.Join(kept, []byte(" "))...), '\n')
	})
}

// groupUnits is the names of the units of g: its services, its target
// and its socket.
func (m *Manager) groupUnits(g *translate.Group) []string {
	var names []string
	for _, p := range g.Processes {
		if n, err := unitgen.ServiceName(m.opts.Prefix, p); err == nil {
			names = append(names, n)
		}
	}
	if t, err := unitgen.GroupTarget(m.opts.Prefix, g); err == nil && t != "" {
		names = append(names, t)
	}
	if g.Socket != nil {
		if s, err := unitgen.UnitName(m.opts.Prefix, g.Name, unitgen.Socket); err == nil {
			names = append(names, s)
		}
	}
	return names
}

// groupChanged reports whether g, a group in use, is changed: one of
// its units is (unitChanged), or one of its processes' is new. A
// program's digest covers its group's own settings and the names of its
// processes, and the group's target and socket carry the group's, so a
// process added to or taken from a [group:], a numprocs changed, or the
// group's priority changed changes the group, as supervisord compares a
// group's process configs and its own.
func (m *Manager) groupChanged(g *translate.Group, updated map[string]bool) bool {
	for _, n := range m.groupUnits(g) {
		if updated[n] {
			return true
		}
	}
	return false
}

// Configured returns the groups of the config read last and the names of
// the active ones (getAllConfigInfo).
func (m *Manager) Configured(ctx context.Context) ([]*translate.Group, []string, error) {
	a, err := m.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	// the config file as it is now, as supervisord's after reread: a
	// group whose section is gone is active but not listed (ctl keeps
	// nothing between commands to tell whether reread was run)
	m.mu.Lock()
	cfg := m.next
	if cfg == nil {
		cfg = m.base
	}
	m.mu.Unlock()
	return cfg.Groups, a.groups, nil
}

// AddGroup makes a group of the config read last active: its unit files
// are written (with the anchor target, whose Wants= lists it), the
// manager reloads, and its autostart processes are started.
func (m *Manager) AddGroup(ctx context.Context, group string) error {
	m.mu.Lock()
	cfg := m.next
	if cfg == nil {
		cfg = m.base
	}
	m.mu.Unlock()
	i := slices.IndexFunc(cfg.Groups, func(g *translate.Group) bool { return g.Name == group })
	if i < 0 {
		return status.ErrBadName
	}
	g := cfg.Groups[i]
	a, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(a.groups, group) {
		return status.ErrAlreadyAdded
	}
	dir, generated, err := m.unitDir(ctx)
	if err != nil {
		return err
	}
	if !generated {
		res, err := m.generate(cfg, dir, false)
		if err != nil {
			return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
		mine := map[string]bool{m.anchor(): true}
		for _, n := range m.groupUnits(g) {
			mine[n] = true
		}
		sub := &unitgen.Result{Config: res.Config}
		for _, u := range res.Units {
			if mine[u.Name] {
				sub.Units = append(sub.Units, u)
			}
		}
		if _, err := unitgen.WriteDir(dir, sub, unitgen.WriteOptions{}); err != nil {
			return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
	}
	if err := m.daemonReload(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.removed, group)
	m.mu.Unlock()
	for _, p := range g.Processes {
		if !p.AutoStart {
			continue
		}
		name, err := unitgen.ServiceName(m.opts.Prefix, p)
		if err != nil {
			return err
		}
		if err := m.enqueue(ctx, "start", name); err != nil {
			return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
	}
	return nil
}

// RemoveGroup takes an active group whose processes are all stopped out:
// its unit files are deleted and the manager reloads, so that its units
// are gone (AddGroup writes them again). Units made by the generator are
// regenerated by every reload: there the group stays, and only this
// Manager treats it as removed (enough for update, which adds it back).
func (m *Manager) RemoveGroup(ctx context.Context, group string) error {
	a, err := m.snapshot(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(a.groups, group) {
		return status.ErrBadName
	}
	units := map[string]bool{}
	for i, p := range a.procs {
		if p.g.Name != group {
			continue
		}
		if !a.states[i].State.IsStopped() {
			return status.ErrStillRunning
		}
		units[p.unit] = true
		for _, n := range m.groupUnits(p.g) {
			units[n] = true
		}
	}
	m.mu.Lock()
	cfg := m.next
	if cfg == nil {
		cfg = m.base
	}
	gen := m.gen
	m.mu.Unlock()
	dir, generated, err := m.unitDir(ctx)
	if err != nil {
		return err
	}
	if !generated {
		var changes []unitgen.Change
		for u := range units {
			path := filepath.Join(dir, u)
			data, err := os.ReadFile(path)
			if err != nil || !unitgen.IsGenerated(data) {
				continue // gone already, or not ours to delete
			}
			changes = append(changes, unitgen.Change{Path: path, Action: unitgen.Remove})
		}
		stillConfigured := slices.ContainsFunc(cfg.Groups, func(g *translate.Group) bool { return g.Name == group })
		if gen == nil && !stillConfigured {
			if gen, err = m.generate(cfg, dir, false); err != nil {
				return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
			}
		}
		if !stillConfigured {
			for _, u := range gen.Units {
				if u.Name == m.anchor() { // its Wants= no longer lists the group
					changes = append(changes, unitgen.Change{Path: filepath.Join(dir, u.Name), Action: unitgen.Update, New: u.Data})
				}
			}
		}
		if err := unitgen.Apply(dir, changes, false); err != nil {
			return &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
		}
		for u := range units {
			_ = m.resetFailed(ctx, u) // not loaded: nothing to reset
		}
		if err := m.daemonReload(ctx); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.removed[group] = true
	m.mu.Unlock()
	return nil
}
