package events

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/status"
)

// Pool is the listener pool of one [eventlistener:x] group
// (Supervisor's EventListenerPool): its subscription, its event buffer
// of buffer_size events, its serials, and its listener processes.
type Pool struct {
	bus     *Bus
	name    string
	subs    []Type // distinct subscribed types, in events= order
	size    int    // buffer_size
	buf     ring   // the event buffer, oldest first
	serial  int64  // the last pool serial handed out
	slots   []*Listener
	names   []string // process names, the order of slots
	removed bool
}

// published is one published event: Supervisor numbers an event once,
// however many pools take it.
type published struct {
	Event
	serial int64
}

// item is an event in one pool, with its pool serial.
type item struct {
	ev         *published
	poolSerial int64
}

// Name is the pool's (group's) name, the pool: header token.
func (p *Pool) Name() string { return p.name }

// Attach registers a newly spawned listener process of the pool, the one
// named process in the group; stdin is the write end of the pipe to its
// standard input. The listener starts ACKNOWLEDGED (waiting for READY) in
// process state STARTING. Attaching a process again (a respawn) first
// does what Exit does for the previous listener of that name.
//
// The bus writes event envelopes to stdin from its own goroutines, one
// write at a time per listener; a write may block as long as the listener
// does not read. Close stdin once the process is gone: a write in
// progress then fails and the event goes back to the buffer.
func (p *Pool) Attach(process string, stdin io.Writer) (*Listener, error) {
	b := p.bus
	b.mu.Lock()
	defer b.unlock()
	if p.removed {
		return nil, fmt.Errorf("event listener pool %s was removed", p.name)
	}
	for i, name := range p.names {
		if name != process {
			continue
		}
		if old := p.slots[i]; old != nil {
			old.exit()
		}
		l := &Listener{pool: p, name: process, idx: i, stdin: stdin,
			state: ListenerAcknowledged, proc: status.Starting}
		p.slots[i] = l
		return l, nil
	}
	return nil, fmt.Errorf("event listener pool %s has no process %s", p.name, process)
}

// matches is how many of p's subscriptions take an event of type t:
// Supervisor calls the pool once per matching subscription.
func (p *Pool) matches(t Type) int {
	n := 0
	for _, s := range p.subs {
		if t.Is(s) {
			n++
		}
	}
	return n
}

// accept is EventListenerPool._acceptEvent: it buffers it (at the head
// when re-buffering), discarding the oldest event when the buffer is
// full. fresh is false when the pool had already numbered the event.
func (p *Pool) accept(it item, head, fresh bool) {
	if !fresh {
		p.bus.debugf("rebuffering event %d for pool %s (buf size=%d, max=%d)",
			it.ev.serial, p.name, p.buf.len(), p.size)
	}
	if p.buf.len() >= p.size && p.buf.len() > 0 {
		old := p.buf.popFront()
		p.bus.log.Error(fmt.Sprintf("pool %s event buffer overflowed, discarding event %d", p.name, old.ev.serial))
	}
	if head {
		p.buf.pushFront(it)
	} else {
		p.buf.pushBack(it)
	}
}

// dispatch is EventListenerPool.transition's dispatch: while some
// listener can take an event, send the oldest buffered event to the first
// one that can.
func (p *Pool) dispatch() {
	if p.removed || !p.capable() {
		return
	}
	for p.buf.len() > 0 {
		it := p.buf.popFront()
		if !p.send(it) {
			p.accept(it, true, false)
			break
		}
	}
}

// capable reports whether some listener can take an event now.
func (p *Pool) capable() bool {
	for _, l := range p.slots {
		if l.canTake() {
			return true
		}
	}
	return false
}

// send is _dispatchEvent: it hands it to the first listener that is
// RUNNING and READY, which becomes BUSY.
func (p *Pool) send(it item) bool {
	for _, l := range p.slots {
		if !l.canTake() {
			continue
		}
		env := p.envelope(it)
		l.event = &it
		l.setState(ListenerBusy, false)
		l.writing = true
		l.writes++
		p.bus.writes.Add(1)
		go l.write(env, it, l.writes)
		p.bus.debugf("event %d sent to listener %s", it.ev.serial, l.name)
		return true
	}
	return false
}

// envelope is _eventEnvelope: the header line, then the payload. len: is
// the payload's length in characters, as Python's len() of a str counts:
// a Python listener reads its text-mode stdin in characters.
func (p *Pool) envelope(it item) []byte {
	e := it.ev
	b := make([]byte, 0, 128+len(p.bus.id)+len(p.name)+len(e.Payload))
	b = append(b, "ver:3.0 server:"...)
	b = append(b, p.bus.id...)
	b = append(b, " serial:"...)
	b = strconv.AppendInt(b, e.serial, 10)
	b = append(b, " pool:"...)
	b = append(b, p.name...)
	b = append(b, " poolserial:"...)
	b = strconv.AppendInt(b, it.poolSerial, 10)
	b = append(b, " eventname:"...)
	b = append(b, e.Type.String()...)
	b = append(b, " len:"...)
	b = strconv.AppendInt(b, int64(utf8.RuneCountInString(e.Payload)), 10)
	b = append(b, '\n')
	return append(b, e.Payload...)
}

// ring is a double-ended queue of items: the event buffer takes events at
// both ends and gives them from the front.
type ring struct {
	items []item
	head  int
	n     int
}

func (r *ring) len() int { return r.n }

func (r *ring) grow() {
	if r.n < len(r.items) {
		return
	}
	items := make([]item, max(4, 2*len(r.items)))
	for i := range r.n {
		items[i] = r.items[(r.head+i)%len(r.items)]
	}
	r.items, r.head = items, 0
}

func (r *ring) pushBack(it item) {
	r.grow()
	r.items[(r.head+r.n)%len(r.items)] = it
	r.n++
}

func (r *ring) pushFront(it item) {
	r.grow()
	r.head = (r.head - 1 + len(r.items)) % len(r.items)
	r.items[r.head] = it
	r.n++
}

func (r *ring) popFront() item {
	it := r.items[r.head]
	r.items[r.head] = item{}
	r.head = (r.head + 1) % len(r.items)
	r.n--
	if r.n == 0 {
		r.items, r.head = nil, 0 // an idle pool keeps no memory
	}
	return it
}
