package webui

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// fakeAPI answers the methods the page calls from a table of processes,
// as Supervisor's rpcinterface would, and records each call.
type fakeAPI struct {
	mu    sync.Mutex
	procs []fakeProc
	calls []string
	logs  map[string]string // namespec → stdout log content; absent: no file
	fail  map[string]*xmlrpc.Fault
}

type fakeProc struct{ group, name, state string }

func (p fakeProc) spec() string {
	if p.group == p.name {
		return p.name
	}
	return p.group + ":" + p.name
}

func newFake() *fakeAPI {
	return &fakeAPI{
		procs: []fakeProc{
			{"web", "web", "RUNNING"},
			{"idle", "idle", "STOPPED"},
			{"bad", "bad", "FATAL"},
			{"workers", "w1", "RUNNING"},
			{"workers", "w2", "STARTING"},
		},
		logs: map[string]string{"web": "one\ntwo\n"},
		fail: map[string]*xmlrpc.Fault{},
	}
}

func fault(code int, detail string) *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: code, String: xmlrpc.FaultName(code) + ": " + detail}
}

func (f *fakeAPI) find(spec string) *fakeProc {
	for i := range f.procs {
		if f.procs[i].spec() == spec {
			return &f.procs[i]
		}
	}
	return nil
}

func (f *fakeAPI) Call(ctx context.Context, method string, args ...any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.TrimSpace(method+" "+strings.TrimSpace(fmt.Sprintln(args...))))
	if fl := f.fail[method]; fl != nil {
		return nil, fl
	}
	arg := func(i int) string { s, _ := args[i].(string); return s }
	info := func(p fakeProc) map[string]any {
		return map[string]any{"name": p.name, "group": p.group, "statename": p.state, "description": "desc of " + p.spec()}
	}
	switch method {
	case "supervisor.getAllProcessInfo":
		var out []any
		sorted := slices.Clone(f.procs)
		slices.SortFunc(sorted, func(a, b fakeProc) int { return strings.Compare(a.group+"\x00"+a.name, b.group+"\x00"+b.name) })
		for _, p := range sorted {
			out = append(out, info(p))
		}
		return out, nil
	case "supervisor.getProcessInfo":
		p := f.find(arg(0))
		if p == nil {
			return nil, fault(xmlrpc.FaultBadName, arg(0))
		}
		return info(*p), nil
	case "supervisor.getSupervisorVersion":
		return "4.2.5", nil
	case "supervisor.getIdentification":
		return "supervisor", nil
	case "supervisor.startProcess":
		p := f.find(arg(0))
		if p.state == "RUNNING" {
			return nil, fault(xmlrpc.FaultAlreadyStarted, arg(0))
		}
		p.state = "RUNNING"
		return true, nil
	case "supervisor.stopProcess":
		p := f.find(arg(0))
		if p.state != "RUNNING" {
			return nil, fault(xmlrpc.FaultNotRunning, arg(0))
		}
		p.state = "STOPPED"
		return true, nil
	case "supervisor.clearProcessLogs":
		return true, nil
	case "supervisor.stopAllProcesses", "supervisor.startAllProcesses", "system.multicall":
		return []any{}, nil
	case "supervisor.startProcessGroup", "supervisor.stopProcessGroup":
		if arg(0) != "workers" {
			return nil, fault(xmlrpc.FaultBadName, arg(0))
		}
		res := []any{map[string]any{"name": "w1", "group": "workers", "status": 80, "description": "OK"}}
		if method == "supervisor.startProcessGroup" {
			res = append(res, map[string]any{"name": "w2", "group": "workers", "status": xmlrpc.FaultSpawnError, "description": "SPAWN_ERROR"})
		} else {
			res = append(res, map[string]any{"name": "w2", "group": "workers", "status": xmlrpc.FaultNotRunning, "description": "NOT_RUNNING"})
		}
		return res, nil
	case "supervisor.tailProcessStdoutLog", "supervisor.readProcessStdoutLog":
		if f.find(arg(0)) == nil {
			return nil, fault(xmlrpc.FaultBadName, arg(0))
		}
		log, ok := f.logs[arg(0)]
		if !ok {
			if method == "supervisor.tailProcessStdoutLog" {
				return []any{"", 0, false}, nil
			}
			return nil, fault(xmlrpc.FaultNoFile, "/nonexistent")
		}
		if method == "supervisor.readProcessStdoutLog" {
			return log, nil
		}
		off, _ := args[1].(int)
		if off == 0 {
			return []any{log, len(log), false}, nil
		}
		return []any{log[min(off, len(log)):], len(log), false}, nil
	}
	return nil, fault(xmlrpc.FaultUnknownMethod, method)
}

