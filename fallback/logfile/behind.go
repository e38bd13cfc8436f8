package logfile

import (
	"fmt"
	"sync"
	"syscall"
	"time"
)

// A main log destination that is a pipe or a tty (logfile=/dev/stdout,
// and the copy on standard output in the foreground) is written without
// ever waiting for its reader. supervisord writes its log lines with
// blocking writes from its one loop, so that when nobody reads its
// standard output (a container's log pipe whose reader stalls, a
// terminal paused with Ctrl-S, `supervisord -n | less` left alone) its
// next log line blocks it for good: no request is answered, no process
// restarted, no signal heeded. Here a line the destination cannot take
// at once waits in a bounded queue, written by a goroutine of its own as
// the reader makes room, and the lines that find the queue full are
// counted and dropped, then reported on the destination when it takes
// lines again. The log file itself, when regular, is written as before.

// behindMax bounds the bytes of log lines waiting for a slow reader.
const behindMax = 1 << 20

// behindPoll bounds one wait for the reader, so that a closed log ends
// the writer.
const behindPoll = time.Second

// behind writes log lines to a special File without blocking the caller.
type behind struct {
	f *File

	mu      sync.Mutex
	queue   []byte // lines waiting for the reader, in order
	dropped int    // lines dropped since the queue last drained
	running bool   // the writer goroutine runs
	line    func(msg string) []byte
}

func newBehind(f *File, line func(msg string) []byte) *behind {
	return &behind{f: f, line: line}
}

// write writes p, one whole log line, at once if the reader has room
// for it and nothing waits before it; else it queues p, or drops it when
// behindMax bytes wait already. It never blocks on the reader.
func (b *behind) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		n, err := b.f.tryWrite(p)
		if err != syscall.EAGAIN {
			return // written, or an error the log has nowhere to report
		}
		p = p[n:]
	}
	if len(b.queue)+len(p) > behindMax {
		b.dropped++
		return
	}
	b.queue = append(b.queue, p...)
	if !b.running {
		b.running = true
		go b.run()
	}
}

// run writes the queue out as the reader makes room, then the count of
// dropped lines, and ends when nothing waits or the File is closed.
func (b *behind) run() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 && b.dropped > 0 {
			b.queue = append(b.queue, b.line(fmt.Sprintf("%d log lines were dropped here: this output was not read", b.dropped))...)
			b.dropped = 0
		}
		if len(b.queue) == 0 || b.f.closed.Load() {
			b.queue, b.running = nil, false
			b.mu.Unlock()
			return
		}
		n, err := b.f.tryWrite(b.queue)
		b.queue = b.queue[n:]
		b.mu.Unlock()
		switch {
		case err == syscall.EAGAIN:
			b.f.waitWritable(behindPoll)
		case err != nil:
			b.mu.Lock()
			b.queue, b.dropped, b.running = nil, 0, false
			b.mu.Unlock()
			return
		}
	}
}
