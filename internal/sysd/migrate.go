package sysd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// The few unit-level operations `supersede migrate` (internal/migrate)
// needs beyond Supervisor's API: jobs and unit files of units that are
// no process of the configuration (the anchor target, the serve socket,
// the supervisor.service that started supervisord), daemon-reload, and
// why a unit failed. They are thin wrappers over go-systemd's calls.

// DaemonReload asks the manager to reload its unit files (systemctl
// daemon-reload).
func (m *Manager) DaemonReload(ctx context.Context) error { return m.daemonReload(ctx) }

// UnitJob runs a "start", "stop" or "restart" job on any unit by name
// and waits for its result: "done", "failed", "canceled", "timeout",
// "dependency" or "skipped".
func (m *Manager) UnitJob(ctx context.Context, kind, unit string) (string, error) {
	return m.job(ctx, kind, unit)
}

// EnableUnits enables unit files by name (systemctl enable, without
// --now): the symlinks their [Install] sections ask for; then, as
// systemctl does, the manager reloads.
func (m *Manager) EnableUnits(ctx context.Context, units []string) error {
	c, err := m.jobs()
	if err != nil {
		return err
	}
	if _, _, err := c.EnableUnitFilesContext(ctx, units, false, false); err != nil {
		return fmt.Errorf("enable %v: %w", units, err)
	}
	return m.daemonReload(ctx)
}

// DisableUnits disables unit files by name (systemctl disable, without
// --now), then reloads the manager.
func (m *Manager) DisableUnits(ctx context.Context, units []string) error {
	c, err := m.jobs()
	if err != nil {
		return err
	}
	if _, err := c.DisableUnitFilesContext(ctx, units, false); err != nil {
		return fmt.Errorf("disable %v: %w", units, err)
	}
	return m.daemonReload(ctx)
}

// UnitInfo is what migrate reads of one unit.
type UnitInfo struct {
	LoadState     string // loaded, not-found, ...
	ActiveState   string // active, inactive, failed, ...
	UnitFileState string // enabled, disabled, static, generated, ...
	Result        string // a service's Result: success, exit-code, signal, ...
	MainPID       int    // a service's main process, 0 when none
}

// Unit reads a unit's states. Result and MainPID are read for services
// only.
func (m *Manager) Unit(ctx context.Context, unit string) (UnitInfo, error) {
	c, err := m.jobs()
	if err != nil {
		return UnitInfo{}, err
	}
	var u UnitInfo
	for name, dst := range map[string]*string{"LoadState": &u.LoadState, "ActiveState": &u.ActiveState, "UnitFileState": &u.UnitFileState} {
		p, err := c.GetUnitPropertyContext(ctx, unit, name)
		if err != nil {
			return u, fmt.Errorf("%s %s: %w", unit, name, err)
		}
		*dst, _ = p.Value.Value().(string)
	}
	if len(unit) > len(".service") && unit[len(unit)-len(".service"):] == ".service" && u.LoadState == "loaded" {
		if p, err := c.GetServicePropertyContext(ctx, unit, "Result"); err == nil {
			u.Result, _ = p.Value.Value().(string)
		}
		if p, err := c.GetServicePropertyContext(ctx, unit, "MainPID"); err == nil {
			pid, _ := p.Value.Value().(uint32)
			u.MainPID = int(pid)
		}
	}
	return u, nil
}

// ResetFailed clears a unit's failed state (systemctl reset-failed), so
// that a unit whose file is gone is unloaded.
func (m *Manager) ResetFailed(ctx context.Context, unit string) error {
	return m.resetFailed(ctx, unit)
}

// ReadOutput is ReadJournal for a program that may have died at once:
// journald then often cannot tell its unit (the cgroup of a process
// that is gone), so the lines it wrote since since are also matched by
// their syslog identifier (SyslogIdentifier=, the process name) from the
// stdout stream: under a user manager, of this user's processes only
// (the system's programs and other users' may share the name).
func (m *Manager) ReadOutput(ctx context.Context, unit, ident string, since time.Time, n int) ([]byte, error) {
	args := []string{"--since", "@" + strconv.FormatInt(since.Unix(), 10), "-n", strconv.Itoa(n)}
	args = append(args, m.journalMatch(unit)...)
	args = append(args, "+", "SYSLOG_IDENTIFIER="+ident, "_TRANSPORT=stdout")
	if m.opts.Scope == User {
		args = append(args, "_UID="+strconv.Itoa(os.Getuid()))
	}
	out, err := journalctl(ctx, args...)
	if err != nil {
		return nil, err
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}
