package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Plan prints what Run would do, program by program, with every
// behaviour difference the conversion reports for each, and changes
// nothing: it reads supervisord's states, the state file and the unit
// directory only.
func Plan(ctx context.Context, opts Options) error {
	m := &migration{opts: opts}
	o := opts
	st, err := loadState(o.StateFile)
	if err != nil {
		return err
	}
	if st != nil {
		if err := m.check(st); err != nil {
			return err
		}
		m.st = st
	}
	c, err := xmlrpc.NewClient(o.ServerURL, o.Username, o.Password)
	if err != nil {
		return err
	}
	defer c.Close()
	var live map[string]status.State
	if answers(ctx, c) {
		if live, err = states(ctx, c); err != nil {
			return fmt.Errorf("supervisord at %s: %w", o.ServerURL, err)
		}
	}
	switch {
	case st != nil && st.done(opDone, ""):
		m.printf("%s was migrated already (record: %s): nothing to do; --rollback moves it back", o.Config.File, o.StateFile)
		return nil
	case st != nil:
		m.printf("a migration is under way (record: %s): migrate goes on from where it stopped", o.StateFile)
	case live == nil:
		m.printf("no supervisord answers at %s: migrate would refuse to start (it moves a running supervisord's programs); the plan below assumes every autostart program runs", o.ServerURL)
	default:
		if err := sameProcesses(o.Config, live); err != nil {
			m.printf("migrate would refuse to start: %v", err)
		}
		m.printf("supervisord at %s runs %d processes; they move to the systemd %s manager, units in %s", o.ServerURL, len(live), o.Scope, o.UnitDir)
	}
	if _, err := unitgen.Plan(o.UnitDir, o.Units, unitgen.WriteOptions{}); err != nil {
		m.printf("migrate would refuse to start: %v", err)
	}
	warnings := map[string][]string{}
	var general []string
	for _, w := range o.Units.Warnings {
		if w.Unit != "" {
			warnings[w.Unit] = append(warnings[w.Unit], w.String())
		} else {
			general = append(general, w.String())
		}
	}
	groups, err := m.groupsToMove()
	if err != nil {
		return err
	}
	byGroup, host := unitsOf(o.Config, o.Units, o.Gen.Prefix)
	for _, g := range groups {
		if st != nil && st.done(opStart, g.Name) {
			m.printf("group %s (priority %d): moved already", g.Name, g.Priority)
			continue
		}
		var names []string
		for _, u := range byGroup[g.Name] {
			names = append(names, u.Name)
		}
		m.printf("group %s (priority %d): write and load %s; stop the group in supervisord (stopProcessGroup), start the units of the programs that ran, wait for RUNNING", g.Name, g.Priority, strings.Join(names, ", "))
		for _, p := range g.Processes {
			unit, _ := unitgen.ServiceName(o.Gen.Prefix, p)
			state := "(state unknown)"
			run := p.AutoStart
			if live != nil {
				s := live[p.Namespec()]
				state, run = s.String(), s.IsRunning()
			}
			if run {
				m.printf("  %s: %s -> %s: stopped by supervisord (stop signal %s, stopwaitsecs %s), started under systemd, RUNNING after startsecs %s; expected downtime: its stop plus startsecs",
					p.Namespec(), state, unit, translate.SignalName(p.StopSignal), secs(p.StopWait), secs(p.MinUptime))
			} else {
				m.printf("  %s: %s -> %s: stays stopped (the unit is loaded, not started)", p.Namespec(), state, unit)
			}
			for _, w := range warnings[unit] {
				m.printf("    differs: %s", w)
			}
		}
	}
	for _, w := range general {
		m.printf("differs: %s", w)
	}
	var hostNames []string
	for _, u := range host {
		hostNames = append(hostNames, u.Name)
	}
	m.printf("then, once every group runs under systemd: write and load %s; stop supervisord; disable the unit that started it (if a unit did); enable %s for the next boot; start the serve socket if there is one (supervisorctl at the serverurl then drives the units)", strings.Join(hostNames, ", "), unitgen.AnchorTarget(o.Gen.Prefix))
	if o.LinkDir != "" {
		m.printf("link %s/supervisorctl to %s unless a supervisorctl that is not supersede is there", o.LinkDir, o.Self)
	}
	m.printf("nothing was changed (--plan)")
	return nil
}
