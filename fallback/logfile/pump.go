package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// chunkSize is the most read from a pipe at once, and so the most
	// written to a log in one emit: Supervisor's readfd reads 128 KiB.
	chunkSize = 128 << 10
	// prefixChunk is the read size for prefixed output, which can grow
	// by a prefix per newline: it bounds what waits for a full pipe.
	prefixChunk = 16 << 10
	// readsPerTurn is how many chunks one busy pipe gets before the
	// others' turn.
	readsPerTurn = 8
	// pipeFull is the default pipe capacity: a read this big means the
	// child is waiting on a full pipe, and the pipe is enlarged to
	// bigPipe once, so a chatty child makes fewer, larger writes.
	pipeFull = 64 << 10
	bigPipe  = 1 << 20
	// shutdownGrace is how long Run waits, once its context is done, for
	// blocked destinations (a full stdout pipe) to take the last output.
	shutdownGrace = 2 * time.Second

	destBit = 1 << 63 // epoll data of a destination waiting to be writable
)

// ErrStopped is returned by Add after Run has returned or begun to stop.
var ErrStopped = errors.New("log pump is stopped")

// Output says what to do with the output of one pipe (a process's stdout
// or stderr), in Supervisor's order for each chunk read: OnRaw; the
// capture-mode split (CaptureMaxBytes); strip_ansi; then File and Syslog
// (outside a capture) or the capture buffer (inside); then OnData.
//
// Callbacks run on the pump's goroutine: they must return quickly, must
// not call Run, and may keep data only by copying it.
type Output struct {
	File      *File   // the log file; nil for none (NONE, syslog only)
	Syslog    *Syslog // *_syslog=true: each line also to syslog as "Name line"
	Name      string  // the process name, for Syslog
	StripANSI bool    // [supervisord] strip_ansi

	// Prefix, when not empty, is written into File before the first byte
	// of every line: for several programs sharing one stream, such as
	// the container's stdout (Supervisor#553; e.g. "web | "). Output is
	// written at once, partial lines included; a multi-byte character
	// is never split between writes; and when another writer writes into
	// the same File while this output's line is open, a newline ends
	// that line first and the rest of the line gets its own prefix, so
	// lines of different programs never mix.
	Prefix string

	// CaptureMaxBytes > 0 turns on capture mode (*_capture_maxbytes):
	// output between <!--XSUPERVISOR:BEGIN--> and <!--XSUPERVISOR:END-->
	// goes into a buffer of that size instead of File and Syslog, and
	// OnCapture gets the buffer at the end token
	// (PROCESS_COMMUNICATION_STDOUT/STDERR). As in Supervisor, up to a
	// token's length of output waits in the dispatcher for more, to
	// recognise a token cut between reads; unlike Supervisor it is
	// logged at the end instead of lost.
	CaptureMaxBytes int
	OnCapture       func(data []byte)

	// OnRaw gets every chunk as read, before anything else (an event
	// listener's stdout, for fallback/events' protocol).
	OnRaw func(data []byte)

	// OnData gets every chunk that is logged, after capture splitting and
	// strip_ansi, inside a capture or not: for PROCESS_LOG_STDOUT/STDERR
	// events (*_events_enabled) and the debug main-log line
	// (DebugMessage). Leave it nil when neither is on.
	OnData func(data []byte)

	// OnError gets errors writing the log or syslog; the chunk is lost,
	// as in Supervisor, which prints a traceback and carries on. A
	// failure is reported once until a different one happens.
	OnError func(err error)

	// OnClose is called once when the source is closed: at end of file,
	// after Finish, or when Run stops; every byte read was handled by
	// then.
	OnClose func()
}

