package webui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// API is what the page needs of the server: Supervisor's XML-RPC methods
// called in process, with the values and *xmlrpc.Fault errors that
// xmlrpc.Client.Call returns. *xmlrpc.Local is one.
type API interface {
	Call(ctx context.Context, method string, args ...any) (any, error)
}

// Options are the page's optional settings; the zero value is usable.
type Options struct {
	// Now is the clock of the messages' times ("All stopped at ...");
	// nil is time.Now.
	Now func() time.Time
	// Location is where those times are written; nil is time.Local, as
	// Supervisor's time.ctime().
	Location *time.Location
	// Poll is how often the page's script asks for the state and the
	// tail; 0 is 2 s for the state and 1 s for the tail.
	Poll time.Duration
}

// UI serves the status page. Its zero value is not usable: use New.
type UI struct {
	api    API
	opt    Options
	token  string // the CSRF token of every form, random per UI
	static http.Handler
	pages  *template.Template
}

//go:embed assets
var assets embed.FS

// New returns the page for api.
func New(api API, opt Options) *UI {
	var b [24]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	sub, _ := fs.Sub(assets, "assets/static")
	return &UI{
		api:    api,
		opt:    opt,
		token:  hex.EncodeToString(b[:]),
		static: http.FileServerFS(sub),
		pages:  template.Must(template.New("").Funcs(funcs).ParseFS(assets, "assets/*.html")),
	}
}

func (u *UI) now() time.Time {
	t := time.Now()
	if u.opt.Now != nil {
		t = u.opt.Now()
	}
	if u.opt.Location != nil {
		return t.In(u.opt.Location)
	}
	return t.Local()
}

// ctime is Python's time.ctime().
func (u *UI) ctime() string { return u.now().Format("Mon Jan _2 15:04:05 2006") }

// served reports whether the page serves path: the views of
// Supervisor's VIEWS, the JSON the script polls and the embedded files.
func served(path string) bool {
	p := strings.TrimLeft(path, "/")
	switch p {
	case "", "index.html", "tail.html", "ok.html", "status.json", "tail.json":
		return true
	}
	return strings.HasPrefix(p, "static/")
}

// ServeHTTP answers the page's paths (see served); any other is 404.
// Supervisor's web handler answers GET and POST only.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimLeft(r.URL.Path, "/")
	if strings.HasPrefix(p, "static/") && !strings.HasSuffix(p, "/") && r.Method == http.MethodGet {
		w.Header().Set("Cache-Control", "max-age=3600")
		http.StripPrefix("/static", u.static).ServeHTTP(w, withPath(r, "/"+p))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost || !served(p) || strings.HasPrefix(p, "static/") {
		errorPage(w, http.StatusNotFound)
		return
	}
	// Supervisor's pages are never cached (MeldView's headers).
	h := w.Header()
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	// The page frames nothing and is framed by nothing; its scripts and
	// styles are its own files.
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	switch p {
	case "", "index.html":
		u.serveStatus(w, r)
	case "tail.html":
		u.serveTail(w, r)
	case "ok.html":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "OK")
	case "status.json":
		u.serveStatusJSON(w, r)
	case "tail.json":
		u.serveTailJSON(w, r)
	}
}

func withPath(r *http.Request, p string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = ""
	return r2
}

