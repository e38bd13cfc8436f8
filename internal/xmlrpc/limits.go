package xmlrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/semaphore"
)

// Limits keep the control API alive for its owner whatever other clients
// do. supervisord has none of them: a client that trickles a request
// holds its channel for ever, bodies in flight have no bound, and idle
// connections may take every descriptor, so that the owner's status
// times out and a program that restarts meanwhile goes FATAL ("too many
// open files to spawn"). The README lists each value and why.
type Limits struct {
	// HeaderTimeout bounds the reading of a request's headers, from its
	// first byte (from the accept for a new connection). 0 is 10 s.
	HeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a request's body, from the
	// start of its handler (the headers are HeaderTimeout's); the
	// deadline is lifted once the body is read, so that the call itself
	// may take as long as it needs. It also bounds a large body's wait
	// for the in-flight budget. 0 is 60 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a response, and each write of a
	// log tail, to a client that does not read. 0 is 60 s.
	WriteTimeout time.Duration
	// IdleTimeout closes a connection left idle between requests; 0 is
	// 30 minutes, medusa's zombie_timeout.
	IdleTimeout time.Duration
	// InFlight bounds the bytes of request bodies, counted after entity
	// expansion, read and handled at once; a body of up to smallBody
	// bytes (all supervisorctl sends but large stdin) never waits for
	// it. 0 is maxBody.
	InFlight int64
	// MaxConns bounds the descriptors the connections of every listener
	// of the server hold at once, a log stream (tail -f) counting three
	// (its socket, the log file and an inotify descriptor). 0 is
	// ConnLimit(0).
	MaxConns int
}

// Default limits (see Limits).
const (
	defaultHeaderTimeout = 10 * time.Second
	defaultReadTimeout   = 60 * time.Second
	defaultWriteTimeout  = 60 * time.Second
	defaultIdleTimeout   = 30 * time.Minute
)

// smallBody is the size up to which a request body is read without
// waiting for the in-flight budget: MaxConns of them take at most
// MaxConns × 64 KiB, and the owner's supervisorctl is never held back by
// other clients' large bodies.
const smallBody = 64 << 10

// Descriptors kept for everything but the control API's connections, by
// ConnLimit: reserveBase for the daemon itself (listeners, main log,
// stdio, the forker threads' sockets, signals, the runtime's poller),
// reservePerProcess for each process (three pipes and two logs while it
// runs, three more pipe ends while it is spawned).
const (
	reserveBase       = 64
	reservePerProcess = 8
	maxConnsCeiling   = 1024 // above it, connections cost memory and no owner needs them
	maxConnsFloor     = 8    // however short the descriptors, the owner gets in
)

// ConnLimit is the MaxConns that keeps descriptors for a daemon running
// procs processes: half of what RLIMIT_NOFILE leaves after the reserve
// above (the other half for what requests open while they run: a log
// file read by readProcessStdoutLog, for one), at most 1024 and at least 8.
func ConnLimit(procs int) int {
	var rl syscall.Rlimit
	nofile := 1024
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < uint64(1<<31) {
		nofile = int(rl.Cur)
	} else if err == nil {
		nofile = 1 << 31
	}
	n := (nofile - reserveBase - reservePerProcess*procs) / 2
	return min(max(n, maxConnsFloor), maxConnsCeiling)
}

// withDefaults fills in the zero fields.
func (l Limits) withDefaults() Limits {
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = defaultHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = defaultReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = defaultWriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = defaultIdleTimeout
	}
	if l.InFlight <= 0 {
		l.InFlight = maxBody
	}
	if l.MaxConns <= 0 {
		l.MaxConns = ConnLimit(0)
	}
	return l
}

// The connection limit is written here rather than taken from
// golang.org/x/net/netutil.LimitListener: at its limit, LimitListener
// stops accepting, so the owner's connection waits in the backlog
// behind the idle ones that hold the slots, and its supervisorctl
// times out. Here a newcomer at the limit closes the connection that
// has waited longest without a request in progress instead, and the
// connection states this needs come from http.Server's ConnState hook,
// which only the server sees.

// phase is where a tracked connection is, as far as eviction goes.
type phase int

const (
	phaseIdle   phase = iota // accepted, or between requests, or sending a request's headers
	phaseBusy                // a request is handled (headers read) or its response written
	phaseStream              // taken over by a log tail
)

// conns counts the connections of every listener of a Server.
type conns struct {
	mu    sync.Mutex
	max   int
	held  int // descriptors held by the connections in all
	all   map[*trackedConn]struct{}
	clock func() time.Time
}