// Pump moves the output of child pipes into their logs: one goroutine
// and one epoll set for all pipes, no goroutine or buffer per pipe, and
// no wake-ups while the pipes are idle.
//
// Output that only goes to a regular file is spliced (splice(2)) from
// the pipe into the file, up to 1 MiB a call, never passing through user
// space. Measured on 500 MB from one child (BENCH.md), this takes 3 to
// 15% less of the daemon's CPU (median 0.15–0.18 s) than copying through
// a 128 KiB buffer, and no memory; a 1 MiB buffer would do about as well
// as splice but would cost the daemon 1 MiB. Anything else (a pipe or tty,
// prefixes, strip_ansi, capture mode, syslog, callbacks) is read into
// one shared 128 KiB buffer and written from there.
//
// When a destination cannot take more (a full pipe or tty), the sources
// writing to it stop being read until it can: their children block on
// their own pipes, other logs keep moving, and no more than one read's
// output is held per source. A pipe the child keeps full is enlarged to
// 1 MiB once (F_SETPIPE_SZ), so a chatty child makes fewer, larger
// writes.
type Pump struct {
	mu       sync.Mutex
	ep       int
	wakeR    int
	wakeW    int
	sources  map[uint64]*Source
	nextID   uint64
	requests []*Source // Finish calls not yet taken up
	running  bool
	stopping bool
	stopped  bool

	// The pump goroutine's own.
	buf      []byte
	out      []byte
	strip    []byte
	again    []*Source
	dests    map[*shared]*dest
	destByID map[uint64]*dest
	nextDest uint64
	grace    time.Duration

	turns atomic.Uint64 // epoll wake-ups, for tests and benchmarks
}

// dest is a destination whose descriptor is full, and the sources
// waiting, in order, to write to it.
type dest struct {
	id      uint64
	f       *shared
	fd      int
	waiters []*Source
}

// Source is one pipe being pumped.
type Source struct {
	p   *Pump
	id  uint64
	out Output
	f   *shared // out.File's, or nil

	finishReq bool // guarded by p.mu

	// The pump goroutine's own.
	fd      int
	budget  int  // after Finish: bytes still to read; -1 before
	closing bool // no more reads; close once what waits is written
	done    bool
	paused  bool // waiting for f to take what waits (x.pendOut, x.pendIn)
	grown   bool
	fast    bool     // nothing but a regular file to write: splice
	capt    *capture // capture mode, when on
	x       *extra   // state of the copy path, made when first needed
}

// extra is what a Source needs only when its output is copied through
// the pump's buffer: kept apart so that idle spliced sources stay small.
type extra struct {
	// While paused: pendOut is output made for f that it has not taken
	// yet; pendIn is logged data not yet made into output (prefixes
	// depend on what f holds when it is written); pendFinal says pendIn
	// ends the stream.
	pendOut   []byte
	pendIn    []byte
	pendFinal bool
	hold      [3]byte
	nhold     int // the start of a character cut by the read (Prefix)
	ansi      ansiState
	lastErr   string
}

