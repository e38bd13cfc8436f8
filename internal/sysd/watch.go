package sysd

import (
	"context"
	"fmt"

	godbus "github.com/godbus/dbus/v5"
)

// WatchReloads calls reloaded after each daemon-reload of the manager
// has finished (its Reloading signal with false), until ctx is done or
// the connection breaks; it returns the reason. It opens a connection of
// its own. It costs nothing while the manager is idle: the signal is
// pushed by the manager, never polled for.
//
// The manager sends its signals to every client of its private socket;
// over a bus, it sends them only while a client has called Subscribe,
// which WatchReloads does then.
func (m *Manager) WatchReloads(ctx context.Context, reloaded func()) error {
	c, err := dialEndpoint(ctx, m.ep)
	if err != nil {
		return fmt.Errorf("watching the manager's reloads: %w", err)
	}
	defer c.Close()
	sigs := make(chan *godbus.Signal, 16)
	c.Signal(sigs)
	if !m.ep.private {
		if err := c.AddMatchSignalContext(ctx, godbus.WithMatchInterface(ifaceManager), godbus.WithMatchMember("Reloading")); err != nil {
			return fmt.Errorf("watching the manager's reloads: %w", err)
		}
		obj := c.Object(destSystemd, "/org/freedesktop/systemd1")
		if err := obj.CallWithContext(ctx, ifaceManager+".Subscribe", 0).Err; err != nil {
			return fmt.Errorf("watching the manager's reloads: Subscribe: %w", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s, ok := <-sigs:
			if !ok {
				return fmt.Errorf("watching the manager's reloads: the connection to %s closed", m.ep.addr)
			}
			if s.Name != ifaceManager+".Reloading" || len(s.Body) != 1 {
				continue
			}
			if active, _ := s.Body[0].(bool); !active {
				reloaded()
			}
		}
	}
}