// trackedConn is an accepted connection that gives its slot back when
// closed. Its phase and since are guarded by conns.mu.
type trackedConn struct {
	net.Conn
	cs     *conns
	once   sync.Once
	phase  phase
	since  time.Time // when phase began
	weight int       // descriptors it holds
}

func newConns(max int, clock func() time.Time) *conns {
	return &conns{max: max, all: map[*trackedConn]struct{}{}, clock: clock}
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.cs.mu.Lock()
		delete(c.cs.all, c)
		c.cs.held -= c.weight
		c.cs.mu.Unlock()
	})
	return c.Conn.Close()
}

// set moves c into phase p.
func (c *trackedConn) set(p phase) {
	c.cs.mu.Lock()
	defer c.cs.mu.Unlock()
	if _, ok := c.cs.all[c]; !ok {
		return
	}
	if p == phaseStream && c.phase != phaseStream {
		c.weight += 2 // the log file and its inotify watch
		c.cs.held += 2
	}
	c.phase, c.since = p, c.cs.clock()
}

// admit tracks a new connection. When the connections already hold the
// limit, it closes the one that has waited longest without a request in
// progress (idle, or still sending its headers: http.Server reports a
// request only once its headers are read), and refuses nc when there is
// none.
func (cs *conns) admit(nc net.Conn) (*trackedConn, bool) {
	cs.mu.Lock()
	var victim *trackedConn
	if cs.held >= cs.max {
		victim = cs.victim()
		if victim == nil {
			cs.mu.Unlock()
			return nil, false
		}
	}
	c := &trackedConn{Conn: nc, cs: cs, phase: phaseIdle, since: cs.clock(), weight: 1}
	cs.all[c] = struct{}{}
	cs.held++
	cs.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return c, true
}

// victim picks the connection to close for a newcomer, nil when every
// connection is busy. cs.mu is held.
func (cs *conns) victim() *trackedConn {
	var best *trackedConn
	for c := range cs.all {
		if c.phase == phaseIdle && (best == nil || c.since.Before(best.since)) {
			best = c
		}
	}
	return best
}

// evictOne closes the connection victim picks, for an accept that found
// no descriptor free; false when there is none.
func (cs *conns) evictOne() bool {
	cs.mu.Lock()
	v := cs.victim()
	cs.mu.Unlock()
	if v == nil {
		return false
	}
	v.Close()
	return true
}

// connState is the http.Server's ConnState hook. A connection going
// idle also loses the write deadline of its last response, so that what
// http.Server writes before the next handler runs (a 400 for bad
// headers) is not cut short by it.
func (cs *conns) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*trackedConn)
	if !ok {
		return
	}
	switch st {
	case http.StateActive:
		c.set(phaseBusy)
	case http.StateIdle:
		c.set(phaseIdle)
		c.SetWriteDeadline(time.Time{})
	case http.StateHijacked:
		c.set(phaseStream)
	}
}

// limitListener admits every connection it accepts through conns.
type limitListener struct {
	net.Listener
	cs *conns
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			// Out of descriptors for all the limit (programs hold more
			// than their reserve): free one and accept again.
			if (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) && l.cs.evictOne() {
				continue
			}
			return nil, err
		}
		c, ok := l.cs.admit(nc)
		if !ok {
			refuse(nc)
			continue
		}
		return c, nil
	}
}

// refuse answers a connection over the limit with 503 and closes it.
func refuse(nc net.Conn) {
	body := errorPage(http.StatusServiceUnavailable)
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(nc, "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\nConnection: close\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	nc.Close()
}

// budget is the in-flight bound on request bodies, shared by every
// listener of a Server.
type budget struct {
	sem  *semaphore.Weighted
	size int64
}

// errBusy is a request that could not get its share of the in-flight
// budget in time: 503.
var errBusy = errors.New("too many request bytes in flight")

// claim is one request's share of the budget.
type claim struct {
	b    *budget
	ctx  context.Context
	held int64
}

// grow makes the claim cover a request of total bytes, waiting for the
// budget until the claim's context ends. A request of up to smallBody
// bytes needs none.
func (c *claim) grow(total int64) error {
	if total <= smallBody || total <= c.held {
		return nil
	}
	if total > c.b.size {
		return errBusy
	}
	if err := c.b.sem.Acquire(c.ctx, total-c.held); err != nil {
		return errBusy
	}
	c.held = total
	return nil
}

func (c *claim) release() {
	if c.held > 0 {
		c.b.sem.Release(c.held)
		c.held = 0
	}
}