// NewPump returns a Pump. Nothing moves until Run runs; Run also
// releases the Pump's descriptors when it returns.
func NewPump() (*Pump, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("log pump: epoll: %w", err)
	}
	var w [2]int
	if err := syscall.Pipe2(w[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(ep)
		return nil, fmt.Errorf("log pump: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, w[0], &ev); err != nil {
		syscall.Close(ep)
		syscall.Close(w[0])
		syscall.Close(w[1])
		return nil, fmt.Errorf("log pump: epoll: %w", err)
	}
	return &Pump{
		ep: ep, wakeR: w[0], wakeW: w[1], grace: shutdownGrace,
		sources:  map[uint64]*Source{},
		dests:    map[*shared]*dest{},
		destByID: map[uint64]*dest{},
	}, nil
}

// Add starts pumping fd, the parent's end of a child's pipe (see Pipe),
// as o says. The Pump takes fd over: it closes it when the source
// closes, and Add closes it on error.
func (p *Pump) Add(fd int, o Output) (*Source, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("log pump: %w", err)
	}
	s := &Source{p: p, fd: fd, out: o, budget: -1}
	if o.File != nil {
		if o.File.closed.Load() {
			syscall.Close(fd)
			return nil, ErrClosed
		}
		s.f = o.File.s
	}
	if o.CaptureMaxBytes > 0 {
		s.capt = &capture{max: o.CaptureMaxBytes}
	}
	s.fast = s.f != nil && o.Prefix == "" && !o.StripANSI && s.capt == nil &&
		o.OnRaw == nil && o.OnData == nil && o.Syslog == nil
	if !s.fast {
		s.x = &extra{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || p.stopped {
		syscall.Close(fd)
		return nil, ErrStopped
	}
	p.nextID++
	s.id = p.nextID
	ev := epollEvent(syscall.EPOLLIN, s.id)
	if err := syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("log pump: epoll: %w", err)
	}
	p.sources[s.id] = s
	return s, nil
}

// Finish says the child has exited (it was reaped): the source reads
// what the pipe holds now, logs it, and closes, without waiting for end
// of file, which a grandchild holding the pipe could put off for ever.
// Supervisor reads once (at most 128 KiB) and drops the rest; here
// nothing the child wrote is lost. OnClose follows. Finish may be called
// from any goroutine, more than once.
func (s *Source) Finish() {
	p := s.p
	p.mu.Lock()
	if !s.finishReq && !p.stopped {
		s.finishReq = true
		p.requests = append(p.requests, s)
	}
	p.mu.Unlock()
	p.wake()
}

// wake interrupts the pump's epoll_wait.
func (p *Pump) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wakeW >= 0 {
		syscall.Write(p.wakeW, []byte{0}) // non-blocking: a full pipe wakes it anyway
	}
}

func epollEvent(events uint32, id uint64) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

func eventID(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// Run pumps until ctx is done, then reads what every pipe holds, logs
// it, closes every source (OnClose) and returns. Destinations that
// stay full for 2 s at that point lose what they could not take (an
// error to OnError). Run may be called once.
func (p *Pump) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running || p.stopped {
		p.mu.Unlock()
		return errors.New("log pump: Run called twice")
	}
	p.running = true
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, p.wake)
	defer stop()
	defer p.release()

	evs := make([]syscall.EpollEvent, 64)
	var deadline time.Time
	for {
		timeout := -1
		if !deadline.IsZero() {
			timeout = 50
		}
		n, err := syscall.EpollWait(p.ep, evs, timeout)
		p.turns.Add(1)
		if err != nil && err != syscall.EINTR {
			return fmt.Errorf("log pump: epoll: %w", err)
		}
		for i := range max(n, 0) {
			ev := &evs[i]
			switch id := eventID(ev); {
			case id == 0:
				p.drainWake()
			case id&destBit != 0:
				p.destReady(id)
			default:
				p.mu.Lock()
				s := p.sources[id]
				p.mu.Unlock()
				if s != nil && !s.closing {
					p.readable(s)
				}
			}
		}
		p.takeRequests()
		if ctx.Err() != nil {
			if deadline.IsZero() {
				deadline = time.Now().Add(p.grace)
				p.finishAll()
			}
			p.mu.Lock()
			left := len(p.sources)
			p.mu.Unlock()
			if left == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				p.abandon()
				return nil
			}
		}
	}
}

func (p *Pump) drainWake() {
	var b [64]byte
	for {
		n, _ := syscall.Read(p.wakeR, b[:])
		if n <= 0 {
			return
		}
	}
}

// release closes the Pump's descriptors once Run is done.
func (p *Pump) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for _, s := range p.sources {
		if s.fd >= 0 {
			syscall.Close(s.fd)
			s.fd = -1
		}
	}
	syscall.Close(p.ep)
	syscall.Close(p.wakeR)
	syscall.Close(p.wakeW)
	p.ep, p.wakeR, p.wakeW = -1, -1, -1
}

