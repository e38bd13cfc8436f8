package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/supersede/supersede/translate"
)

// DefaultResultHandler is the only result_handler supersede runs:
// Supervisor's own, which accepts a result of exactly "OK" and rejects
// (re-buffers) anything else.
const DefaultResultHandler = "supervisor.dispatchers:default_handler"

// ErrUnsupportedHandler is returned by AddPool for a result_handler other
// than DefaultResultHandler: that is Python code supersede cannot run.
var ErrUnsupportedHandler = errors.New("result_handler is not supported")

// Options configures a Bus.
type Options struct {
	// Identifier is [supervisord] identifier, the server: token of every
	// event header.
	Identifier string

	// Logger receives Supervisor's main-log messages about events, with
	// Supervisor's exact text and no attributes: Debug for its debug
	// lines, Warn and Error for its warnings and errors. nil discards.
	Logger *slog.Logger

	// Now is the wall clock of TICK events; nil means time.Now.
	Now func() time.Time

	// OnListenerState, if set, is called after each protocol state change
	// of a listener, without the bus's lock held, so it may call back into
	// the bus. It must not block for long.
	OnListenerState func(l *Listener, from, to ListenerState)
}

// Bus is supervisord's event system: it numbers published events,
// hands them to the listener pools that subscribe to them and runs the
// TICK clock. Its methods are safe for concurrent use, and none of them
// waits on a listener: events are written to listeners from goroutines
// of the bus's own.
type Bus struct {
	mu      sync.Mutex
	id      string
	log     *slog.Logger
	now     func() time.Time
	onState func(*Listener, ListenerState, ListenerState)

	serial int64   // GlobalSerial: the last serial handed out
	pools  []*Pool // in the order added (Supervisor's subscription order)

	ticks       [len(tickPeriods)]int64 // the last timeslice of each TICK period
	timer       *time.Timer             // armed only while a pool subscribes to a TICK type
	timerPeriod int64
	timerGen    uint64
	closed      bool

	pending []stateNote // listener state changes to report once unlocked

	writes sync.WaitGroup // envelopes being written; tests wait for them to settle
}

type stateNote struct {
	l        *Listener
	from, to ListenerState
}

// NewBus returns a bus with no pools. It starts no goroutine and no
// timer; the first serial it hands out is 0.
func NewBus(opts Options) *Bus {
	b := &Bus{
		id:      opts.Identifier,
		log:     opts.Logger,
		now:     opts.Now,
		onState: opts.OnListenerState,
		serial:  -1,
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	// supervisord's first tick() only records the current timeslices, so
	// the first TICK of each period comes at its next boundary.
	now := b.now()
	for i, p := range tickPeriods {
		b.ticks[i] = timeslice(p.period, now)
	}
	return b
}

// SetIdentifier changes the server: token, as a reload with a new
// [supervisord] identifier does.
func (b *Bus) SetIdentifier(id string) {
	b.mu.Lock()
	b.id = id
	b.unlock()
}

// Publish hands e to every pool that subscribes to its type, as
// supervisor.events.notify does. An event that some pool takes gets the
// next global serial; one that no pool takes uses none. A pool
// subscribed to e's type twice over (events=EVENT,PROCESS_STATE) buffers
// it twice, as Supervisor does.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.unlock()
	b.publish(e)
}

// Subscribed reports whether some pool takes events of type t; callers
// may skip building events nobody takes.
func (b *Bus) Subscribed(t Type) bool {
	b.mu.Lock()
	defer b.unlock()
	for _, p := range b.pools {
		if p.matches(t) > 0 {
			return true
		}
	}
	return false
}

// AddPool creates the listener pool of an [eventlistener:x] group and
// subscribes it. Its listeners are g.Processes, in that order: an event
// goes to the first of them that is RUNNING and READY.
func (b *Bus) AddPool(g *translate.Group) (*Pool, error) {
	if g.Type != translate.GroupEventListener {
		return nil, fmt.Errorf("group %s is a %s group, not an event listener pool", g.Name, g.Type)
	}
	p := &Pool{
		bus:    b,
		name:   g.Name,
		size:   g.BufferSize,
		serial: -1,
		slots:  make([]*Listener, len(g.Processes)),
		names:  make([]string, len(g.Processes)),
	}
	for i, proc := range g.Processes {
		p.names[i] = proc.Name
	}
	section := "[eventlistener:" + g.Name + "]"
	if p.size < 1 {
		return nil, &translate.Error{Pos: g.KeyPos["buffer_size"],
			Err:  fmt.Errorf("%s section sets invalid buffer_size (%d)", section, p.size),
			Hint: "use a buffer_size of 1 or more"}
	}
	if len(g.Events) == 0 {
		return nil, &translate.Error{Pos: g.Pos,
			Err:  fmt.Errorf("%s section requires an \"events\" line", section),
			Hint: "add events=, such as events=PROCESS_STATE"}
	}
	for _, name := range g.Events {
		t, ok := ParseType(strings.ToUpper(name))
		if !ok {
			return nil, &translate.Error{Pos: g.KeyPos["events"],
				Err:  fmt.Errorf("Unknown event type %s in %s events", name, section),
				Hint: "use event type names such as PROCESS_STATE, TICK_60 or EVENT"}
		}
		if !slices.Contains(p.subs, t) {
			p.subs = append(p.subs, t)
		}
	}
	if h := g.ResultHandler; h != "" && h != DefaultResultHandler {
		return nil, &translate.Error{Pos: g.KeyPos["result_handler"],
			Err:  fmt.Errorf("%w: %s in %s", ErrUnsupportedHandler, h, section),
			Hint: "supersede runs no Python; remove the line to use " + DefaultResultHandler + ", which accepts OK and re-sends the event on anything else"}
	}
	b.mu.Lock()
	defer b.unlock()
	for _, q := range b.pools {
		if q.name == p.name {
			return nil, fmt.Errorf("event listener pool %s is already added", p.name)
		}
	}
	b.pools = append(b.pools, p)
	b.armTimer()
	return p, nil
}