func (f *fakeAPI) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

var fixed = time.Date(2026, 12, 6, 8, 5, 3, 0, time.UTC)

func newUI(f *fakeAPI) *UI {
	return New(f, Options{Now: func() time.Time { return fixed }, Location: time.UTC})
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

func post(t *testing.T, h http.Handler, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(w, r)
	return w
}

// rows reads the status table back: "state name [actions]" per process,
// the actions being the buttons and links not hidden.
func rows(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	trs := regexp.MustCompile(`(?s)<tr data-name="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(body, -1)
	for _, tr := range trs {
		state := regexp.MustCompile(`<td class="status"><span class="(\w+)">(\w+)</span>`).FindStringSubmatch(tr[2])
		var acts []string
		for _, a := range regexp.MustCompile(`<(?:button|a)([^>]*)>([^<]*)</(?:button|a)>`).FindAllStringSubmatch(tr[2], -1) {
			if strings.Contains(a[1], " hidden") || strings.Contains(a[1], `href="tail.html`) {
				continue
			}
			acts = append(acts, a[2])
		}
		out = append(out, fmt.Sprintf("%s/%s %s %v", state[2], state[1], tr[1], acts))
	}
	return out
}

func TestStatusPage(t *testing.T) {
	f := newFake()
	w := get(t, newUI(f), "/")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/html;charset=utf-8" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET / = %d %v", w.Code, w.Header())
	}
	body := w.Body.String()
	want := []string{
		"fatal/statuserror bad [Start Clear Log Tail -f Stdout Tail -f Stderr]",
		"stopped/statusnominal idle [Start Clear Log Tail -f Stdout Tail -f Stderr]",
		"running/statusrunning web [Restart Stop Clear Log Tail -f Stdout Tail -f Stderr]",
		"running/statusrunning workers:w1 [Restart Stop Clear Log Tail -f Stdout Tail -f Stderr]",
		"starting/statusnominal workers:w2 [Clear Log Tail -f Stdout Tail -f Stderr]",
	}
	if got := rows(t, body); !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range []string{
		`<title>Supervisor Status</title>`,
		`<strong>5</strong> processes<span class="count statusnominal">1 stopped</span><span class="count statusnominal">1 starting</span><span class="count statusrunning">2 running</span><span class="count statuserror">1 fatal</span>`,
		`<tr class="group" data-group="workers">`,
		`<a href="tail.html?processname=workers%3Aw1" target="_blank">workers:w1</a>`,
		`<a href="logtail/workers%3Aw1/stderr"`,
		`<td class="desc">desc of workers:w1</td>`,
		`name="csrf" value="`,
		`<label for="filter">Filter</label>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	// A group of one process of its own name has no header.
	if strings.Contains(body, `<tr class="group" data-group="web">`) {
		t.Error("web has a group header")
	}
	if !slices.Equal(get(t, newUI(f), "/index.html").Body.Bytes()[:200], w.Body.Bytes()[:200]) {
		t.Error("/index.html is not /")
	}
}

func TestNoPrograms(t *testing.T) {
	f := newFake()
	f.procs = nil
	body := get(t, newUI(f), "/").Body.String()
	if !strings.Contains(body, "No programs to manage") || strings.Contains(body, "<table") {
		t.Errorf("empty page:\n%s", body)
	}
}

func TestFilter(t *testing.T) {
	body := get(t, newUI(newFake()), "/?filter=WORKERS+run").Body.String()
	got := rows(t, body)
	if len(got) != 1 || !strings.Contains(got[0], "workers:w1") {
		t.Errorf("filter 'WORKERS run' shows %v", got)
	}
	if !strings.Contains(body, `<span class="count" id="shown">1 shown</span>`) || !strings.Contains(body, `value="WORKERS run"`) {
		t.Error("the filtered page does not say what it shows")
	}
}

// TestActions posts each action with the page's token and checks
// Supervisor's message in the redirect, and the calls made.
func TestActions(t *testing.T) {
	for _, tc := range []struct {
		action, name string
		setup        func(*fakeAPI)
		message      string
		call         string // a call that must have been made
	}{
		{"start", "idle", nil, "Process idle started", "supervisor.startProcess idle"},
		{"start", "web", nil, "ERROR: Process web: already started", "supervisor.startProcess web"},
		{"start", "idle", func(f *fakeAPI) { f.fail["supervisor.startProcess"] = fault(xmlrpc.FaultSpawnError, "idle") }, "ERROR: Process idle: spawn error", ""},
		{"start", "idle", func(f *fakeAPI) { f.fail["supervisor.startProcess"] = fault(xmlrpc.FaultNoFile, "no such file") }, "ERROR: Process idle: no such file", ""},
		{"start", "idle", func(f *fakeAPI) { f.fail["supervisor.startProcess"] = fault(xmlrpc.FaultFailed, "idle") }, "ERROR: Process idle: unexpected rpc fault [30] FAILED: idle", ""},
		{"start", "nope", nil, "No such process named nope", ""},
		{"start", "workers:*", nil, "No such process named workers:*", ""},
		{"stop", "web", nil, "Process web stopped", "supervisor.stopProcess web"},
		{"stop", "idle", nil, "unexpected rpc fault [70] NOT_RUNNING: idle", ""},
		{"restart", "web", nil, "Process web restarted", "system.multicall"},
		{"clearlog", "web", nil, "Log for web cleared", "supervisor.clearProcessLogs web"},
		{"stopall", "", nil, "All stopped at Sun Dec  6 08:05:03 2026", "supervisor.stopAllProcesses"},
		{"restartall", "", nil, "All restarted at Sun Dec  6 08:05:03 2026", "system.multicall"},
		{"stopgroup", "workers", nil, "Group workers stopped", "supervisor.stopProcessGroup workers"},
		{"startgroup", "workers", nil, "ERROR: Group workers: workers:w2: spawn error", "supervisor.startProcessGroup workers"},
		{"restartgroup", "workers", nil, "ERROR: Group workers: workers:w2: spawn error", "supervisor.startProcessGroup workers"},
		{"startgroup", "nope", nil, "No such group named nope", ""},
	} {
		t.Run(tc.action+"_"+tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			u := newUI(f)
			w := post(t, u, "/index.html?processname="+url.QueryEscape(tc.name), url.Values{"action": {tc.action}, "csrf": {u.token}})
			if w.Code != http.StatusSeeOther {
				t.Fatalf("POST = %d, want 303", w.Code)
			}
			want := "./?message=" + quote(tc.message)
			if got := w.Header().Get("Location"); got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			if tc.call != "" && !slices.ContainsFunc(f.called(), func(c string) bool { return strings.HasPrefix(c, tc.call) }) {
				t.Errorf("no call %q among %q", tc.call, f.called())
			}
			// The message shows on the page the redirect leads to.
			loc, _ := url.Parse(w.Header().Get("Location"))
			body := get(t, u, "/"+"?"+loc.RawQuery).Body.String()
			if !strings.Contains(body, `role="status">`+htmlText(tc.message)+`</div>`) {
				t.Errorf("the page after the redirect lacks the message %q", tc.message)
			}
		})
	}
}

// htmlText escapes s as html/template writes text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// TestCSRF: an action is done only when posted with the page's token; a
// GET with action= asks first and does nothing.
func TestCSRF(t *testing.T) {
	f := newFake()
	u := newUI(f)
	acting := func() bool {
		for _, c := range f.called() {
			if strings.HasPrefix(c, "supervisor.stop") || strings.HasPrefix(c, "supervisor.start") || strings.HasPrefix(c, "system.multicall") {
				return true
			}
		}
		return false
	}
	for _, token := range []string{"", "0123", u.token + "x"} {
		w := post(t, u, "/index.html?processname=web", url.Values{"action": {"stop"}, "csrf": {token}})
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "nothing was done") {
			t.Errorf("POST with token %q = %d", token, w.Code)
		}
	}
	w := get(t, u, "/index.html?processname=web&action=stop")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `<p id="confirmq">Stop web?</p>`) || !strings.Contains(body, `name="processname" value="web"`) {
		t.Errorf("GET action=stop = %d:\n%s", w.Code, body)
	}
	for _, q := range []string{"action=stopall", "action=restartall", "action=restart&processname=web", "action=stopgroup&processname=workers"} {
		if w := get(t, u, "/?"+q); w.Code != 200 || !strings.Contains(w.Body.String(), `class="confirm"`) {
			t.Errorf("GET %s = %d, no confirmation", q, w.Code)
		}
	}
	if acting() {
		t.Fatalf("an action was done without the token: %q", f.called())
	}
	// The confirmation's form, posted, acts.
	tok := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	w = post(t, u, "/index.html", url.Values{"action": {"stop"}, "processname": {"web"}, "csrf": {tok[1]}})
	if w.Code != http.StatusSeeOther || !acting() {
		t.Errorf("the confirmed stop = %d, calls %q", w.Code, f.called())
	}
	// Refresh is harmless and done on GET, as in Supervisor.
	w = get(t, u, "/index.html?action=refresh")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "./?message=Page%20refreshed%20at%20Sun%20Dec%20%206%2008%3A05%3A03%202026" {
		t.Errorf("refresh = %d %q", w.Code, w.Header().Get("Location"))
	}
}

// TestBadRequests: what Supervisor answers 500 (make_callback raises)
// or 404 (no view) for.
func TestBadRequests(t *testing.T) {
	u := newUI(newFake())
	for target, code := range map[string]int{
		"/?action=frobnicate":                  500,
		"/?action=start":                       500, // no processname
		"/nothing.html":                        404,
		"/static/nothing.css":                  404,
		"/static/":                             404,
		"/tail.json?processname=web":           400, // no offset
		"/tail.json?processname=web&offset=-1": 400,
	} {
		if w := get(t, u, target); w.Code != code {
			t.Errorf("GET %s = %d, want %d", target, w.Code, code)
		}
	}
	w := httptest.NewRecorder()
	u.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/", nil))
	if w.Code != 404 {
		t.Errorf("PUT / = %d, want 404", w.Code)
	}
	if w := post(t, u, "/?action=start", url.Values{"csrf": {u.token}}); w.Code != 500 {
		t.Errorf("POST start without a name = %d, want 500", w.Code)
	}
	if w := get(t, u, "/ok.html"); w.Body.String() != "OK" {
		t.Errorf("ok.html = %q", w.Body.String())
	}
}

func TestTail(t *testing.T) {
	f := newFake()
	u := newUI(f)
	for _, tc := range []struct{ target, title, body string }{
		{"/tail.html", "Supervisor tail of process None", "No process name found"},
		{"/tail.html?processname=", "Supervisor tail of process ", "No process name found"},
		{"/tail.html?processname=web", "Supervisor tail of process web", "one\ntwo\n"},
		{"/tail.html?processname=idle", "Supervisor tail of process idle", "No file for idle"},
		{"/tail.html?processname=nope", "Supervisor tail of process nope", "ERROR: unexpected rpc fault [10] BAD_NAME: nope"},
	} {
		body := get(t, u, tc.target).Body.String()
		if !strings.Contains(body, "<title>"+tc.title+"</title>") || !strings.Contains(body, `<pre id="tailbody" tabindex="0">`+tc.body+"</pre>") {
			t.Errorf("GET %s:\n%s", tc.target, body)
		}
	}
	body := get(t, u, "/tail.html?processname=web&limit=5000").Body.String()
	for _, s := range []string{`data-offset="8"`, `href="tail.html?processname=web&amp;limit=5000"`} {
		if !strings.Contains(body, s) {
			t.Errorf("tail.html lacks %s", s)
		}
	}
	if !slices.Contains(f.called(), "supervisor.tailProcessStdoutLog web 0 5000") {
		t.Errorf("calls %q", f.called())
	}
	for in, want := range map[string]int{"": 1024, "10": 1024, "5000": 5000, "-5000": 1024, "x": 1024, "+5000": 1024} {
		if got := tailLimit(in); got != want {
			t.Errorf("tailLimit(%q) = %d, want %d", in, got, want)
		}
	}
	if got := get(t, u, "/tail.json?processname=web&offset=4").Body.String(); got != `{"data":"two\n","offset":8,"overflow":false,"reset":false}` {
		t.Errorf("tail.json = %s", got)
	}
	if got := get(t, u, "/tail.json?processname=nope&offset=4").Body.String(); !strings.Contains(got, `"error":"unexpected rpc fault [10] BAD_NAME: nope"`) {
		t.Errorf("tail.json of nope = %s", got)
	}
}

func TestStatusJSON(t *testing.T) {
	body := get(t, newUI(newFake()), "/status.json").Body.String()
	for _, s := range []string{`{"name":"workers:w1","group":"workers","state":"RUNNING","description":"desc of workers:w1"}`, `{"state":"running","class":"statusrunning","n":2}`} {
		if !strings.Contains(body, s) {
			t.Errorf("status.json lacks %s:\n%s", s, body)
		}
	}
}

// TestEmbedded: every file the pages use is served from the binary, and
// nothing points outside the server.
func TestEmbedded(t *testing.T) {
	u := newUI(newFake())
	page := get(t, u, "/").Body.String() + get(t, u, "/tail.html?processname=web").Body.String()
	refs := regexp.MustCompile(`(?:href|src)="(static/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 4 {
		t.Fatalf("the pages use %d static files", len(refs))
	}
	for _, r := range refs {
		w := get(t, u, "/"+r[1])
		if w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("GET /%s = %d", r[1], w.Code)
		}
	}
	fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(assets, p)
		for _, m := range regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"']*`).FindAllString(string(b), -1) {
			if m != "http://www.w3.org/2000/svg" {
				t.Errorf("%s refers to %s: everything must ship in the binary", p, m)
			}
		}
		return nil
	})
	if got := get(t, u, "/static/supersede.css").Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("css Content-Type %q", got)
	}
}

