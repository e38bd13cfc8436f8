package xmlrpc

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/supersede/supersede/internal/logread"
	"github.com/supersede/supersede/internal/status"
)

// OutputKeeper is what a Backend may add when processes' output is kept
// somewhere other than a log file the server reads by path (internal/sysd
// keeps it in the journal). The server then reads it through these
// methods, with Supervisor's offsets over the bytes they return, for
// readProcess*Log, tailProcess*Log and readLog.
type OutputKeeper interface {
	// Output returns what the process wrote to channel ("stdout" or
	// "stderr"): the last max bytes, or everything when max is 0. kept
	// is false when that channel goes to a log file (or nowhere), which
	// the server reads itself.
	Output(ctx context.Context, group, name, channel string, max int64) (data []byte, kept bool, err error)

	// MainOutput is Output for the daemon's own messages (readLog), used
	// when MainLogFile is "".
	MainOutput(ctx context.Context, max int64) (data []byte, kept bool, err error)

	// FollowOutput streams a channel as /logtail does: the last head
	// bytes, then what comes, until ctx is done or the reader is closed.
	// group "" is the daemon's own messages (/mainlogtail, when
	// MainLogFile is "").
	FollowOutput(ctx context.Context, group, name, channel string, head int) (r io.ReadCloser, kept bool, err error)
}

// keptOutput answers a read or tail of p's channel from an OutputKeeper;
// handled is false when the backend has none or does not keep it.
func (s *Server) keptOutput(ctx context.Context, p *status.Process, c channel, offset, length int64, tail bool) (v any, handled bool, f *Fault) {
	k, ok := s.b.(OutputKeeper)
	if !ok {
		return nil, false, nil
	}
	max := int64(0)
	if offset < 0 && length == 0 && !tail {
		max = -offset
	}
	data, kept, err := k.Output(ctx, p.Group, p.Name, c.String(), max)
	if !kept {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, toFault(err, "")
	}
	if tail {
		d, next, overflow := logread.TailBytes(data, offset, length)
		return []any{string(d), next, overflow}, true, nil
	}
	d, err := logread.ReadBytes(data, offset, length)
	if err != nil {
		return nil, true, toFault(err, "")
	}
	return string(d), true, nil
}

// keptMainOutput is keptOutput for readLog.
func (s *Server) keptMainOutput(ctx context.Context, offset, length int64) (v any, handled bool, f *Fault) {
	k, ok := s.b.(OutputKeeper)
	if !ok || s.b.MainLogFile() != "" {
		return nil, false, nil
	}
	max := int64(0)
	if offset < 0 && length == 0 {
		max = -offset
	}
	data, kept, err := k.MainOutput(ctx, max)
	if !kept {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, toFault(err, "")
	}
	d, err := logread.ReadBytes(data, offset, length)
	if err != nil {
		return nil, true, toFault(err, "")
	}
	return string(d), true, nil
}

// streamKept answers /logtail (p's channel ch) or /mainlogtail (p nil)
// from an OutputKeeper; false when the backend does not keep that
// output, and the log file is to be followed instead.
func (s *Server) streamKept(w http.ResponseWriter, r *http.Request, p *status.Process, ch string) bool {
	k, ok := s.b.(OutputKeeper)
	if !ok || p == nil && s.b.MainLogFile() != "" || p != nil && ch != "stdout" && ch != "stderr" {
		return false
	}
	group, name := "", ""
	if p != nil {
		group, name = p.Group, p.Name
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	rc, kept, err := k.FollowOutput(ctx, group, name, ch, tailHead)
	if !kept {
		cancel()
		return false
	}
	if err != nil {
		cancel()
		httpError(w, http.StatusNotFound)
		return true
	}
	follow := func(ctx context.Context, send func([]byte) error) {
		stop := context.AfterFunc(ctx, func() { rc.Close() })
		defer stop()
		buf := make([]byte, tailChunk)
		for {
			n, err := rc.Read(buf)
			if n > 0 && send(buf[:n]) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}
	s.streamFrom(w, r, time.Now(), follow, func() { cancel(); rc.Close() }, p != nil)
	return true
}
