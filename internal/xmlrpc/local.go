package xmlrpc

import (
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// Local serves the API of a Server in the same process, without HTTP:
// `supersede ctl` uses it to put supervisorctl's client logic on top of
// the systemd backend (internal/sysd) with exactly the server-side rules
// (name resolution, group and "all" operations, result structs, faults)
// that a real supervisorctl meets over the wire.
//
// Its values have the shapes Client.Call returns (int, bool, string,
// float64, time.Time, []byte, []any, map[string]any, nil), and its errors
// are *Fault, so a caller cannot tell the two apart.
type Local struct {
	s   *Server
	url string
}

// NewLocal returns a Local for b. serverURL is what ServerURL reports
// (for messages such as "URL refused connection").
func NewLocal(b Backend, opt Options, serverURL string) *Local {
	return &Local{s: NewServer(b, opt), url: serverURL}
}

// ServerURL returns the URL given to NewLocal.
func (l *Local) ServerURL() string { return l.url }

// Call runs method as the server would for an XML-RPC request.
func (l *Local) Call(ctx context.Context, method string, args ...any) (any, error) {
	params := make([]any, len(args))
	for i, a := range args {
		params[i] = clientShape(a) // what the codec would hand the method
	}
	v, f := l.s.call(ctx, method, params)
	if f != nil {
		return nil, f
	}
	return clientShape(v), nil
}

// StatusRow is one process of getAllProcessInfo's answer as
// supervisorctl's status reads it: the members group, name, state,
// statename and description, as Call would return them.
type StatusRow struct {
	Group, Name string
	State       int
	StateName   string
	Description string
}

// StatusRows answers supervisor.getAllProcessInfo as Call does, with
// only the members status reads, and without building the structs and
// then the maps Call returns: for 1000 processes those were 29,000
// allocations and about 2 ms of `ctl status`, after the last of the
// manager's answers. The rows come from the same code as the structs
// (getAllProcessInfo, processInfo), and its errors are Call's.
func (l *Local) StatusRows(ctx context.Context) ([]StatusRow, error) {
	if methods["supervisor.getAllProcessInfo"].guarded && l.s.b.ShuttingDown() {
		return nil, newFault(FaultShutdownState)
	}
	all, err := l.s.b.Processes(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	now := l.s.now()
	all = lexical(all)
	out := make([]StatusRow, len(all))
	for i, p := range all {
		out[i] = StatusRow{
			Group:       clientString(p.Group),
			Name:        clientString(p.Name),
			State:       StateCode(p.State),
			StateName:   p.State.String(),
			Description: clientString(l.s.description(p, now)),
		}
	}
	return out, nil
}

// clientString is clientShape of a string.
func clientString(s string) string { return clientShape(s).(string) }

// Tail follows a process's log file ("/logtail/NAMESPEC/CHANNEL") or the
// main log ("/mainlogtail") as the server's HTTP handlers do: from 1024
// bytes before the end, until ctx is done or the reader is closed. A
// name or file that the handler would answer 404 for is an *HTTPError
// with StatusCode 404.
func (l *Local) Tail(ctx context.Context, path string) (io.ReadCloser, error) {
	notFound := &HTTPError{URL: l.url + path, StatusCode: 404, Status: "404 Not Found"}
	var file string
	if path == "/mainlogtail" {
		file = l.s.b.MainLogFile()
	} else {
		rest, ok := strings.CutPrefix(path, "/logtail/")
		if !ok {
			return nil, notFound
		}
		if u, err := url.PathUnescape(rest); err == nil {
			rest = u
		}
		spec, ch, ok := strings.Cut(rest, "/")
		if !ok {
			ch = "stdout"
		}
		_, _, p, f := l.s.lookup(ctx, spec)
		if f != nil || p == nil {
			return nil, notFound
		}
		switch ch {
		case "stdout":
			file = p.StdoutLog
		case "stderr":
			file = p.StderrLog
		}
	}
	if file == "" {
		return nil, notFound
	}
	if _, err := os.Stat(file); err != nil {
		return nil, notFound
	}
	t, err := newTail(file, tailHead)
	if err != nil {
		return nil, notFound
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer t.close()
		t.follow(ctx, func(b []byte) error {
			_, err := pw.Write(b)
			return err
		})
		pw.Close()
	}()
	return &localTail{PipeReader: pr, cancel: cancel}, nil
}

type localTail struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (t *localTail) Close() error {
	t.cancel()
	return t.PipeReader.Close()
}

// clientShape converts a value as encoding it and decoding it with
// Client.Call would: Structs and maps become map[string]any, every list
// []any, every integer int, and a string's CR LF and CR become LF (an
// XML reader's end-of-line handling).
func clientShape(v any) any {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, '\r') < 0 {
			return v
		}
		return strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	case int64:
		return int(v)
	case int32:
		return int(v)
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case []int:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case []Struct:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = clientShape(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = clientShape(e)
		}
		return out
	case Struct:
		m := make(map[string]any, len(v))
		for _, mem := range v {
			m[mem.Name] = clientShape(mem.Value)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = clientShape(e)
		}
		return m
	case time.Time:
		return v.Truncate(time.Second)
	}
	return v
}