// takeRequests starts the Finish calls made since the last turn, and
// runs the sources that have something to do outside of epoll's events.
func (p *Pump) takeRequests() {
	p.mu.Lock()
	reqs := p.requests
	p.requests = nil
	p.mu.Unlock()
	for _, s := range reqs {
		p.startFinish(s)
	}
	for len(p.again) > 0 {
		s := p.again[0]
		p.again = p.again[1:]
		if s.closing || s.paused {
			continue
		}
		p.readable(s)
	}
	p.again = p.again[:0]
}

// startFinish limits s to what its pipe holds now.
func (p *Pump) startFinish(s *Source) {
	if s.closing || s.done || s.budget >= 0 {
		return
	}
	n, err := pending(s.fd)
	if err != nil {
		n = 0
	}
	s.budget = n
	p.again = append(p.again, s)
}

// finishAll finishes every source: ctx is done.
func (p *Pump) finishAll() {
	p.mu.Lock()
	p.stopping = true
	all := make([]*Source, 0, len(p.sources))
	for _, s := range p.sources {
		all = append(all, s)
	}
	p.mu.Unlock()
	for _, s := range all {
		p.startFinish(s)
	}
	p.takeRequests()
}

// abandon closes the sources still open at the end of the shutdown
// grace: those waiting on a full destination lose what waits.
func (p *Pump) abandon() {
	for _, d := range p.dests {
		for _, s := range d.waiters {
			p.report(s, fmt.Errorf("%s: full at shutdown: %d bytes of output dropped", d.f.path, len(s.x.pendOut)+len(s.x.pendIn)))
			s.x.pendOut, s.x.pendIn, s.paused = nil, nil, false
		}
		p.unwatch(d)
	}
	p.mu.Lock()
	left := make([]*Source, 0, len(p.sources))
	for _, s := range p.sources {
		left = append(left, s)
	}
	p.mu.Unlock()
	for _, s := range left {
		s.closing = true
		if s.fd >= 0 {
			syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_DEL, s.fd, nil)
			syscall.Close(s.fd)
			s.fd = -1
		}
		p.finalize(s)
	}
}

// readable reads and logs what s's pipe holds: up to readsPerTurn
// chunks, or all of its budget after Finish.
func (p *Pump) readable(s *Source) {
	if s.fast && p.spliceTurn(s) {
		return
	}
	if p.buf == nil {
		p.buf = make([]byte, chunkSize) // only once a source needs copying
	}
	if s.x == nil {
		s.x = &extra{}
	}
	for i := 0; i < readsPerTurn || s.budget >= 0; i++ {
		if s.paused || s.closing {
			return
		}
		want := chunkSize
		if s.out.Prefix != "" {
			want = prefixChunk
		}
		if s.budget >= 0 {
			if s.budget == 0 {
				p.close(s)
				return
			}
			want = min(want, s.budget)
		}
		n, err := syscall.Read(s.fd, p.buf[:want])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if s.budget >= 0 {
				p.close(s)
			}
			return
		case err != nil:
			p.report(s, fmt.Errorf("reading the output of %s: %w", s.out.Name, err))
			p.close(s)
			return
		case n == 0:
			p.close(s)
			return
		}
		if s.budget >= 0 {
			s.budget -= n
		}
		if n >= pipeFull && !s.grown {
			s.grown = true
			setPipeSize(s.fd, bigPipe)
		}
		p.process(s, p.buf[:n])
	}
}

