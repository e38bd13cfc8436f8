package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supersede/supersede/fallback/events"
	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// EventsPath is the events socket of the units converted with prefix,
// for the manager of scope (unitgen.EventsSocket under %t).
func EventsPath(scope sysd.Scope, prefix string, getenv func(string) string) string {
	dir := "/run"
	if scope == sysd.User {
		if dir = getenv("XDG_RUNTIME_DIR"); dir == "" {
			return ""
		}
	}
	return filepath.Join(dir, unitgen.EventsSocket(prefix))
}

// HasListeners reports whether cfg has an [eventlistener:x] pool, which
// serve runs on its events socket.
func HasListeners(cfg *translate.Config) bool {
	for _, g := range cfg.Groups {
		if g.Type == translate.GroupEventListener {
			return true
		}
	}
	return false
}

// ListenEvents opens the events socket at path as systemd's socket unit
// would (mode 0666: serve tells listeners apart by their cgroup), for a
// serve started without socket activation. A socket file left by a
// serve that is gone is replaced; one another process listens on is not.
func ListenEvents(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("the events socket of a user manager is in $XDG_RUNTIME_DIR, which is not set")
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: move it away (supersede serve runs the event listeners there)", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("another process serves the event listeners on %s (is supersede serve running already?)", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("the events socket: %w", err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("the events socket: %w", err)
	}
	return ln, nil
}

// hub is serve's event system: one events.Bus for serve's life (its
// serials survive reloads, as supervisord's do), a pool for each
// [eventlistener:x] group, the listener connections, and the watch of
// the units that turns their changes into PROCESS_STATE events.
type hub struct {
	bus *events.Bus
	b   *backend
	log *slog.Logger

	mu        sync.Mutex
	pools     map[string]*events.Pool     // by group
	listeners map[string]*events.Listener // by unit
	tracks    *sysd.Tracks
	rewatch   chan struct{} // the manager was swapped: watch the new one

	logs    context.CancelFunc // ends the journal follows of the configuration before
	logsWG  sync.WaitGroup
	logsCtx context.Context // serve's life
}

func newHub(b *backend, identifier string, log *slog.Logger) *hub {
	return &hub{
		bus:       events.NewBus(events.Options{Identifier: identifier, Logger: log}),
		b:         b,
		log:       log,
		pools:     map[string]*events.Pool{},
		listeners: map[string]*events.Listener{},
		tracks:    sysd.NewTracks(),
		rewatch:   make(chan struct{}, 1),
	}
}

// setConfig makes the pools those of cfg: new [eventlistener:x] groups
// get a pool, those that are gone lose theirs (as supervisord's reload
// clears them). A pool whose section is wrong is logged and left out.
func (h *hub) setConfig(cfg *translate.Config) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := map[string]bool{}
	for _, g := range cfg.Groups {
		if g.Type != translate.GroupEventListener {
			continue
		}
		keep[g.Name] = true
		if h.pools[g.Name] != nil {
			continue
		}
		p, err := h.bus.AddPool(g)
		if err != nil {
			h.log.Error(fmt.Sprintf("event listener pool %s is not run: %v", g.Name, err))
			continue
		}
		h.pools[g.Name] = p
	}
	for name, p := range h.pools {
		if !keep[name] {
			h.bus.RemovePool(p)
			delete(h.pools, name)
		}
	}
}

// watching reports whether there is a pool, whose listeners need the
// units' states (only a RUNNING listener is sent events) and which may
// subscribe to PROCESS_STATE: the units are watched only then.
func (h *hub) watching() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pools) > 0
}

// swapped tells the watch that the manager changed (a daemon-reload).
func (h *hub) swapped() {
	select {
	case h.rewatch <- struct{}{}:
	default:
	}
}

// watch follows the units' states on the current manager while there
// is a pool, until ctx is done; after a daemon-reload it goes on with the
// new manager from the states it knew.
func (h *hub) watch(ctx context.Context) {
	for ctx.Err() == nil {
		if !h.watching() {
			select {
			case <-ctx.Done():
				return
			case <-h.rewatch:
				continue
			}
		}
		m, done := h.b.acquire()
		wctx, cancel := context.WithCancel(ctx)
		stop := make(chan struct{})
		go func() {
			select {
			case <-h.rewatch:
				cancel()
			case <-stop:
			}
		}()
		err := m.WatchStates(wctx, h.tracks, h.settle, h.changed)
		close(stop)
		rewatched := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		done()
		if ctx.Err() != nil {
			return
		}
		if rewatched {
			continue
		}
		h.log.Warn(fmt.Sprintf("%v; trying again in 5 s", err))
		select {
		case <-ctx.Done():
		case <-h.rewatch:
		case <-time.After(5 * time.Second):
		}
	}
}

// settle gives each attached listener the state the watch starts from:
// one that connected before the watch had read its unit was taken as
// STARTING.
func (h *hub) settle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for unit, l := range h.listeners {
		if st, ok := h.tracks.State(unit); ok {
			l.SetProcessState(st)
		}
	}
}

// changed publishes one state change, telling the pool first when the
// process is one of its listeners.
func (h *hub) changed(c sysd.StateChange) {
	h.mu.Lock()
	if l := h.listeners[c.Unit]; l != nil {
		l.SetProcessState(c.To)
	}
	h.mu.Unlock()
	h.bus.Publish(events.NewProcessState(events.StateChange{Name: c.Name, Group: c.Group,
		From: c.From, To: c.To, Tries: c.Tries, Expected: c.Expected, PID: c.PID}))
}