// RemovePool unsubscribes p (Supervisor's before_remove). Its buffered
// events are dropped; its listeners get no more events, and calls on them
// are ignored.
func (b *Bus) RemovePool(p *Pool) {
	b.mu.Lock()
	defer b.unlock()
	if p.removed {
		return
	}
	p.removed = true
	b.pools = slices.DeleteFunc(b.pools, func(q *Pool) bool { return q == p })
	p.buf = ring{}
	for i, l := range p.slots {
		if l != nil {
			l.gone = true
			l.event = nil
			p.slots[i] = nil
		}
	}
	b.armTimer()
}

// Close stops the TICK clock for good. Publishing still works; call Close
// when supervisord's main loop ends.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.unlock()
	b.closed = true
	b.armTimer()
}

// publish is Publish with b.mu held.
func (b *Bus) publish(e Event) {
	var ev *published
	for _, p := range b.pools {
		n := p.matches(e.Type)
		if n == 0 {
			continue
		}
		if ev == nil {
			ev = &published{Event: e, serial: nextSerial(&b.serial)}
		}
		it := item{ev: ev, poolSerial: nextSerial(&p.serial)}
		p.accept(it, false, true)
		for range n - 1 {
			p.accept(it, false, false)
		}
		p.dispatch()
	}
}

// nextSerial is process.new_serial: serials count up from 0 and wrap to 0
// after sys.maxsize.
func nextSerial(s *int64) int64 {
	if *s == math.MaxInt64 {
		*s = -1
	}
	*s++
	return *s
}

// tick is supervisord's tick(now): a TICK_<period> event for each period
// whose timeslice changed since the last call.
func (b *Bus) tick(now time.Time) {
	for i, p := range tickPeriods {
		if this := timeslice(p.period, now); this != b.ticks[i] {
			b.ticks[i] = this
			e, _ := NewTick(p.t, now)
			b.publish(e)
		}
	}
}

// tickPeriod is the shortest TICK period some pool subscribes to, 0 for
// none.
func (b *Bus) tickPeriod() int64 {
	var best int64
	for _, p := range b.pools {
		for _, tp := range tickPeriods {
			if p.matches(tp.t) > 0 {
				if best == 0 || tp.period < best {
					best = tp.period
				}
				break // tickPeriods is ascending
			}
		}
	}
	return best
}

// armTimer keeps a timer armed for the next boundary of the shortest
// subscribed TICK period, and none when no pool subscribes to a TICK
// type, so an idle bus never wakes up.
func (b *Bus) armTimer() {
	period := b.tickPeriod()
	if b.closed {
		period = 0
	}
	if b.timer != nil && period == b.timerPeriod {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
		b.timerGen++
	}
	b.timerPeriod = period
	if period == 0 {
		return
	}
	now := b.now()
	next := time.Unix(timeslice(period, now)+period, 0)
	gen := b.timerGen
	b.timer = time.AfterFunc(next.Sub(now), func() { b.fire(gen) })
}

// fire runs on the timer's goroutine at a TICK boundary.
func (b *Bus) fire(gen uint64) {
	b.mu.Lock()
	defer b.unlock()
	if gen != b.timerGen {
		return // stopped or re-armed meanwhile
	}
	b.timer = nil
	b.timerGen++
	if b.closed {
		return
	}
	b.tick(b.now())
	b.armTimer()
}

// unlock releases b.mu, then reports the listener state changes made
// while it was held.
func (b *Bus) unlock() {
	notes := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, n := range notes {
		b.onState(n.l, n.from, n.to)
	}
}

// debugf logs a Supervisor debug line, formatting it only when enabled.
func (b *Bus) debugf(format string, args ...any) {
	if b.log.Enabled(context.Background(), slog.LevelDebug) {
		b.log.Debug(fmt.Sprintf(format, args...))
	}
}
