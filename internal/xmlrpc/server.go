package xmlrpc

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Options are the server's optional settings; the zero value is usable.
type Options struct {
	Logger   *slog.Logger     // where request errors go; nil discards
	Now      func() time.Time // the clock of "now" and uptimes; nil is time.Now
	Location *time.Location   // where stop times are written; nil is time.Local
	Limits   Limits           // what keeps the API alive for its owner; zero fields take the defaults

	// UI, when set, makes the handler for every path that is not the
	// API's (the web status page, internal/webui), given the server's
	// API in process; nil answers those paths 404.
	UI func(*Local) http.Handler
}

// Auth is one listener's HTTP Basic credentials, the username and
// password of its [unix_http_server] or [inet_http_server] section. A
// Password of "{SHA}" and 40 hex digits is compared with the SHA-1 of the
// password given. The zero Auth lets everyone in.
type Auth struct {
	Username string
	Password string
}

// Server serves Supervisor's XML-RPC API and log tails over HTTP for a
// Backend. One Server may serve several listeners, each with its own
// Auth, as supervisord serves each of its http server sections.
type Server struct {
	b        Backend
	log      *slog.Logger
	nowFn    func() time.Time
	location *time.Location
	lim      Limits
	conns    *conns  // of every listener
	budget   *budget // of every listener
	ui       http.Handler

	mu       sync.Mutex
	closed   bool
	graceful bool // Shutdown, not Close: Serve leaves the connections to it
	servers  map[*http.Server]struct{}
	streams  map[net.Conn]*http.Server // hijacked /logtail and /mainlogtail responses, by the server they came through
	done     *sync.Cond                // signalled when a stream ends
}

// NewServer returns a server for b. It starts nothing; Serve does.
func NewServer(b Backend, opt Options) *Server {
	lim := opt.Limits.withDefaults()
	s := &Server{
		b:        b,
		log:      opt.Logger,
		nowFn:    opt.Now,
		location: opt.Location,
		lim:      lim,
		conns:    newConns(lim.MaxConns, time.Now),
		budget:   &budget{sem: semaphore.NewWeighted(lim.InFlight), size: lim.InFlight},
		servers:  map[*http.Server]struct{}{},
		streams:  map[net.Conn]*http.Server{},
	}
	s.done = sync.NewCond(&s.mu)
	if opt.UI != nil {
		s.ui = opt.UI(&Local{s: s})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.nowFn == nil {
		s.nowFn = time.Now
	}
	return s
}

func (s *Server) now() time.Time { return s.nowFn() }

func (s *Server) loc() *time.Location {
	if s.location == nil {
		return time.Local
	}
	return s.location
}

// Serve answers requests on ln, with auth, until ctx is done or Close is
// called. It then closes ln (removing a unix socket that ListenUnix
// made), ends every connection and log tail, and returns nil; any other
// end is an error. The connections of every listener share the
// server's Limits.
func (s *Server) Serve(ctx context.Context, ln net.Listener, auth Auth) error {
	// No ReadTimeout: http.Server would keep its deadline on the
	// connection while the handler runs, and cancel the request's
	// context when it passes (a stopProcess waiting out stopwaitsecs).
	// The handler bounds the body's reading itself.
	hs := &http.Server{
		Handler:           s.Handler(auth),
		ReadHeaderTimeout: s.lim.HeaderTimeout,
		IdleTimeout:       s.lim.IdleTimeout,
		ConnState:         s.conns.connState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln = &limitListener{Listener: ln, cs: s.conns}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.servers[hs] = struct{}{}
	s.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { hs.Close() })
	defer stop()
	err := hs.Serve(ln)
	ln.Close()
	s.mu.Lock()
	if !s.graceful {
		hs.Close()
	}
	delete(s.servers, hs)
	s.endStreams(hs)
	s.mu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops every Serve, closes their listeners and connections, ends
// the log tails and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var errs []error
	for hs := range s.servers {
		errs = append(errs, hs.Close())
	}
	s.endStreams(nil)
	s.mu.Unlock()
	return errors.Join(errs...)
}

// Shutdown is Close for a daemon's end: it stops accepting, ends the log
// tails and closes idle connections at once, and lets the requests in
// flight write their answers (supervisorctl shutdown's "Shut down" needs
// the reply of the call that ended the daemon) until ctx is done; then
// it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed, s.graceful = true, true
	hss := make([]*http.Server, 0, len(s.servers))
	for hs := range s.servers {
		hss = append(hss, hs)
	}
	s.endStreams(nil)
	s.mu.Unlock()
	var errs []error
	for _, hs := range hss {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, hs.Close())
		}
	}
	return errors.Join(errs...)
}

// isClosed reports whether Close or Shutdown has begun.
func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// endStreams closes the log streams that came through hs (all when hs is
// nil) and waits for their goroutines to finish. s.mu is held.
func (s *Server) endStreams(hs *http.Server) {
	mine := func() bool {
		for _, from := range s.streams {
			if hs == nil || from == hs {
				return true
			}
		}
		return false
	}
	for c, from := range s.streams {
		if hs == nil || from == hs {
			c.Close()
		}
	}
	for mine() {
		s.done.Wait()
	}
}