// errorPage writes medusa's error page, as the API server does.
func errorPage(w http.ResponseWriter, code int) {
	body := "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n" +
		fmt.Sprintf("<p>Error code %d.\r\n<p>Message: %s.\r\n</body>\r\n", code, http.StatusText(code))
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// form merges the query and a urlencoded POST body as Supervisor's
// continue_request does: the first value of each query key, then the
// body's values over them.
func form(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	f := url.Values{}
	for k, v := range r.URL.Query() {
		f.Set(k, v[0])
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.PostForm {
			f.Set(k, v[len(v)-1])
		}
	}
	return f, nil
}

// proc is one row of the status table.
type proc struct {
	Name        string `json:"name"` // the namespec
	Group       string `json:"group"`
	State       string `json:"state"` // "RUNNING"
	Description string `json:"description"`
}

// group is a group header and its rows.
type group struct {
	Name   string
	Header bool // a header row: the group is not one process of its own name
	Procs  []proc
	Counts []count
}

type count struct {
	State string `json:"state"` // lower case
	Class string `json:"class"` // the state's CSS class
	N     int    `json:"n"`
}

// processes calls getAllProcessInfo: every process, by group then name,
// as Supervisor's page sorts them.
func (u *UI) processes(ctx context.Context) ([]proc, error) {
	v, err := u.api.Call(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	list, _ := v.([]any)
	out := make([]proc, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		grp, _ := m["group"].(string)
		state, _ := m["statename"].(string)
		desc, _ := m["description"].(string)
		spec := name
		if grp != name {
			spec = grp + ":" + name
		}
		out = append(out, proc{Name: spec, Group: grp, State: state, Description: desc})
	}
	return out, nil
}

// stateOrder is the order of the counts: Supervisor's state codes.
var stateOrder = []string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}

func counts(procs []proc) []count {
	n := map[string]int{}
	for _, p := range procs {
		n[p.State]++
	}
	var out []count
	for _, s := range stateOrder {
		if n[s] > 0 {
			out = append(out, count{strings.ToLower(s), stateClass(s), n[s]})
		}
	}
	return out
}

func groups(procs []proc) []group {
	var out []group
	for i := 0; i < len(procs); {
		j := i
		for j < len(procs) && procs[j].Group == procs[i].Group {
			j++
		}
		g := group{Name: procs[i].Group, Procs: procs[i:j], Counts: counts(procs[i:j])}
		g.Header = j-i > 1 || procs[i].Name != g.Name
		out = append(out, g)
		i = j
	}
	return out
}

// matches is the filter: every word of f is in the namespec or the
// state, without regard to case.
func matches(p proc, f string) bool {
	hay := strings.ToLower(p.Name + " " + p.State)
	for _, w := range strings.Fields(strings.ToLower(f)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

type statusPage struct {
	Message  string
	Error    bool // Message is an error
	Confirm  *confirm
	Token    string
	Filter   string
	Total    int
	Shown    int
	Counts   []count
	Groups   []group
	Table    template.HTML // the rows of Groups, written by writeTable
	Version  string
	Ident    string
	PollMS   int
	Fetch    string // an error reading the processes
	Year     int
	HasProcs bool
}

// confirm is the question a GET with action= gets instead of the action.
type confirm struct {
	Action      string
	ProcessName string
	Question    string
	Button      string
}

func (u *UI) serveStatus(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r)
	if err != nil {
		errorPage(w, http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	action, name := f.Get("action"), f.Get("processname")
	page := statusPage{Token: u.token, Filter: f.Get("filter"), Year: u.now().Year()}
	page.PollMS = 2000
	if u.opt.Poll > 0 {
		page.PollMS = int(u.opt.Poll / time.Millisecond)
	}
	if f.Has("message") {
		page.Message = f.Get("message")
		page.Error = strings.HasPrefix(page.Message, "ERROR") || strings.HasPrefix(page.Message, "unexpected rpc fault")
	}
	if action != "" {
		if action == "refresh" {
			// Harmless: done on GET as Supervisor does.
			redirect(w, "Page refreshed at "+u.ctime(), page.Filter)
			return
		}
		if !known(action) {
			// Supervisor's make_callback raises ValueError: a 500.
			errorPage(w, http.StatusInternalServerError)
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(f.Get("csrf")), []byte(u.token)) != 1 {
				w.Header().Set("Content-Type", "text/html;charset=utf-8")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, forbidden)
				return
			}
			msg, ok := u.act(ctx, action, name)
			if !ok {
				errorPage(w, http.StatusInternalServerError)
				return
			}
			redirect(w, msg, page.Filter)
			return
		}
		// A GET acts in Supervisor; here it asks first, so that a link
		// on another site cannot restart a program.
		page.Confirm = question(action, name)
		if page.Confirm == nil {
			errorPage(w, http.StatusInternalServerError)
			return
		}
	}
	procs, err := u.processes(ctx)
	if err != nil {
		page.Fetch = "ERROR: the process list cannot be read: " + err.Error()
	}
	page.Total = len(procs)
	page.HasProcs = len(procs) > 0
	page.Counts = counts(procs)
	shown := procs
	if page.Filter != "" {
		shown = nil
		for _, p := range procs {
			if matches(p, page.Filter) {
				shown = append(shown, p)
			}
		}
	}
	page.Shown = len(shown)
	page.Groups = groups(shown)
	page.Table = writeTable(page.Groups)
	if v, err := u.api.Call(ctx, "supervisor.getSupervisorVersion"); err == nil {
		page.Version, _ = v.(string)
	}
	if v, err := u.api.Call(ctx, "supervisor.getIdentification"); err == nil {
		page.Ident, _ = v.(string)
	}
	u.render(w, "status.html", page)
}

func (u *UI) render(w http.ResponseWriter, name string, data any) {
	buf := new(strings.Builder)
	if err := u.pages.ExecuteTemplate(buf, name, data); err != nil {
		// A template that fails on valid data is a bug of this package.
		http.Error(w, "web UI template "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	io.WriteString(w, buf.String())
}

const forbidden = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Supervisor Status</title></head>
<body><h1>Action refused</h1><p>The form did not carry this server's token (it may be from before the server restarted, or from another site), so nothing was done.</p>
<p><a href="index.html">Back to the status page</a></p></body></html>
`

// redirect sends the browser back to the status page with message, as
// Supervisor does after an action (it answers 301; 303 is the answer
// to a POST that browsers follow with a GET).
func redirect(w http.ResponseWriter, message, filter string) {
	loc := "./?message=" + quote(message)
	if filter != "" {
		loc += "&filter=" + url.QueryEscape(filter)
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusSeeOther)
}

// quote is Python's urllib.parse.quote (safe '/').
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// The actions: Supervisor's, then the group actions of this page.
var actions = map[string]bool{
	"stopall": true, "restartall": true,
	"start": true, "stop": true, "restart": true, "clearlog": true,
	"startgroup": true, "stopgroup": true, "restartgroup": true,
}

func known(action string) bool { return actions[action] }

func question(action, name string) *confirm {
	verb := map[string]string{
		"stopall": "Stop All", "restartall": "Restart All",
		"start": "Start", "stop": "Stop", "restart": "Restart", "clearlog": "Clear Log",
		"startgroup": "Start", "stopgroup": "Stop", "restartgroup": "Restart",
	}[action]
	c := &confirm{Action: action, ProcessName: name, Button: verb}
	switch action {
	case "stopall":
		c.Question = "Stop all processes?"
	case "restartall":
		c.Question = "Restart all processes?"
	case "startgroup", "stopgroup", "restartgroup":
		if name == "" {
			return nil
		}
		c.Question = fmt.Sprintf("%s group %s?", verb, name)
		c.Button = verb + " group"
	default:
		if name == "" {
			return nil
		}
		c.Question = fmt.Sprintf("%s %s?", verb, name)
	}
	return c
}

// act performs an action and returns Supervisor's message for it; false
// where Supervisor's make_callback raises (a 500).
func (u *UI) act(ctx context.Context, action, name string) (string, bool) {
	switch action {
	case "stopall":
		u.api.Call(ctx, "supervisor.stopAllProcesses")
		return "All stopped at " + u.ctime(), true
	case "restartall":
		u.api.Call(ctx, "system.multicall", []any{
			map[string]any{"methodName": "supervisor.stopAllProcesses"},
			map[string]any{"methodName": "supervisor.startAllProcesses"},
		})
		return "All restarted at " + u.ctime(), true
	case "startgroup", "stopgroup", "restartgroup":
		if name == "" {
			return "", false
		}
		return u.groupAction(ctx, action, name), true
	}
	if name == "" {
		return "", false
	}
	if !u.exists(ctx, name) {
		return "No such process named " + name, true
	}
	switch action {
	case "start":
		if _, err := u.api.Call(ctx, "supervisor.startProcess", name); err != nil {
			return fmt.Sprintf("ERROR: Process %s: %s", name, startError(err)), true
		}
		return fmt.Sprintf("Process %s started", name), true
	case "stop":
		if _, err := u.api.Call(ctx, "supervisor.stopProcess", name); err != nil {
			return unexpected(err), true
		}
		return fmt.Sprintf("Process %s stopped", name), true
	case "restart":
		// A multicall: a failed stop (not running) does not keep the
		// start from happening, and the message is the same.
		u.api.Call(ctx, "system.multicall", []any{
			map[string]any{"methodName": "supervisor.stopProcess", "params": []any{name}},
			map[string]any{"methodName": "supervisor.startProcess", "params": []any{name}},
		})
		return fmt.Sprintf("Process %s restarted", name), true
	case "clearlog":
		if _, err := u.api.Call(ctx, "supervisor.clearProcessLogs", name); err != nil {
			return unexpected(err), true
		}
		return fmt.Sprintf("Log for %s cleared", name), true
	}
	return "", false
}

// exists is Supervisor's check before a process action: the group of
// split_namespec(name) is active and has the process.
func (u *UI) exists(ctx context.Context, name string) bool {
	if strings.HasSuffix(name, ":*") {
		return false // "*" is no process name
	}
	_, err := u.api.Call(ctx, "supervisor.getProcessInfo", name)
	var f *xmlrpc.Fault
	return !(errors.As(err, &f) && f.Code == xmlrpc.FaultBadName)
}

func (u *UI) groupAction(ctx context.Context, action, name string) string {
	var calls []string
	var done string
	switch action {
	case "startgroup":
		calls, done = []string{"supervisor.startProcessGroup"}, "started"
	case "stopgroup":
		calls, done = []string{"supervisor.stopProcessGroup"}, "stopped"
	case "restartgroup":
		calls, done = []string{"supervisor.stopProcessGroup", "supervisor.startProcessGroup"}, "restarted"
	}
	var failed []string
	for _, m := range calls {
		v, err := u.api.Call(ctx, m, name)
		if err != nil {
			var f *xmlrpc.Fault
			if errors.As(err, &f) && f.Code == xmlrpc.FaultBadName {
				return "No such group named " + name
			}
			return unexpected(err)
		}
		res, err := xmlrpc.DecodeResults(v)
		if err != nil {
			return unexpected(err)
		}
		for _, r := range res {
			// Stopping what is not running is no failure.
			if r.Err != nil && !(strings.HasSuffix(m, "stopProcessGroup") && r.Err.Code == xmlrpc.FaultNotRunning) {
				failed = append(failed, fmt.Sprintf("%s: %s", r.Namespec(), faultText(r.Err)))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Sprintf("ERROR: Group %s: %s", name, strings.Join(failed, "; "))
	}
	return fmt.Sprintf("Group %s %s", name, done)
}

// startError is the reason StatusView gives for a failed start.
func startError(err error) string {
	var f *xmlrpc.Fault
	if !errors.As(err, &f) {
		return "unexpected error " + err.Error()
	}
	switch f.Code {
	case xmlrpc.FaultNoFile:
		return "no such file"
	case xmlrpc.FaultNotExecutable:
		return "file not executable"
	case xmlrpc.FaultAlreadyStarted:
		return "already started"
	case xmlrpc.FaultSpawnError:
		return "spawn error"
	case xmlrpc.FaultAbnormalTermination:
		return "abnormal termination"
	}
	return fmt.Sprintf("unexpected rpc fault [%d] %s", f.Code, f.String)
}

func faultText(f *xmlrpc.Fault) string {
	switch f.Code {
	case xmlrpc.FaultNoFile, xmlrpc.FaultNotExecutable, xmlrpc.FaultAlreadyStarted, xmlrpc.FaultSpawnError, xmlrpc.FaultAbnormalTermination:
		return startError(f)
	}
	return strings.ToLower(strings.ReplaceAll(xmlrpc.FaultName(f.Code), "_", " "))
}

func unexpected(err error) string {
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		return fmt.Sprintf("unexpected rpc fault [%d] %s", f.Code, f.String)
	}
	return "unexpected error " + err.Error()
}

type tailPage struct {
	Title       string
	ProcessName string
	HasName     bool
	Body        string
	Limit       int
	Offset      int // the file's size after Body; -1 when not following
	PollMS      int
}

// tailLimit is TailView's limit: at least 1024 bytes, more if asked.
func tailLimit(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1024 || strings.TrimLeft(s, "0123456789") != "" {
		return 1024
	}
	return n
}

func (u *UI) serveTail(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r)
	if err != nil {
		errorPage(w, http.StatusBadRequest)
		return
	}
	page := tailPage{Offset: -1, PollMS: 1000}
	if u.opt.Poll > 0 {
		page.PollMS = int(u.opt.Poll / time.Millisecond)
	}
	name := f.Get("processname")
	page.ProcessName = name
	page.Title = "Supervisor tail of process " + name
	if !f.Has("processname") {
		page.Title = "Supervisor tail of process None"
	}
	switch {
	case name == "":
		page.Body = "No process name found"
	default:
		page.HasName = true
		page.Limit = tailLimit(f.Get("limit"))
		page.Body, page.Offset = u.tail(r.Context(), name, page.Limit)
	}
	u.render(w, "tail.html", page)
}

// tail returns the last limit bytes of name's stdout log and the file's
// size, or TailView's message and -1.
func (u *UI) tail(ctx context.Context, name string, limit int) (string, int) {
	v, err := u.api.Call(ctx, "supervisor.tailProcessStdoutLog", name, 0, limit)
	if err == nil {
		l, _ := v.([]any)
		if len(l) == 3 {
			data, _ := l[0].(string)
			off, _ := l[1].(int)
			if data != "" || off != 0 {
				return data, off
			}
		}
		// Empty or missing: readProcessStdoutLog tells which.
		_, err = u.api.Call(ctx, "supervisor.readProcessStdoutLog", name, -limit, 0)
		if err == nil {
			return "", 0
		}
	}
	var fl *xmlrpc.Fault
	if errors.As(err, &fl) && fl.Code == xmlrpc.FaultNoFile {
		return "No file for " + name, -1
	}
	return "ERROR: " + unexpected(err), -1
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// serveStatusJSON is what the status page's script polls.
func (u *UI) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	procs, err := u.processes(r.Context())
	if err != nil {
		writeJSON(w, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, map[string]any{"processes": procs, "counts": counts(procs)})
}

// serveTailJSON is what tail.html's script polls: what name's stdout log
// gained since offset (tailProcessStdoutLog's answer).
func (u *UI) serveTailJSON(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	off, err := strconv.Atoi(q.Get("offset"))
	if err != nil || off < 0 {
		errorPage(w, http.StatusBadRequest)
		return
	}
	v, err := u.api.Call(r.Context(), "supervisor.tailProcessStdoutLog", q.Get("processname"), off, 1<<16)
	if err != nil {
		writeJSON(w, map[string]any{"error": unexpected(err)})
		return
	}
	l, _ := v.([]any)
	if len(l) != 3 {
		writeJSON(w, map[string]any{"error": "unexpected answer from tailProcessStdoutLog"})
		return
	}
	data, _ := l[0].(string)
	next, _ := l[1].(int)
	overflow, _ := l[2].(bool)
	// A file that shrank (cleared, rotated) starts over.
	writeJSON(w, map[string]any{"data": data, "offset": next, "overflow": overflow, "reset": next < off})
}

var funcs = template.FuncMap{
	"lower":      strings.ToLower,
	"stateClass": stateClass,
}

// stateClass is StatusView's css_class_for_state.
func stateClass(state string) string {
	switch state {
	case "RUNNING":
		return "statusrunning"
	case "FATAL", "BACKOFF":
		return "statuserror"
	}
	return "statusnominal"
}

// writeTable writes the rows of the status table. It is written by hand
// rather than with html/template because the template's reflection and
// contextual escaping cost 65 ms for 1000 programs, ten times the rest
// of the page; every value goes through html.EscapeString (and
// url.QueryEscape or quote in URLs) here as the template would.
func writeTable(groups []group) template.HTML {
	var b strings.Builder
	b.Grow(len(groups) * 1200)
	esc := html.EscapeString
	for _, g := range groups {
		gn := esc(g.Name)
		b.WriteString(`<tbody data-group="` + gn + "\">\n")
		if g.Header {
			gq := esc(url.QueryEscape(g.Name))
			b.WriteString(`<tr class="group" data-group="` + gn + "\">\n")
			b.WriteString(`<th scope="rowgroup" colspan="3"><span class="gname">` + gn + `</span><span class="gcounts">`)
			for _, c := range g.Counts {
				fmt.Fprintf(&b, `<span class="count %s">%d %s</span>`, c.Class, c.N, c.State)
			}
			b.WriteString("</span></th>\n<td class=\"action\"><ul>\n")
			for _, a := range [...]struct{ value, label string }{{"startgroup", "Start"}, {"restartgroup", "Restart"}, {"stopgroup", "Stop"}} {
				b.WriteString(`<li><button name="action" value="` + a.value + `" formaction="index.html?processname=` + gq +
					`" aria-label="` + a.label + ` group ` + gn + `">` + a.label + "</button></li>\n")
			}
			b.WriteString("</ul></td>\n</tr>\n")
		}
		for _, p := range g.Procs {
			n, q, path := esc(p.Name), esc(url.QueryEscape(p.Name)), esc(quote(p.Name))
			b.WriteString(`<tr data-name="` + n + "\">\n")
			b.WriteString(`<td class="status"><span class="` + stateClass(p.State) + `">` + esc(strings.ToLower(p.State)) + "</span></td>\n")
			b.WriteString(`<td class="desc">` + esc(p.Description) + "</td>\n")
			b.WriteString(`<td class="name"><a href="tail.html?processname=` + q + `" target="_blank">` + n + "</a></td>\n")
			b.WriteString("<td class=\"action\"><ul>\n")
			start, stop := canStart(p.State), canStop(p.State)
			for _, a := range [...]struct {
				value, label, of string
				shown            bool
			}{{"start", "Start", "", start}, {"restart", "Restart", "", stop}, {"stop", "Stop", "", stop}, {"clearlog", "Clear Log", " of", true}} {
				b.WriteString(`<li><button name="action" value="` + a.value + `" formaction="index.html?processname=` + q +
					`" aria-label="` + a.label + a.of + " " + n + `"`)
				if !a.shown {
					b.WriteString(" hidden")
				}
				b.WriteString(">" + a.label + "</button></li>\n")
			}
			b.WriteString(`<li><a href="logtail/` + path + `" target="_blank" aria-label="Tail -f Stdout of ` + n + "\">Tail -f Stdout</a></li>\n")
			b.WriteString(`<li><a href="logtail/` + path + `/stderr" target="_blank" aria-label="Tail -f Stderr of ` + n + "\">Tail -f Stderr</a></li>\n")
			b.WriteString("</ul></td>\n</tr>\n")
		}
		b.WriteString("</tbody>\n")
	}
	return template.HTML(b.String())
}

// canStart and canStop are the actions StatusView offers for a state.
func canStart(state string) bool { return state == "STOPPED" || state == "EXITED" || state == "FATAL" }
func canStop(state string) bool  { return state == "RUNNING" }