// serveListeners accepts the connections of the listeners' units on ln
// until ctx is done.
func (h *hub) serveListeners(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				select { // out of descriptors: try again a little later
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			h.log.Error(fmt.Sprintf("the events socket: %v", err))
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.serveListener(ctx, c)
		}()
	}
}

// serveListener runs one listener connection: it finds the listener's
// unit by the peer's cgroup (a process of any other unit, or of none, is
// refused), attaches it to its pool, and hands the pool what it writes
// until it hangs up.
func (h *hub) serveListener(ctx context.Context, c net.Conn) {
	defer c.Close()
	unit, err := peerUnit(c)
	if err != nil {
		h.log.Warn(fmt.Sprintf("the events socket: a connection refused: %v", err))
		return
	}
	m, done := h.b.acquire()
	group, name, ok := m.UnitProcess(unit)
	done()
	h.mu.Lock()
	pool := h.pools[group]
	if !ok || pool == nil {
		h.mu.Unlock()
		h.log.Warn(fmt.Sprintf("the events socket: a connection from %s refused: it is not the unit of a process of an [eventlistener:x] section", unit))
		return
	}
	l, err := pool.Attach(name, c)
	if err != nil {
		h.mu.Unlock()
		h.log.Warn(fmt.Sprintf("the events socket: %v", err))
		return
	}
	h.listeners[unit] = l
	// the unit runs the listener now; its state comes from the watch
	// from here on (STARTING until startsecs has passed)
	st, known := h.tracks.State(unit)
	if !known || (st != status.Starting && st != status.Running) {
		st = status.Starting
	}
	l.SetProcessState(st)
	h.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			l.Output(buf[:n])
		}
		if err != nil {
			break
		}
	}
	h.mu.Lock()
	if h.listeners[unit] == l {
		delete(h.listeners, unit)
	}
	h.mu.Unlock()
	l.Exit()
}

// peerUnit is the systemd unit of the process at the other end of a
// unix connection (SO_PEERCRED, then its cgroup).
func peerUnit(c net.Conn) (string, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return "", fmt.Errorf("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return "", err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return "", err
	}
	if cerr != nil {
		return "", cerr
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(cred.Pid)) + "/cgroup")
	if err != nil {
		return "", err
	}
	unit := unitOfCgroupFile(string(data))
	if unit == "" {
		return "", fmt.Errorf("pid %d runs in no service unit", cred.Pid)
	}
	return unit, nil
}

// unitOfCgroupFile is the unit named by /proc/PID/cgroup: the unified
// hierarchy's line ("0::PATH"), or systemd's own (":name=systemd:PATH").
func unitOfCgroupFile(data string) string {
	path := ""
	for line := range strings.Lines(data) {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "0::"); ok && path == "" {
			path = rest
		}
		if _, rest, ok := strings.Cut(line, ":name=systemd:"); ok {
			path = rest
		}
	}
	return sysd.UnitOfCgroup(path)
}

// followLogs follows, for PROCESS_LOG_STDOUT and _STDERR, the journal
// of each process of cfg with stdout_events_enabled or
// stderr_events_enabled, while a pool subscribes to them: one
// `journalctl -f` per such process, which wakes serve only when the
// process writes. The journal does not record which stream a line came
// from: every line is an event of the channel whose events are enabled
// (stdout when both are). A process whose output goes to files
// (--log-files) has none.
func (h *hub) followLogs(cfg *translate.Config) {
	h.mu.Lock()
	if h.logs != nil {
		h.logs()
		h.logs = nil
	}
	ctx := h.logsCtx
	h.mu.Unlock()
	if ctx == nil || !h.bus.Subscribed(events.ProcessLogStdout) && !h.bus.Subscribed(events.ProcessLogStderr) {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	h.mu.Lock()
	h.logs = cancel
	h.mu.Unlock()
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			ch := events.Stdout
			switch {
			case p.Stdout.EventsEnabled:
			case p.Stderr.EventsEnabled:
				ch = events.Stderr
			default:
				continue
			}
			h.logsWG.Add(1)
			go func() {
				defer h.logsWG.Done()
				h.followLog(ctx, g.Name, p.Name, ch)
			}()
		}
	}
}

// followLog publishes each line of one process's output in the journal
// until ctx is done.
func (h *hub) followLog(ctx context.Context, group, name string, ch events.Channel) {
	m, done := h.b.acquire()
	unit, journal, err := m.JournalFor(ctx, group, name, ch.String())
	if err != nil || !journal {
		done()
		return
	}
	r, err := m.FollowNewOutput(ctx, unit)
	done()
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn(fmt.Sprintf("PROCESS_LOG events of %s:%s: %v", group, name, err))
		}
		return
	}
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			src := events.Source{Name: name, Group: group, PID: h.tracks.PID(unit)}
			h.bus.Publish(events.NewProcessLog(ch, src, line))
		}
		if err != nil {
			return
		}
	}
}

// publish hands e to the pools.
func (h *hub) publish(e events.Event) { h.bus.Publish(e) }

func (h *hub) close() {
	h.mu.Lock()
	if h.logs != nil {
		h.logs()
	}
	h.mu.Unlock()
	h.logsWG.Wait()
	h.bus.Close()
}