// TestStatusPage1000 keeps the page for 1000 programs within reach of a
// browser: one getAllProcessInfo, and about a kilobyte a row.
func TestStatusPage1000(t *testing.T) {
	f := newFake()
	f.procs = nil
	for i := range 1000 {
		f.procs = append(f.procs, fakeProc{fmt.Sprintf("g%02d", i/10), fmt.Sprintf("p%03d", i), "RUNNING"})
	}
	u := newUI(f)
	body := get(t, u, "/").Body.String()
	if n := strings.Count(body, "<tr data-name="); n != 1000 {
		t.Fatalf("%d rows", n)
	}
	if len(body) > 1500*1000 {
		t.Errorf("the page for 1000 programs is %d bytes", len(body))
	}
	n := 0
	for _, c := range f.called() {
		if strings.HasPrefix(c, "supervisor.getAllProcessInfo") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d getAllProcessInfo calls", n)
	}
}

func BenchmarkRender1000(b *testing.B) {
	f := newFake()
	f.procs = nil
	for i := range 1000 {
		f.procs = append(f.procs, fakeProc{fmt.Sprintf("g%02d", i/10), fmt.Sprintf("p%03d", i), "RUNNING"})
	}
	u := newUI(f)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		u.ServeHTTP(w, r)
		io.Copy(io.Discard, w.Body)
	}
}
