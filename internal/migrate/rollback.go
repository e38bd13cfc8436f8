package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/unitgen"
)

// Rollback moves every group that migrate moved (or began to move) back
// to supervisord, starting supervisord again if migrate stopped it (as
// it was started: its unit, or its command line), re-enables what
// migrate disabled, and removes the unit files and links migrate wrote,
// and only those. It works from the state file, whatever step the
// migration reached; run again after an interruption, it goes on.
func Rollback(ctx context.Context, opts Options) error {
	m := &migration{opts: opts}
	st, err := loadState(opts.StateFile)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("no migration to roll back: %s does not exist (supersede migrate records each migration there; pass --state FILE if it used another)", opts.StateFile)
	}
	if err := m.check(st); err != nil {
		return err
	}
	m.st = st
	defer m.close()
	if err := m.connect(ctx); err != nil {
		return err
	}
	if err := m.rollback(ctx); err != nil {
		return fmt.Errorf("rollback: %w\nrun supersede migrate --rollback%s -c %s again to go on; %s still records what is left", err, m.scopeFlag(), opts.Config.File, opts.StateFile)
	}
	return nil
}

func (m *migration) rollback(ctx context.Context) error {
	st := m.st
	// supervisorctl first, so that nothing drives the units by that name
	// while they stop
	for _, l := range st.Links {
		if target, err := os.Readlink(l.Path); err == nil && target == l.Target {
			if err := os.Remove(l.Path); err != nil {
				return err
			}
			m.printf("removed the link %s", l.Path)
		}
	}
	st.Links = nil
	if st.begun(opEnable, "") {
		anchor := unitgen.AnchorTarget(st.Prefix)
		socket, _ := unitgen.ServeUnits(st.Prefix)
		names := []string{anchor}
		if m.wrote(socket) {
			names = append(names, socket)
			if _, err := m.sd.UnitJob(ctx, "stop", socket); err != nil {
				return err
			}
			service := strings.TrimSuffix(socket, unitgen.Socket) + unitgen.Service
			if _, err := m.sd.UnitJob(ctx, "stop", service); err != nil {
				return err
			}
		}
		if err := m.sd.DisableUnits(ctx, names); err != nil {
			return err
		}
		m.printf("disabled %s", strings.Join(names, " and "))
	}
	if err := st.save(); err != nil {
		return err
	}
	moved := m.movedGroups()
	if !answers(ctx, m.rpc) {
		if !st.begun(opShutdown, "") {
			return fmt.Errorf("no supervisord answers at %s, and migrate did not stop it: start supervisord, then run --rollback again", st.ServerURL)
		}
		// supervisord starts its autostart programs: the units go first
		for _, g := range slices.Backward(moved) {
			if err := m.stopUnits(ctx, g); err != nil {
				return err
			}
			m.printf("group %s: stopped under systemd", g)
		}
		if err := m.reenable(ctx); err != nil {
			return err
		}
		if err := m.startSupervisord(ctx); err != nil {
			return err
		}
		if err := m.restoreStates(ctx); err != nil {
			return err
		}
	} else {
		if err := m.reenable(ctx); err != nil {
			return err
		}
		for _, g := range slices.Backward(moved) {
			if err := m.stopUnits(ctx, g); err != nil {
				return err
			}
			if err := m.startInSupervisord(ctx, g); err != nil {
				return err
			}
			m.printf("group %s: back under supervisord", g)
		}
	}
	if err := m.removeFiles(ctx, "*"); err != nil {
		return err
	}
	for _, f := range st.Files {
		m.printf("removed %s", f.Path)
	}
	if err := st.remove(); err != nil {
		return err
	}
	m.printf("rolled back: supervisord (at %s) runs the programs again, as before the migration", st.ServerURL)
	return nil
}

// wrote reports whether migrate wrote the unit file of that name.
func (m *migration) wrote(unit string) bool {
	return slices.ContainsFunc(m.st.Files, func(f File) bool { return strings.HasSuffix(f.Path, "/"+unit) })
}

// movedGroups are the groups whose move was begun, in the order they
// were moved: the record says, whatever the file says now.
func (m *migration) movedGroups() []string {
	var out []string
	for _, g := range m.st.groups() {
		if m.st.begun(opStop, g) || m.st.begun(opStart, g) || m.st.begun(opBack, g) {
			out = append(out, g)
		}
	}
	return out
}

// reenable enables again the unit that started supervisord, if migrate
// disabled it.
func (m *migration) reenable(ctx context.Context) error {
	d := m.st.Supervisord
	if !m.st.begun(opDisable, "") || d.Unit == "" || !d.WasEnabled {
		return nil
	}
	mgr, err := m.manager(ctx, d.UnitScope)
	if err != nil {
		return err
	}
	if mgr != m.sd {
		defer mgr.Close()
	}
	if err := mgr.EnableUnits(ctx, []string{d.Unit}); err != nil {
		return err
	}
	m.printf("enabled %s again", d.Unit)
	return nil
}

// startSupervisord starts supervisord as it was started and waits until
// it answers.
func (m *migration) startSupervisord(ctx context.Context) error {
	d := m.st.Supervisord
	if d.Unit != "" {
		mgr, err := m.manager(ctx, d.UnitScope)
		if err != nil {
			return err
		}
		if mgr != m.sd {
			defer mgr.Close()
		}
		res, err := mgr.UnitJob(ctx, "start", d.Unit)
		if err != nil {
			return err
		}
		if res != "done" {
			return fmt.Errorf("start %s: %s", d.Unit, res)
		}
	} else if err := startByHand(d); err != nil {
		return err
	}
	if !waitFor(ctx, 2*time.Minute, func() bool { return answers(ctx, m.rpc) }) {
		return fmt.Errorf("supervisord (%s) was started but does not answer at %s", strings.Join(d.Argv, " "), m.st.ServerURL)
	}
	m.printf("started supervisord again (%s)", strings.Join(d.Argv, " "))
	return nil
}

// restoreStates makes each process's state in a restarted supervisord
// what it was before the migration: supervisord started its autostart
// programs; those that ran before and did not start are started, those
// that were stopped and started are stopped.
func (m *migration) restoreStates(ctx context.Context) error {
	var live map[string]status.State
	// supervisord starts its autostart programs in its first turns:
	// wait until none of them is still "never started"
	autostart := map[string]bool{}
	for _, g := range m.opts.Config.Groups {
		for _, p := range g.Processes {
			autostart[p.Namespec()] = p.AutoStart
		}
	}
	waitFor(ctx, 30*time.Second, func() bool {
		infos, err := m.rpc.AllProcessInfo(ctx)
		if err != nil {
			return false
		}
		live = map[string]status.State{}
		for _, pi := range infos {
			live[pi.Namespec()] = pi.State
			if autostart[pi.Namespec()] && pi.State == status.Stopped && pi.Start.IsZero() {
				return false
			}
		}
		return true
	})
	if live == nil {
		return errors.New("supervisord does not list its processes")
	}
	var errs []error
	for name, before := range m.st.Before {
		b, _ := status.ParseState(before)
		now := live[name]
		switch {
		case b.IsRunning() && !now.IsRunning():
			errs = append(errs, startProcess(ctx, m.rpc, name))
		case !b.IsRunning() && now.IsRunning():
			errs = append(errs, stopProcess(ctx, m.rpc, name))
		}
	}
	return errors.Join(errs...)
}