// Handler is the server's http.Handler for a listener with auth: POST
// /RPC2, GET /logtail/NAMESPEC[/CHANNEL] and GET /mainlogtail, matched by
// prefix as supervisord's medusa handlers are. Every other path goes to
// Options.UI's handler, or is 404 without one.
func (s *Server) Handler(auth Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body, if any, must come within ReadTimeout: serveRPC
		// lifts the deadline once it has read it, and a log stream
		// once it has taken the connection over.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.lim.ReadTimeout))
		if auth.Username != "" && !auth.allows(r) {
			s.unauthorized(w, r)
			return
		}
		switch {
		case strings.HasPrefix(r.RequestURI, "/RPC2"):
			s.serveRPC(w, r)
		case strings.HasPrefix(r.RequestURI, "/logtail"):
			s.serveLogtail(w, r)
		case strings.HasPrefix(r.RequestURI, "/mainlogtail"):
			s.serveMainLogtail(w, r)
		case s.ui != nil:
			s.ui.ServeHTTP(w, r)
		default:
			httpError(w, http.StatusNotFound)
		}
	})
}

// allows checks r's Authorization as medusa's auth_handler with
// Supervisor's encrypted_dictionary_authorizer does.
func (a Auth) allows(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, cookie, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cookie))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.Username)) == 1
	var passOK bool
	if hash, isSHA := strings.CutPrefix(a.Password, "{SHA}"); isSHA {
		sum := sha1.Sum([]byte(pass))
		passOK = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) == 1
	} else {
		passOK = subtle.ConstantTimeCompare([]byte(pass), []byte(a.Password)) == 1
	}
	return userOK && passOK
}

// unauthorized answers 401 as medusa does: WWW-Authenticate with realm
// "default", and the connection closed.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="default"`)
	w.Header().Set("Connection", "close")
	httpError(w, http.StatusUnauthorized)
}

// httpError writes medusa's error page.
func httpError(w http.ResponseWriter, code int) {
	body := errorPage(code)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func errorPage(code int) string {
	return "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n" +
		fmt.Sprintf("<p>Error code %d.\r\n<p>Message: %s.\r\n</body>\r\n", code, http.StatusText(code))
}

// maxBody bounds a request body, and the same body once its entity
// references are expanded; Supervisor has no bound, but nothing
// supervisorctl sends comes near it.
const maxBody = 64 << 20

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpError(w, http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.ReadTimeout)
	defer cancel()
	cl := &claim{b: s.budget, ctx: ctx}
	defer cl.release()
	body, err := readBody(r, cl)
	if err != nil {
		if errors.Is(err, errBusy) {
			httpError(w, http.StatusServiceUnavailable)
		} else {
			httpError(w, http.StatusBadRequest)
		}
		return
	}
	// Read: the call may now take as long as it needs (a stopProcess
	// waits out stopwaitsecs) without the read deadline cancelling it.
	rc.SetReadDeadline(time.Time{})
	name, params, hasMethod, err := parseCall(body, func(extra int) error {
		return cl.grow(int64(len(body) + extra))
	})
	if errors.Is(err, errBusy) {
		httpError(w, http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		s.log.Error(fmt.Sprintf("XML-RPC request data %q is invalid: unmarshallable", truncate(body)))
		httpError(w, http.StatusBadRequest)
		return
	}
	if !hasMethod {
		s.log.Error(fmt.Sprintf("XML-RPC request data %q is invalid: no method name", truncate(body)))
		httpError(w, http.StatusBadRequest)
		return
	}
	callCtx, secs := withSections(r.Context())
	defer secs.close()
	value, fault := s.call(callCtx, name, params)
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	if fault != nil {
		encodeFault(buf, fault)
	} else if err := encodeResponse(buf, value); err != nil {
		s.log.Error("XML-RPC response cannot be encoded", "method", name, "err", err)
		httpError(w, http.StatusInternalServerError)
		return
	}
	if fault == nil && secs.len() > 0 {
		// Large log reads: written as they are read (stream.go).
		if err := s.writeStreamed(w, rc, buf.Bytes(), secs); err != nil {
			s.log.Debug("XML-RPC streamed answer cut short", "method", name, "err", err)
		}
		return
	}
	rc.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout))
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.Write(buf.Bytes())
}

// errTooLarge is a body beyond maxBody.
var errTooLarge = errors.New("request body too large")

// readBody reads r's body, at most maxBody bytes, into a buffer of its
// size (io.ReadAll's doubling would hold up to twice as much), once cl
// covers it: all at once when the length is known, as it comes when the
// body is chunked.
func readBody(r *http.Request, cl *claim) ([]byte, error) {
	n := r.ContentLength
	if n > maxBody {
		return nil, errTooLarge
	}
	if n >= 0 {
		if err := cl.grow(n); err != nil {
			return nil, err
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var body []byte
	chunk := make([]byte, 32<<10)
	for {
		k, err := r.Body.Read(chunk)
		if k > 0 {
			if len(body)+k > maxBody {
				return nil, errTooLarge
			}
			if len(body)+k > cap(body) {
				// Claim, then grow, by doubling: few waits for the budget.
				size := min(max(2*cap(body), len(body)+k, smallBody), maxBody)
				if err := cl.grow(int64(size)); err != nil {
					return nil, err
				}
				body = append(make([]byte, 0, size), body...)
			}
			body = append(body, chunk[:k]...)
		}
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bufPool keeps response buffers: a getAllProcessInfo answer for 1000
// processes is 1.3 MB, and growing a buffer to it on every call costs
// more than encoding it.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 16<<20 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

func truncate(b []byte) string {
	if len(b) > 1024 {
		return string(b[:1024]) + "..."
	}
	return string(b)
}