// spliceTurn moves what s's pipe holds straight into its regular file,
// up to 1 MiB a call. It returns false when the bytes must be copied
// instead: a special file, a file that refuses splice, or a write error
// (the copy path reads the chunk and drops it, as Supervisor does,
// rather than leaving it in the pipe for ever).
func (p *Pump) spliceTurn(s *Source) bool {
	for i := 0; i < readsPerTurn || s.budget >= 0; i++ {
		if s.closing || s.paused {
			return true
		}
		want := bigPipe
		if s.budget >= 0 {
			if s.budget == 0 {
				p.close(s)
				return true
			}
			want = min(want, s.budget)
		}
		f := s.f
		f.mu.Lock()
		if f.special || f.noSplice {
			f.mu.Unlock()
			return false
		}
		if f.lineOpen {
			f.writeSome([]byte{'\n'}) // end another output's open line
			f.lineOpen, f.lineOwner = false, nil
		}
		n, err := f.spliceFrom(s.fd, want)
		f.mu.Unlock()
		if n > 0 {
			if s.budget >= 0 {
				s.budget -= n
			}
			if n >= pipeFull && !s.grown {
				s.grown = true
				setPipeSize(s.fd, bigPipe)
			}
		}
		switch {
		case err == nil && n == 0:
			p.close(s) // end of file
			return true
		case err == nil:
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			if s.budget >= 0 {
				p.close(s)
			}
			return true
		case n > 0:
			p.report(s, err) // moved, then the rollover failed
		default:
			return false
		}
	}
	return true
}

// process handles one chunk as POutputDispatcher.handle_read_event does.
func (p *Pump) process(s *Source, chunk []byte) {
	if s.out.OnRaw != nil {
		s.out.OnRaw(chunk)
	}
	if s.capt == nil {
		p.logChunk(s, chunk)
		return
	}
	p.recordOutput(s, chunk)
}

// recordOutput is POutputDispatcher.record_output with a capture log:
// log what precedes a token, switch mode at each token, and keep back
// up to a token's length that may be the start of one.
func (p *Pump) recordOutput(s *Source, data []byte) {
	c := s.capt
	work := data
	if len(c.held) > 0 {
		work = append(c.held, data...)
		c.held = nil
	}
	for {
		token := beginToken
		if c.mode {
			token = endToken
		}
		if len(work) <= len(token) {
			c.held = append([]byte(nil), work...)
			return
		}
		i := bytes.Index(work, token)
		if i < 0 {
			k := findPrefixAtEnd(work, token)
			if k > 0 {
				c.held = append([]byte(nil), work[len(work)-k:]...)
				work = work[:len(work)-k]
			}
			p.logChunk(s, work)
			return
		}
		p.logChunk(s, work[:i])
		p.toggleCapture(s)
		work = work[i+len(token):]
		if len(work) == 0 {
			return
		}
	}
}

// toggleCapture is POutputDispatcher.toggle_capturemode.
func (p *Pump) toggleCapture(s *Source) {
	c := s.capt
	c.mode = !c.mode
	if c.mode {
		return
	}
	data := c.buf
	c.buf = nil
	if s.out.OnCapture != nil {
		s.out.OnCapture(data)
	}
}

// logChunk is POutputDispatcher._log.
func (p *Pump) logChunk(s *Source, data []byte) {
	if len(data) == 0 {
		return
	}
	if s.out.StripANSI {
		p.strip = s.x.ansi.strip(p.strip[:0], data)
		data = p.strip
	}
	p.deliver(s, data)
}

// deliver sends logged output to the capture buffer, or to the file and
// syslog, then to OnData.
func (p *Pump) deliver(s *Source, data []byte) {
	if s.capt != nil && s.capt.mode {
		s.capt.write(data)
	} else {
		if s.f != nil && len(data) > 0 {
			p.writeFile(s, data, false)
		}
		if s.out.Syslog != nil {
			if err := s.out.Syslog.Lines(s.out.Name, data); err != nil {
				p.report(s, err)
			}
		}
	}
	if s.out.OnData != nil {
		s.out.OnData(data)
	}
}

