package events

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// The protocol tokens a listener writes (PEventListenerDispatcher).
const (
	readyToken  = "READY\n"
	resultToken = "RESULT " // the result line is "RESULT <n>\n"; Supervisor skips 7 bytes unread
)

// maxResultLine bounds a result line still missing its newline. Supervisor
// buffers without bound; a longer line is a protocol error here.
const maxResultLine = 64 << 10

// Listener is one running listener process of a pool: the protocol state
// machine that reads its standard output (Supervisor's
// PEventListenerDispatcher) and the event it is handling. Get one from
// Pool.Attach when the process is spawned.
type Listener struct {
	pool  *Pool
	name  string
	idx   int
	stdin io.Writer

	state ListenerState
	proc  status.State // the process's Supervisor state; events go only to RUNNING ones
	event *item        // the event sent and not yet answered (process.event)

	buf       []byte  // state_buffer: output not yet understood
	haveLen   bool    // the result line has been read
	resultLen int64   // its length
	resultGot int64   // bytes of the result read so far
	result    [2]byte // the first bytes of the result, enough to compare with "OK"

	writing bool   // an envelope is being written to stdin
	writes  uint64 // envelopes sent: a write's goroutine clears writing only for the last
	broken  bool   // writing to stdin failed: the process is going away
	gone    bool   // Exit was called, or the pool was removed
}

// Name is the listener's process name.
func (l *Listener) Name() string { return l.name }

// Pool is the pool the listener belongs to.
func (l *Listener) Pool() *Pool { return l.pool }

// State is the listener's protocol state.
func (l *Listener) State() ListenerState {
	b := l.pool.bus
	b.mu.Lock()
	defer b.unlock()
	return l.state
}

// SetProcessState tells the pool the listener process's Supervisor state.
// Call it on every state change of the process; only a RUNNING listener is
// sent events, so moving to RUNNING may send one at once.
func (l *Listener) SetProcessState(s status.State) {
	b := l.pool.bus
	b.mu.Lock()
	defer b.unlock()
	if l.gone {
		return
	}
	l.proc = s
	if s == status.Running {
		l.pool.dispatch()
	}
}

// Output takes bytes the listener wrote to its standard output, in the
// order read and in chunks of any size; the protocol does not depend on
// how the bytes are split. It logs Supervisor's debug line for them and
// may send the next event at once. data is not retained.
func (l *Listener) Output(data []byte) {
	b := l.pool.bus
	b.mu.Lock()
	defer b.unlock()
	if l.gone || len(data) == 0 {
		return
	}
	b.debugf("%s stdout output:\n%s", translate.PyRepr(l.name), appendBytesRepr(nil, data))
	l.buf = append(l.buf, data...)
	l.handle()
	if len(l.buf) == 0 {
		l.buf = nil
	}
	l.pool.dispatch()
}

// Exit tells the pool the listener process has finished (call it once it
// is reaped, after publishing its PROCESS_STATE_EXITED or _STOPPED event,
// as Supervisor's finish() does). An event it had not answered goes back
// to the head of the buffer for another listener. Later calls on l are
// ignored.
func (l *Listener) Exit() {
	b := l.pool.bus
	b.mu.Lock()
	defer b.unlock()
	l.exit()
}

func (l *Listener) exit() {
	if l.gone {
		return
	}
	l.gone = true
	p := l.pool
	if p.slots[l.idx] == l {
		p.slots[l.idx] = nil
	}
	l.buf = nil
	if l.event != nil {
		it := *l.event
		l.event = nil
		p.accept(it, true, false) // EventRejectedEvent → handle_rejected
	}
	p.dispatch()
}

// canTake reports whether l may be sent an event now.
func (l *Listener) canTake() bool {
	return l != nil && !l.gone && !l.broken && !l.writing &&
		l.proc == status.Running && l.state == ListenerReady
}

// write sends one envelope on the listener's stdin, then settles the
// outcome under the lock.
func (l *Listener) write(env []byte, it item, seq uint64) {
	_, err := l.stdin.Write(env)
	b := l.pool.bus
	b.mu.Lock()
	if l.writes == seq {
		l.writing = false
	}
	if err != nil && !l.gone {
		// Supervisor writes synchronously and sees EPIPE at once.
		b.debugf("epipe occurred while sending event %d to listener %s, listener state unchanged",
			it.ev.serial, l.name)
		l.broken = true
		if l.event != nil && l.event.ev == it.ev && l.state == ListenerBusy {
			l.event = nil
			l.setState(ListenerReady, false)
			l.pool.accept(it, true, false)
		}
	}
	l.pool.dispatch()
	b.unlock()
	b.writes.Done()
}

