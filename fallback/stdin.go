package fallback

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// stdinQueueMax bounds what may wait for a child that does not read its
// stdin. supervisord's input buffer has no bound (a client can fill its
// memory by sending to a program that never reads); here a call that
// would take the queue past it is refused with FAILED, unless the queue
// is empty, so that one call of any size the API accepts still goes
// through, as under supervisord.
const stdinQueueMax = 4 << 20

// stdinQueue is what supervisord's PInputDispatcher is to a child's
// stdin: sendProcessStdin appends to it and returns at once, and the
// data is written as the child reads, in order, whatever becomes of the
// client that sent it. The first write is tried at once, as
// supervisord's flush does, so that a stdin the child has closed is a
// NO_FILE fault of the call that finds it. One goroutine per queue,
// started with it, writes the rest; the queue does not own the file.
type stdinQueue struct {
	f    *os.File
	wake chan struct{} // buffered: there is data, or the queue ended

	mu      sync.Mutex
	pending []byte
	broken  bool // the child closed its stdin (EPIPE)
	ended   bool // the run is over
}

func newStdinQueue(f *os.File) *stdinQueue {
	q := &stdinQueue{f: f, wake: make(chan struct{}, 1)}
	go q.run()
	return q
}

// write queues data for the child, writing what the pipe takes now.
func (q *stdinQueue) write(name string, data []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.broken, q.ended:
		return errStdinClosed
	case len(q.pending) > 0 && len(q.pending)+len(data) > stdinQueueMax:
		// pending also holds what run is writing now.
		return &errStdinFull{name: name, pending: len(q.pending)}
	case len(q.pending) > 0:
		q.pending = append(q.pending, data...)
		return nil
	}
	n, err := q.tryWrite(data)
	if err != nil {
		q.broken = true
		return errStdinClosed
	}
	if n < len(data) {
		q.pending = append(q.pending, data[n:]...)
		q.signal()
	}
	return nil
}

var errStdinClosed = errors.New("stdin closed")

type errStdinFull struct {
	name    string
	pending int
}

func (e *errStdinFull) Error() string {
	return fmt.Sprintf("%s: %d bytes wait for the program to read its stdin (at most %d)", e.name, e.pending, stdinQueueMax)
}

// tryWrite writes what the pipe takes without waiting.
func (q *stdinQueue) tryWrite(data []byte) (int, error) {
	rc, err := q.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for n < len(data) {
			m, e := syscall.Write(int(fd), data[n:])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				werr = e
				return true
			}
			n += m
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

func (q *stdinQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// end stops the queue's goroutine, dropping what waits: the child is
// gone. The caller closes the file.
func (q *stdinQueue) end() {
	q.mu.Lock()
	q.ended = true
	q.pending = nil
	q.mu.Unlock()
	q.signal()
}

// run writes what is pending, waiting in the runtime's poller until the
// child reads. The data stays in pending while it is written, so that a
// call meanwhile appends behind it instead of writing ahead of it.
func (q *stdinQueue) run() {
	for range q.wake {
		for {
			q.mu.Lock()
			if q.ended || q.broken {
				q.mu.Unlock()
				return
			}
			data := q.pending
			q.mu.Unlock()
			if len(data) == 0 {
				break
			}
			n, err := q.f.Write(data)
			q.mu.Lock()
			if err != nil {
				// What could not be written is lost with the child's
				// stdin, as in supervisord; the next call says NO_FILE.
				q.broken = true
				q.pending = nil
			} else if q.pending = q.pending[n:]; len(q.pending) == 0 {
				q.pending = nil
			}
			q.mu.Unlock()
		}
	}
}
