package serve

import (
	"context"
	"io"
	"sync"
	"syscall"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/xmlrpc"
	"github.com/supersede/supersede/translate"
)

// backend is the xmlrpc.Backend that serve hands the server: the
// sysd.Manager of the configuration as it was at the last daemon-reload.
// A reload swaps the manager; calls under way finish on the one they
// started with, which is closed when the last of them returns.
type backend struct {
	mu    sync.Mutex
	cur   *sysd.Manager
	users map[*sysd.Manager]int
	hub   *hub // the events of the calls that make them (nil: none)
}

// publish hands e to the event listener pools, if serve runs them.
func (b *backend) publish(e events.Event) {
	if b.hub != nil {
		b.hub.publish(e)
	}
}

func (b *backend) acquire() (*sysd.Manager, func()) {
	b.mu.Lock()
	m := b.cur
	if b.users == nil {
		b.users = map[*sysd.Manager]int{}
	}
	b.users[m]++
	b.mu.Unlock()
	return m, func() {
		b.mu.Lock()
		b.users[m]--
		last := b.users[m] == 0 && m != b.cur
		if b.users[m] == 0 {
			delete(b.users, m)
		}
		b.mu.Unlock()
		if last {
			m.Close()
		}
	}
}

// swap makes m the manager of new calls.
func (b *backend) swap(m *sysd.Manager) {
	b.mu.Lock()
	old := b.cur
	b.cur = m
	idle := b.users[old] == 0
	b.mu.Unlock()
	if idle {
		old.Close()
	}
}

func (b *backend) close() {
	b.mu.Lock()
	m := b.cur
	b.mu.Unlock()
	m.Close()
}

// The xmlrpc.Backend methods, each on the current manager.

func (b *backend) Identification() string {
	m, done := b.acquire()
	defer done()
	return m.Identification()
}

func (b *backend) PID() int {
	m, done := b.acquire()
	defer done()
	return m.PID()
}

func (b *backend) ShuttingDown() bool { return false }

func (b *backend) MainLogFile() string { return "" }

func (b *backend) ClearMainLog(ctx context.Context) error {
	m, done := b.acquire()
	defer done()
	return m.ClearMainLog(ctx)
}

func (b *backend) Shutdown(ctx context.Context) error {
	m, done := b.acquire()
	defer done()
	b.publish(events.NewSupervisorStopping())
	return m.Shutdown(ctx)
}

func (b *backend) Restart(ctx context.Context) error {
	m, done := b.acquire()
	defer done()
	return m.Restart(ctx)
}

func (b *backend) Reload(ctx context.Context) (added, changed, removed []string, err error) {
	m, done := b.acquire()
	defer done()
	return m.Reload(ctx)
}

func (b *backend) Configured(ctx context.Context) ([]*translate.Group, []string, error) {
	m, done := b.acquire()
	defer done()
	return m.Configured(ctx)
}

func (b *backend) AddGroup(ctx context.Context, group string) error {
	m, done := b.acquire()
	defer done()
	if err := m.AddGroup(ctx, group); err != nil {
		return err
	}
	b.publish(events.NewProcessGroupAdded(group))
	return nil
}

func (b *backend) RemoveGroup(ctx context.Context, group string) error {
	m, done := b.acquire()
	defer done()
	if err := m.RemoveGroup(ctx, group); err != nil {
		return err
	}
	b.publish(events.NewProcessGroupRemoved(group))
	return nil
}

func (b *backend) Processes(ctx context.Context) ([]status.Process, error) {
	m, done := b.acquire()
	defer done()
	return m.Processes(ctx)
}

func (b *backend) GroupProcesses(ctx context.Context, group string) ([]status.Process, error) {
	m, done := b.acquire()
	defer done()
	return m.GroupProcesses(ctx, group)
}

func (b *backend) Groups(ctx context.Context) ([]string, error) {
	m, done := b.acquire()
	defer done()
	return m.Groups(ctx)
}

func (b *backend) Start(ctx context.Context, group, name string) error {
	m, done := b.acquire()
	defer done()
	return m.Start(ctx, group, name)
}

func (b *backend) WaitStarted(ctx context.Context, group, name string) error {
	m, done := b.acquire()
	defer done()
	return m.WaitStarted(ctx, group, name)
}

func (b *backend) Stop(ctx context.Context, group, name string) error {
	m, done := b.acquire()
	defer done()
	return m.Stop(ctx, group, name)
}

func (b *backend) WaitStopped(ctx context.Context, group, name string) error {
	m, done := b.acquire()
	defer done()
	return m.WaitStopped(ctx, group, name)
}

func (b *backend) Signal(ctx context.Context, group, name string, sig syscall.Signal) error {
	m, done := b.acquire()
	defer done()
	return m.Signal(ctx, group, name, sig)
}

func (b *backend) ClearLogs(ctx context.Context, group, name string) error {
	m, done := b.acquire()
	defer done()
	return m.ClearLogs(ctx, group, name)
}

func (b *backend) WriteStdin(ctx context.Context, group, name string, data []byte) error {
	m, done := b.acquire()
	defer done()
	return m.WriteStdin(ctx, group, name, data)
}

func (b *backend) SendRemoteComm(ctx context.Context, typ, data string) error {
	m, done := b.acquire()
	defer done()
	if err := m.SendRemoteComm(ctx, typ, data); err != nil {
		return err
	}
	b.publish(events.NewRemoteCommunication(typ, data))
	return nil
}

// Output reads a journal-backed channel of a process from the journal
// (xmlrpc.OutputKeeper).
func (b *backend) Output(ctx context.Context, group, name, channel string, max int64) ([]byte, bool, error) {
	m, done := b.acquire()
	defer done()
	unit, journal, err := m.JournalFor(ctx, group, name, channel)
	if err != nil || !journal {
		return nil, false, nil
	}
	data, err := m.ReadJournal(ctx, unit, int(max))
	if err != nil {
		return nil, true, &status.Error{Kind: status.ErrFailed, Detail: err.Error()}
	}
	return data, true, nil
}

// MainOutput reads the manager's own messages from the journal, as
// supersede ctl's maintail does.
func (b *backend) MainOutput(ctx context.Context, max int64) ([]byte, bool, error) {
	m, done := b.acquire()
	defer done()
	data, err := m.ReadManagerJournal(ctx, int(max))
	if err != nil {
		return nil, false, nil // NO_FILE, as for a daemon without a log file
	}
	return data, true, nil
}

// FollowOutput follows a journal-backed channel, or the manager's own
// messages for group "", for /logtail and /mainlogtail.
func (b *backend) FollowOutput(ctx context.Context, group, name, channel string, head int) (io.ReadCloser, bool, error) {
	m, done := b.acquire()
	defer done()
	unit := ""
	if group != "" {
		u, journal, err := m.JournalFor(ctx, group, name, channel)
		if err != nil || !journal {
			return nil, false, nil
		}
		unit = u
	}
	r, err := m.FollowJournal(ctx, unit, head)
	if err != nil {
		return nil, true, err
	}
	return r, true, nil
}

var (
	_ xmlrpc.Backend      = (*backend)(nil)
	_ xmlrpc.GroupReader  = (*backend)(nil)
	_ xmlrpc.OutputKeeper = (*backend)(nil)
)