// setState changes the protocol state; logged is Supervisor's
// _change_listener_state, which logs, where dispatch sets BUSY silently.
func (l *Listener) setState(to ListenerState, logged bool) {
	from := l.state
	l.state = to
	b := l.pool.bus
	if logged {
		b.debugf("%s: %s -> %s", l.name, from, to)
		if to == ListenerUnknown {
			b.log.Warn(l.name + ": has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol")
		}
	}
	if b.onState != nil {
		b.pending = append(b.pending, stateNote{l, from, to})
	}
}

// handle is handle_listener_state_change, its recursion as a loop: it
// consumes l.buf as far as the protocol allows.
func (l *Listener) handle() {
	for len(l.buf) > 0 {
		switch l.state {
		case ListenerUnknown: // fatal: output is ignored for good
			l.buf = l.buf[:0]
			return

		case ListenerAcknowledged:
			if len(l.buf) < len(readyToken) {
				return // not enough to decide yet
			}
			if bytes.HasPrefix(l.buf, []byte(readyToken)) {
				l.setState(ListenerReady, true)
				l.buf = l.buf[len(readyToken):]
				// A listener that answered and is READY again has read
				// its event: the write is over for it, though the
				// goroutine that made it may not have taken the lock yet
				// (a loaded machine). Supervisor writes synchronously, so
				// its next event goes to the first READY listener, this
				// one, not to the next.
				l.writing = false
			} else {
				l.setState(ListenerUnknown, true)
				l.buf = l.buf[:0]
			}
			l.event = nil

		case ListenerReady: // spurious output: Supervisor is strict
			l.setState(ListenerUnknown, true)
			l.buf = l.buf[:0]
			l.event = nil
			return

		case ListenerBusy:
			if !l.haveLen {
				pos := bytes.IndexByte(l.buf, '\n')
				if pos < 0 {
					if len(l.buf) > maxResultLine {
						l.badResult(l.buf)
					}
					return // no whole result line yet
				}
				line := l.buf[:pos]
				n, ok := pyInt(line[min(len(resultToken), len(line)):])
				if !ok {
					l.badResult(line)
					return
				}
				l.buf = l.buf[pos+1:]
				l.haveLen, l.resultLen, l.resultGot = true, n, 0
			} else {
				needed := l.resultLen - l.resultGot
				if needed > 0 {
					take := min(needed, int64(len(l.buf)))
					if l.resultGot < int64(len(l.result)) {
						copy(l.result[l.resultGot:], l.buf[:take])
					}
					l.resultGot += take
					l.buf = l.buf[take:]
					needed -= take
				}
				if needed == 0 {
					l.handleResult()
					l.event = nil
					l.haveLen = false
				}
			}
		}
	}
}

// badResult handles a result line Supervisor's int() cannot read (or, here,
// a negative length, which wedges Supervisor's dispatcher): the listener
// goes UNKNOWN and its event back to the buffer.
func (l *Listener) badResult(line []byte) {
	text := string(line)
	if !utf8.Valid(line) {
		text = "Undecodable: " + string(appendBytesRepr(nil, line))
	}
	b := l.pool.bus
	b.log.Warn(fmt.Sprintf("%s: bad result line: '%s'", l.name, text))
	l.setState(ListenerUnknown, true)
	l.buf = l.buf[:0]
	l.haveLen = false
	l.reject()
}

// handleResult applies the default result handler: "OK" accepts the
// event, anything else rejects it, and the listener is ACKNOWLEDGED
// either way.
func (l *Listener) handleResult() {
	b := l.pool.bus
	if l.resultLen == 2 && string(l.result[:]) == "OK" { // default_handler: response == b'OK'
		b.debugf("%s: event was processed", l.name)
		l.setState(ListenerAcknowledged, true)
		return
	}
	b.log.Warn(l.name + ": event was rejected")
	l.setState(ListenerAcknowledged, true)
	l.reject()
}

// reject re-buffers the listener's event at the head of its pool's buffer
// (EventRejectedEvent).
func (l *Listener) reject() {
	if l.event == nil {
		return
	}
	it := *l.event
	l.event = nil
	l.pool.accept(it, true, false)
}

// pyInt parses s as Python's int(bytes) does in base 10: ASCII blanks
// around, an optional sign, digits with single underscores between them.
// Negative values and values beyond int64 are refused.
func pyInt(s []byte) (int64, bool) {
	s = bytes.Trim(s, " \t\n\r\v\f")
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			// -0 is 0; any other negative length is refused.
			rest := bytes.Trim(s[1:], "0_")
			if len(rest) > 0 {
				return 0, false
			}
		}
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var n int64
	prevDigit := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if n > (1<<63-1-int64(c-'0'))/10 {
				return 0, false
			}
			n = n*10 + int64(c-'0')
			prevDigit = true
		case c == '_' && prevDigit && i+1 < len(s):
			prevDigit = false
		default:
			return 0, false
		}
	}
	return n, prevDigit
}