// transform appends data for s's file to out: with Prefix, the held
// start of a character first and prefixes at line starts, holding back a
// character cut at the end unless final.
func (s *Source) transform(out, data []byte, atStart, final bool) []byte {
	if s.out.Prefix == "" {
		return append(out, data...)
	}
	start := len(out)
	if s.x.nhold > 0 {
		out, atStart = appendPrefixed(out, s.x.hold[:s.x.nhold], s.out.Prefix, atStart)
		s.x.nhold = 0
	}
	out, _ = appendPrefixed(out, data, s.out.Prefix, atStart)
	if !final {
		if t := incompleteTail(out[start:]); t > 0 {
			s.x.nhold = copy(s.x.hold[:], out[len(out)-t:])
			out = out[:len(out)-t]
		}
	}
	return out
}

// compose makes what s writes into f for data, given what f holds now:
// a newline first if another output left a line open, and the prefixes.
// Locked (f.mu).
func (p *Pump) compose(s *Source, f *shared, data []byte, final bool) []byte {
	brk := f.lineOpen && f.lineOwner != s
	if s.out.Prefix == "" && !brk {
		return data // the common case: no copy
	}
	out := p.out[:0]
	if brk {
		out = append(out, '\n')
	}
	out = s.transform(out, data, !(f.lineOpen && f.lineOwner == s), final)
	p.out = out[:0]
	return out
}

// wrote records in f the line state after s wrote b. Locked (f.mu).
func (f *shared) wrote(s *Source, b []byte) {
	if len(b) == 0 {
		return
	}
	if s.out.Prefix != "" {
		f.lineOpen, f.lineOwner = b[len(b)-1] != '\n', s
	} else {
		f.lineOpen, f.lineOwner = false, nil
	}
}

// writeFile writes logged output into s's file as one emit, or queues it
// behind a full destination.
func (p *Pump) writeFile(s *Source, data []byte, final bool) {
	f := s.f
	if d := p.dests[f]; s.paused || d != nil {
		// The destination is full: queue behind it, in order.
		s.x.pendIn = append(s.x.pendIn, data...)
		s.x.pendFinal = s.x.pendFinal || final
		if !s.paused {
			p.pause(s, d)
		}
		return
	}
	f.mu.Lock()
	buf := p.compose(s, f, data, final)
	n, err := f.writeSome(buf)
	f.wrote(s, buf[:n])
	if err == nil {
		err = f.rolloverIfDue()
	}
	f.mu.Unlock()
	switch {
	case err == syscall.EAGAIN:
		s.x.pendOut = append(s.x.pendOut[:0], buf[n:]...)
		p.pause(s, nil)
	case err != nil:
		p.report(s, err)
	}
}

// flushPend writes what s has waiting for f: syscall.EAGAIN when f is
// full again. Locked (f.mu).
func (p *Pump) flushPend(s *Source, f *shared) error {
	x := s.x
	if len(x.pendOut) > 0 {
		n, err := f.writeSome(x.pendOut)
		f.wrote(s, x.pendOut[:n])
		x.pendOut = x.pendOut[n:]
		if err != nil {
			return err
		}
	}
	if len(x.pendIn) > 0 || (x.pendFinal && x.nhold > 0) {
		buf := p.compose(s, f, x.pendIn, x.pendFinal)
		x.pendIn, x.pendFinal = x.pendIn[:0], false
		n, err := f.writeSome(buf)
		f.wrote(s, buf[:n])
		if err != nil {
			x.pendOut = append(x.pendOut[:0], buf[n:]...)
			return err
		}
	}
	return nil
}

// pause stops reading s until its destination takes what waits.
func (p *Pump) pause(s *Source, d *dest) {
	s.paused = true
	if d == nil {
		d = p.dests[s.f]
	}
	if d == nil {
		d = p.watch(s.f)
		if d == nil {
			// Not pollable: wait here.
			p.flushBlocking(s)
			return
		}
	}
	d.waiters = append(d.waiters, s)
	if s.fd >= 0 {
		// Out of the set, not just without EPOLLIN: epoll would still
		// report the hang-up of an exited child, again and again.
		syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_DEL, s.fd, nil)
	}
}

