package xmlrpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// Client calls a supervisord, or supersede run, over XML-RPC, as
// supervisorctl does: HTTP POST /RPC2 on a kept-alive connection, over a
// unix socket or TCP, with Basic auth when a username is given.
type Client struct {
	serverURL string
	endpoint  string // http://host[:port] the requests name
	username  string
	password  string
	hc        *http.Client
	tr        *http.Transport
}

// HTTPError is a response other than 200 OK, such as 401 when the
// credentials are wrong.
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string // "401 Unauthorized"
}

func (e *HTTPError) Error() string { return e.URL + ": " + e.Status }

// NewClient returns a client for serverURL, "unix:///path/to/socket" or
// "http://host[:port]" (port 80 by default), as [supervisorctl]
// serverurl= takes it. Username and password may be empty.
func NewClient(serverURL, username, password string) (*Client, error) {
	c := &Client{serverURL: serverURL, username: username, password: password}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	switch {
	case strings.HasPrefix(serverURL, "unix://"):
		path := serverURL[len("unix://"):]
		if path == "" {
			return nil, fmt.Errorf("server URL %q names no socket file (use unix:///path/to/socket)", serverURL)
		}
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
		c.endpoint = "http://localhost"
	case strings.HasPrefix(serverURL, "http://"):
		u, err := url.Parse(serverURL)
		if err != nil {
			return nil, fmt.Errorf("server URL %q: %w", serverURL, err)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("server URL %q names no host (use http://host:port)", serverURL)
		}
		c.endpoint = "http://" + u.Host
	default:
		return nil, fmt.Errorf("server URL %q must start with http:// or unix://", serverURL)
	}
	c.tr = tr
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

// ServerURL is the URL the client was made for.
func (c *Client) ServerURL() string { return c.serverURL }

// Close closes the client's idle connections.
func (c *Client) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, body)
	if err != nil {
		return nil, err
	}
	if c.username != "" || c.password != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	return req, nil
}

// Call calls method with args and returns its value, decoded as the
// codec describes (int, bool, string, float64, time.Time, []byte, []any,
// map[string]any, nil). A fault is a *Fault error, which errors.Is
// matches against the kinds of internal/status; a response other than
// 200 is an *HTTPError; a connection failure is the net error (test it
// with errors.Is(err, syscall.ECONNREFUSED) or syscall.ENOENT).
func (c *Client) Call(ctx context.Context, method string, args ...any) (any, error) {
	var buf bytes.Buffer
	if err := encodeCall(&buf, method, args); err != nil {
		return nil, err
	}
	req, err := c.request(ctx, http.MethodPost, "/RPC2", &buf)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, &HTTPError{URL: c.serverURL + "/RPC2", StatusCode: resp.StatusCode, Status: resp.Status}
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseResponse(data)
}

// Tail opens a log stream: path is "/logtail/NAMESPEC/stdout" (or
// stderr) or "/mainlogtail". The body yields the last 1024 bytes, then
// whatever is written, until ctx is done or it is closed. 404 (no such
// process or no log file) is an *HTTPError.
func (c *Client) Tail(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &HTTPError{URL: c.serverURL + path, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	return resp.Body, nil
}

// ProcessInfo is getProcessInfo's struct: the process, the server's
// description of it and the server's clock when it answered.
type ProcessInfo struct {
	status.Process
	Description string
	Now         time.Time
}

// ProcessInfo calls getProcessInfo.
func (c *Client) ProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	v, err := c.Call(ctx, "supervisor.getProcessInfo", name)
	if err != nil {
		return ProcessInfo{}, err
	}
	return DecodeProcessInfo(v)
}

// AllProcessInfo calls getAllProcessInfo.
func (c *Client) AllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	v, err := c.Call(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("getAllProcessInfo: %w: not an array", ErrMalformed)
	}
	out := make([]ProcessInfo, 0, len(list))
	for _, e := range list {
		pi, err := DecodeProcessInfo(e)
		if err != nil {
			return nil, err
		}
		out = append(out, pi)
	}
	return out, nil
}

// DecodeProcessInfo reads one getProcessInfo struct.
func DecodeProcessInfo(v any) (ProcessInfo, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("process info: %w: not a struct", ErrMalformed)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) int { i, _ := m[k].(int); return i }
	when := func(k string) time.Time {
		if i := num(k); i != 0 {
			return time.Unix(int64(i), 0)
		}
		return time.Time{}
	}
	state, ok := StateFromCode(num("state"))
	if !ok {
		if s, ok2 := status.ParseState(str("statename")); ok2 {
			state = s
		}
	}
	return ProcessInfo{
		Process: status.Process{
			Name:       str("name"),
			Group:      str("group"),
			State:      state,
			PID:        num("pid"),
			Start:      when("start"),
			Stop:       when("stop"),
			ExitStatus: num("exitstatus"),
			SpawnErr:   str("spawnerr"),
			StdoutLog:  str("stdout_logfile"),
			StderrLog:  str("stderr_logfile"),
		},
		Description: str("description"),
		Now:         when("now"),
	}, nil
}

// Result is one process's outcome in the answer of a group or "all"
// operation (startProcessGroup, stopAllProcesses, ...).
type Result struct {
	Name  string
	Group string
	Err   *Fault // nil for SUCCESS
}

// Namespec is "group:name", or "name" when they are the same.
func (r Result) Namespec() string { return namespec(r.Group, r.Name) }

// DecodeResults reads the array of result structs of a group operation.
func DecodeResults(v any) ([]Result, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("results: %w: not an array", ErrMalformed)
	}
	out := make([]Result, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("result: %w: not a struct", ErrMalformed)
		}
		r := Result{}
		r.Name, _ = m["name"].(string)
		r.Group, _ = m["group"].(string)
		code, _ := m["status"].(int)
		if code != FaultSuccess {
			desc, _ := m["description"].(string)
			r.Err = &Fault{Code: code, String: desc}
		}
		out = append(out, r)
	}
	return out, nil
}
