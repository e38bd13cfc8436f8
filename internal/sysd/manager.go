package sysd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// Options say which manager to drive and how the units were made.
type Options struct {
	Scope Scope

	// ConfigPath is the supervisord.conf the units were converted from;
	// Reload reads it again. Load holds translate's options for that.
	ConfigPath string
	Load       translate.Options

	// Prefix and LogFiles are the convert options the units were made
	// with (supersede convert --prefix, --log-files): they decide unit
	// names and where output goes.
	Prefix   string
	LogFiles bool

	// Shim is the supersede binary the units run as their compatibility
	// step (convert --shim, the generator's choice): reread compares the
	// units in place with units made with it. "" means none.
	Shim string

	// Getenv reads the environment (DBUS_*_BUS_ADDRESS, XDG_RUNTIME_DIR,
	// XDG_CONFIG_HOME); nil is os.Getenv.
	Getenv func(string) string

	// Now is the clock; nil is time.Now.
	Now func() time.Time

	Logger *slog.Logger // nil discards

	// Prefetch, if not nil, was started with these options before the
	// configuration was parsed; New takes its connection and the first
	// snapshot its states (prefetch.go).
	Prefetch *Prefetch
}

// Manager drives the units of one supervisord.conf through a systemd
// manager. Its methods are the xmlrpc.Backend interface (supervisor's
// API in Go words), so the XML-RPC server's rules apply unchanged on top
// of systemd. It is safe for concurrent use.
type Manager struct {
	opts   Options
	getenv func(string) string
	now    func() time.Time
	log    *slog.Logger

	ep endpoint // where the manager answered

	wmu  sync.Mutex
	w    *wire       // the batched reads (status), see wire.go
	pre  *prefetched // read before the config was parsed, for the first snapshot; guarded by wmu
	runs *runCache   // the runs of running units (runs.go), nil until the first read; guarded by wmu

	sdOnce sync.Once
	sd     *sd.Conn // everything but status reads: jobs and their results, reloads, single properties; dialled on first use
	sdErr  error

	mu        sync.Mutex
	cfg       *translate.Config // the config the active units come from, with the stale groups (stale.go)
	base      *translate.Config // the config as read
	staleDone bool              // findStale has looked
	gen       *unitgen.Result
	procs     []*proc // every process of cfg, in config order
	byName    map[string]*proc
	next      *translate.Config // read by Reload, applied by AddGroup
	removed   map[string]bool   // groups RemoveGroup took out while their units stay (generator)
	stopJobs  map[string]chan string

	// watchHold, set by tests only, is called by WatchStates as it wakes
	// up for a signal, before it takes the signals there and reads the
	// units: a test holds the watch in it, as a loaded machine may.
	watchHold func()
}

// proc is one configured process and its unit.
type proc struct {
	p    *translate.Process
	g    *translate.Group
	unit string
	path godbus.ObjectPath
}

// New connects to the manager of opts.Scope and prepares to drive the
// units of cfg, the configuration read from opts.ConfigPath. It fails
// with an *UnreachableError when no manager answers.
func New(ctx context.Context, cfg *translate.Config, opts Options) (*Manager, error) {
	m := &Manager{opts: opts, getenv: opts.Getenv, now: opts.Now, log: opts.Logger,
		removed: map[string]bool{}, stopJobs: map[string]chan string{}}
	if m.getenv == nil {
		m.getenv = os.Getenv
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.setConfig(cfg); err != nil {
		return nil, err
	}
	if opts.Prefetch != nil {
		if w, ep, pre := opts.Prefetch.take(); w != nil {
			m.w, m.ep, m.pre, m.runs = w, ep, pre, pre.runs
			return m, nil
		}
	}
	w, ep, err := dial(ctx, opts.Scope, m.getenv)
	if err != nil {
		return nil, err
	}
	m.w, m.ep = w, ep
	return m, nil
}

// setConfig makes cfg the configuration of the active units.
func (m *Manager) setConfig(cfg *translate.Config) error {
	procs := []*proc{}
	byName := map[string]*proc{}
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			name, err := unitgen.ServiceName(m.opts.Prefix, p)
			if err != nil {
				return err
			}
			pr := &proc{p: p, g: g, unit: name, path: unitPath(name)}
			procs = append(procs, pr)
			byName[g.Name+":"+p.Name] = pr
		}
	}
	m.mu.Lock()
	m.cfg, m.base, m.procs, m.byName, m.staleDone = cfg, cfg, procs, byName, false
	m.mu.Unlock()
	return nil
}

// Close closes the connections.
func (m *Manager) Close() error {
	if m.sd != nil {
		m.sd.Close()
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.runs != nil {
		m.runs.save() // what reads of single units and groups learnt
	}
	if m.w != nil {
		return m.w.Close()
	}
	return nil
}

// wire returns the connection for batched reads, dialling it again if an
// error broke the last one.
func (m *Manager) wire(ctx context.Context) (*wire, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.w != nil {
		return m.w, nil
	}
	w, err := dialWire(ctx, m.ep)
	if err != nil {
		return nil, err
	}
	m.w = w
	return w, nil
}

// broken drops the read connection after an error (a reply may be left
// half read) and returns err. Called with wmu held.
func (m *Manager) broken(err error) error {
	if m.w != nil {
		m.w.Close()
		m.w = nil
	}
	return err
}

// jobs returns go-systemd's connection, used for jobs: it tracks
// JobRemoved signals and hands each job's result to its caller. It is
// dialled on first use, on the endpoint the reads use, so that a
// read-only command (status) pays for one connection only.
func (m *Manager) jobs() (*sd.Conn, error) {
	m.sdOnce.Do(func() {
		m.sd, m.sdErr = sd.NewConnection(func() (*godbus.Conn, error) {
			return dialEndpoint(context.Background(), m.ep)
		})
	})
	return m.sd, m.sdErr
}

// unitPath is the object path systemd gives a unit:
// /org/freedesktop/systemd1/unit/ and the name with every byte outside
// [A-Za-z0-9] written as _XX (sd_bus_path_encode). Knowing it saves a
// GetUnit round trip per unit.
func unitPath(name string) godbus.ObjectPath {
	const hex = "0123456789abcdef"
	b := []byte("/org/freedesktop/systemd1/unit/")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b = append(b, c)
		} else {
			b = append(b, '_', hex[c>>4], hex[c&15])
		}
	}
	return godbus.ObjectPath(b)
}

// lookup finds a process by group and name among the configured ones.
func (m *Manager) lookup(group, name string) (*proc, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.byName[group+":"+name]
	return p, ok
}

// Identification is the [supervisord] identifier.
func (m *Manager) Identification() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg.Supervisord.Identifier
}

// PID is the manager's process id: 1 for the system manager, the
// process behind the private socket for a user manager (0 when it
// cannot be known, over a bus daemon).
func (m *Manager) PID() int {
	if m.opts.Scope == System {
		return 1
	}
	if m.ep.path != "" {
		return peerPID(m.ep.path)
	}
	return 0
}

// ShuttingDown is always false: the manager outlives every command.
func (m *Manager) ShuttingDown() bool { return false }

func (m *Manager) String() string {
	return fmt.Sprintf("systemd %s manager at %s", m.opts.Scope, m.ep.addr)
}