// watch asks epoll to report when f can be written.
func (p *Pump) watch(f *shared) *dest {
	f.mu.Lock()
	fd := f.fd
	f.mu.Unlock()
	p.nextDest++
	d := &dest{id: destBit | p.nextDest, f: f, fd: fd}
	ev := epollEvent(syscall.EPOLLOUT, d.id)
	if fd < 0 || syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, fd, &ev) != nil {
		return nil
	}
	p.dests[f] = d
	p.destByID[d.id] = d
	return d
}

func (p *Pump) unwatch(d *dest) {
	syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_DEL, d.fd, nil)
	delete(p.dests, d.f)
	delete(p.destByID, d.id)
}

// flushBlocking writes what s has waiting, waiting as long as it takes.
func (p *Pump) flushBlocking(s *Source) {
	f := s.f
	f.mu.Lock()
	var err error
	for {
		if err = p.flushPend(s, f); err != syscall.EAGAIN {
			break
		}
		if err = waitWritable(f.fd); err != nil {
			break
		}
	}
	f.mu.Unlock()
	if err != nil {
		p.report(s, err)
	}
	s.x.pendOut, s.x.pendIn, s.paused = nil, nil, false
}

// destReady writes what waits for a destination that can take more.
func (p *Pump) destReady(id uint64) {
	d := p.destByID[id]
	if d == nil {
		return
	}
	f := d.f
	for len(d.waiters) > 0 {
		s := d.waiters[0]
		f.mu.Lock()
		err := p.flushPend(s, f)
		f.mu.Unlock()
		if err == syscall.EAGAIN {
			return
		}
		if err != nil {
			p.report(s, err)
		}
		d.waiters = d.waiters[1:]
		s.x.pendOut, s.x.pendIn, s.paused = nil, nil, false
		if s.closing {
			p.finalize(s)
			continue
		}
		ev := epollEvent(syscall.EPOLLIN, s.id)
		if err := syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
			p.report(s, fmt.Errorf("log pump: epoll: %w", err))
			p.close(s)
			continue
		}
		if s.budget >= 0 {
			p.again = append(p.again, s)
		}
	}
	p.unwatch(d)
}

// close stops reading s, logs what its transforms held back, and
// finalizes it once its output is written.
func (p *Pump) close(s *Source) {
	if s.closing {
		return
	}
	s.closing = true
	if s.fd >= 0 {
		syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_DEL, s.fd, nil)
		syscall.Close(s.fd)
		s.fd = -1
	}
	// What the dispatcher held waiting for more: a possible token start,
	// an escape start, a cut character.
	if s.capt != nil && len(s.capt.held) > 0 {
		held := s.capt.held
		s.capt.held = nil
		p.logChunk(s, held)
	}
	if s.out.StripANSI {
		if tail := s.x.ansi.flush(p.strip[:0]); len(tail) > 0 {
			p.deliver(s, tail)
		}
	}
	if s.x != nil && s.f != nil {
		if s.paused {
			s.x.pendFinal = true // the cut character is made when written
		} else if s.x.nhold > 0 {
			p.writeFile(s, nil, true)
		}
	}
	if !s.paused {
		p.finalize(s)
	}
}

func (p *Pump) finalize(s *Source) {
	if s.done {
		return
	}
	s.done = true
	p.mu.Lock()
	delete(p.sources, s.id)
	p.mu.Unlock()
	if s.out.OnClose != nil {
		s.out.OnClose()
	}
}

// report passes err to OnError unless it repeats the last one.
func (p *Pump) report(s *Source, err error) {
	if s.out.OnError == nil {
		return
	}
	if s.x == nil {
		s.x = &extra{}
	}
	msg := err.Error()
	if msg == s.x.lastErr {
		return
	}
	s.x.lastErr = msg
	s.out.OnError(err)
}
