package webui_test

// The page in a real browser: Debian's chromium, headless, driven over
// the DevTools protocol with chromedp (github.com/chromedp/chromedp: the
// most used and most steadily released Go DevTools driver, pure Go, no
// browser download of its own; rod is the alternative and has had fewer
// releases lately). The same configuration runs under the real
// supervisord 4.2.5 and under supersede run; the test reads both pages,
// compares them, clicks Stop, Start and Restart on each and checks the
// state, the message and the pid, and follows a tail.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/testreal"
)

var update = flag.Bool("update", false, "write the screenshots into docs/webui/")

func TestMain(m *testing.M) { fallbacktest.Main(m) }

// chromiumPath is Debian's chromium (make deps installs it).
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser test; a healthy run takes a
// few seconds.
const browserTimeout = 90 * time.Second

func requireChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testreal.Missing(t, chromiumPath+" is not installed (make deps, or apt-get install chromium)")
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const sections = `
[inet_http_server]
port=127.0.0.1:%d

[program:web]
command=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.2; done'
stopasgroup=true
killasgroup=true

[program:idle]
command=/bin/sleep 1000
autostart=false

[group:workers]
programs=w1,w2

[program:w1]
command=/bin/sleep 1000

[program:w2]
command=/bin/sleep 1000
`

// startDaemons starts supervisord and supersede run on the same
// configuration, each with its own port, in parallel.
func startDaemons(t *testing.T, cfg func(port int) fallbacktest.Config) map[fallbacktest.Impl]*site {
	t.Helper()
	fallbacktest.RequireSupervisor(t)
	fallbacktest.RequireSupersede(t)
	out := map[fallbacktest.Impl]*site{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, impl := range []fallbacktest.Impl{fallbacktest.Supervisord, fallbacktest.Supersede} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := startSite(t, impl, cfg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[impl] = s
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// startSite starts impl with an [inet_http_server] on a free loopback
// port. A port is free when chosen but may be taken before the daemon
// binds it (other tests of the machine choose ports too): then it tries
// another.
func startSite(t testing.TB, impl fallbacktest.Impl, cfg func(port int) fallbacktest.Config) (*site, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		d, err := fallbacktest.Start(t, impl, cfg(port))
		if err == nil {
			return &site{d: d, url: fmt.Sprintf("http://127.0.0.1:%d/", port)}, nil
		}
		if attempt == 3 || !strings.Contains(strings.ToLower(err.Error()), "already listening") {
			return nil, fmt.Errorf("%s: %w", impl, err)
		}
	}
}

type site struct {
	d   *fallbacktest.Daemon
	url string
}

// newBrowser starts chromium and returns a context for its first tab.
// Cleanup closes it (the browser this test started, and only it) and
// chromedp removes its temporary profile.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // root on CI
		chromedp.WindowSize(1100, 640),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first Do starts the browser, for as long as bctx lives: it
	// must not get a context with a deadline of its own. A browser that
	// hangs on start is ended by the test's timeout.
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		chromedp.Cancel(ctx)
		bcancel()
		acancel()
	})
	return bctx
}

// row is a process's row of either page.
type row struct {
	State, Desc, Name string
	Actions           []string
}

// readRows reads the status table as a person sees it: the rows with
// four cells, and the actions that are shown.
const readRows = `Array.from(document.querySelectorAll('table tbody tr')).filter(tr => tr.querySelectorAll(':scope > td').length === 4).map(tr => {
	const td = tr.querySelectorAll(':scope > td');
	return {
		State: td[0].textContent.trim(), Desc: td[1].textContent.trim(), Name: td[2].textContent.trim(),
		Actions: Array.from(td[3].querySelectorAll('a,button')).filter(e => e.getClientRects().length > 0).map(e => e.textContent.trim()),
	};
})`

var pidRE = regexp.MustCompile(`pid \d+, uptime \d+:\d\d:\d\d`)

func normalize(rows []row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s | %s | %s | %s\n", r.State, pidRE.ReplaceAllString(r.Desc, "pid N, uptime T"), r.Name, strings.Join(r.Actions, ", "))
	}
	return b.String()
}

// pollJS evaluates expr until it yields want or the deadline passes,
// and returns the last value. Errors while a page is being replaced
// are retried.
func pollJS(ctx context.Context, expr, want string, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	var got string
	var err error
	for {
		got, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err == nil && got == want {
			return got, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return got, err
			}
			return got, fmt.Errorf("%s is %q, want %q after %v", expr, got, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click clicks the action named text in the row of process name, as a
// person would (a mouse click on the element, not a form submission).
func click(ctx context.Context, name, text string) error {
	mark := fmt.Sprintf(`(() => {
		document.querySelectorAll('[data-test-click]').forEach(e => e.removeAttribute('data-test-click'));
		const tr = Array.from(document.querySelectorAll('table tbody tr')).find(tr => {
			const td = tr.querySelectorAll(':scope > td');
			return td.length === 4 && td[2].textContent.trim() === %q;
		});
		if (!tr) return false;
		const el = Array.from(tr.querySelectorAll('a,button')).find(e => e.textContent.trim() === %q && e.getClientRects().length > 0);
		if (!el) return false;
		el.setAttribute('data-test-click', '1');
		return true;
	})()`, name, text)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](mark))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no %q action shown for %s", text, name)
	}
	return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-test-click]`), chromedp.NodeVisible))
}

const messageJS = `(document.querySelector('.status_msg') || {textContent: ''}).textContent.trim()`

func stateJS(name string) string {
	return fmt.Sprintf(`(() => { const tr = Array.from(document.querySelectorAll('table tbody tr')).find(tr => { const td = tr.querySelectorAll(':scope > td'); return td.length === 4 && td[2].textContent.trim() === %q; }); return tr ? tr.querySelector('td').textContent.trim() : 'no row'; })()`, name)
}

func descJS(name string) string {
	return strings.Replace(stateJS(name), "tr.querySelector('td')", "tr.querySelectorAll('td')[1]", 1)
}

func screenshot(t *testing.T, ctx context.Context, name string, w, h int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if rerr := chromedp.Do(ctx, chromedp.ResetViewport()); err == nil {
		err = rerr
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil || img.Bounds().Dx() != int(w) {
		t.Errorf("screenshot %s: not a %d px wide PNG (%v)", name, w, err)
		return
	}
	dir := t.TempDir()
	if *update {
		dir = filepath.Join("..", "..", "docs", "webui")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Error(err)
	}
}

// TestBrowser is the page in chromium, under both daemons.
func TestBrowser(t *testing.T) {
	requireChromium(t)
	sites := startDaemons(t, func(port int) fallbacktest.Config {
		return fallbacktest.Config{Sections: fmt.Sprintf(sections, port)}
	})
	bctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(bctx, browserTimeout)
	defer cancel()
	for _, s := range sites {
		for _, p := range []string{"web", "workers:w1", "workers:w2"} {
			if out, err := s.d.WaitState(p, "RUNNING"); err != nil {
				t.Fatalf("%s: %v\n%s", s.d.Impl, err, out)
			}
		}
	}

	// The same programs, states, descriptions and actions on both pages.
	pages := map[fallbacktest.Impl]string{}
	tabs := map[fallbacktest.Impl]context.Context{}
	for impl, s := range sites {
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		tabs[impl] = tab
		if err := chromedp.Do(tab, chromedp.Navigate(s.url)); err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		rows, err := chromedp.Run(tab, chromedp.Evaluate[[]row](readRows))
		if err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		pages[impl] = normalize(rows)
		screenshot(t, tab, string(impl)+"-status.png", 1100, 360)
	}
	want := `running | pid N, uptime T | web | Restart, Stop, Clear Log, Tail -f Stdout, Tail -f Stderr
stopped | Not started | idle | Start, Clear Log, Tail -f Stdout, Tail -f Stderr
running | pid N, uptime T | workers:w1 | Restart, Stop, Clear Log, Tail -f Stdout, Tail -f Stderr
running | pid N, uptime T | workers:w2 | Restart, Stop, Clear Log, Tail -f Stdout, Tail -f Stderr
`
	// Supervisor sorts by (group, name): idle, web, workers.
	want = "stopped | Not started | idle | Start, Clear Log, Tail -f Stdout, Tail -f Stderr\n" + strings.Replace(want, "stopped | Not started | idle | Start, Clear Log, Tail -f Stdout, Tail -f Stderr\n", "", 1)
	for impl, got := range pages {
		if got != want {
			t.Errorf("%s's page shows:\n%s\nwant:\n%s", impl, got, want)
		}
	}
	if t.Failed() {
		return
	}

	// Stop, Start and Restart, clicked, on both at once.
	var wg sync.WaitGroup
	for impl, s := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := actions(tabs[impl], s); err != nil {
				t.Errorf("%s: %v", impl, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// The tail: Supervisor's page shows the last lines; supersede's also
	// follows them as the program writes.
	for impl, s := range sites {
		tab := tabs[impl]
		if err := chromedp.Do(tab, chromedp.Navigate(s.url+"tail.html?processname=web")); err != nil {
			t.Fatalf("%s: tail.html: %v", impl, err)
		}
		text, err := chromedp.Run(tab, chromedp.TextContent(chromedp.CSS("pre")))
		if err != nil {
			t.Fatalf("%s: tail.html: %v", impl, err)
		}
		if !strings.Contains(text, "line ") {
			t.Errorf("%s: tail.html shows %q", impl, text)
		}
		if err := logtail(s.url + "logtail/web"); err != nil {
			t.Errorf("%s: %v", impl, err)
		}
	}
	tab := tabs[fallbacktest.Supersede]
	last := `(() => { const m = document.querySelector('pre').textContent.match(/line (\d+)\n$/); return m ? m[1] : ''; })()`
	first, err := chromedp.Run(tab, chromedp.Evaluate[string](last))
	if err != nil || first == "" {
		t.Fatalf("supersede: tail.html's last line: %q %v", first, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		now, err := chromedp.Run(tab, chromedp.Evaluate[string](last))
		if err != nil {
			t.Fatal(err)
		}
		if now != first && now != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("supersede: tail.html did not follow the log: still at line %s", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	screenshot(t, tab, "supersede-tail.png", 700, 440)

	// supersede's page follows a change made elsewhere without a reload,
	// and filters as one types.
	s := sites[fallbacktest.Supersede]
	if err := chromedp.Do(tab, chromedp.Navigate(s.url)); err != nil {
		t.Fatal(err)
	}
	if r := s.d.Ctl("stop", "workers:w2"); r.Code != 0 {
		t.Fatalf("supervisorctl stop workers:w2: %v", r)
	}
	if got, err := pollJS(tab, stateJS("workers:w2"), "stopped", 15*time.Second); err != nil {
		t.Errorf("the page did not follow workers:w2's stop: %q %v", got, err)
	}
	// Accessible: every control has a name and the input a label, the
	// texts keep a contrast of 4.5:1, and the keyboard alone can act.
	if err := chromedp.Do(tab, chromedp.Navigate(s.url)); err != nil {
		t.Fatal(err)
	}
	problems, err := chromedp.Run(tab, chromedp.Evaluate[[]string](a11yJS))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("accessibility: %s", p)
	}
	focus := `(() => { const b = document.querySelector('tr[data-name="idle"] button[value="start"]'); b.focus(); return document.activeElement === b; })()`
	if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](focus)); err != nil || !ok {
		t.Fatalf("idle's Start button cannot take the focus: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if got, err := pollJS(tab, messageJS, "Process idle started", 30*time.Second); err != nil {
		t.Errorf("Enter on idle's Start: the message is %q: %v", got, err)
	}

	// Filtered by the server (no script needed), the page still follows
	// its rows and does not take the rows left out for a change.
	if err := chromedp.Do(tab, chromedp.Navigate(s.url+"index.html?filter=workers")); err != nil {
		t.Fatal(err)
	}
	if r := s.d.Ctl("start", "workers:w2"); r.Code != 0 {
		t.Fatalf("supervisorctl start workers:w2: %v", r)
	}
	if got, err := pollJS(tab, stateJS("workers:w2"), "running", 15*time.Second); err != nil {
		t.Errorf("the filtered page did not follow workers:w2's start: %q %v", got, err)
	}
	if msg, err := chromedp.Run(tab, chromedp.Evaluate[string](messageJS)); err != nil || msg != "" {
		t.Errorf("the filtered page says %q (%v)", msg, err)
	}
	if got, _ := chromedp.Run(tab, chromedp.Evaluate[[]row](readRows)); len(got) != 2 {
		t.Errorf("?filter=workers shows %v", got)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(s.url)); err != nil {
		t.Fatal(err)
	}
	shown := `Array.from(document.querySelectorAll('tr[data-name]')).filter(tr => tr.getClientRects().length > 0).map(tr => tr.dataset.name).join(' ')`
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("filter"), "work")); err != nil {
		t.Fatal(err)
	}
	if got, err := pollJS(tab, shown, "workers:w1 workers:w2", 5*time.Second); err != nil {
		t.Errorf("filter 'work' shows %q: %v", got, err)
	}
	if err := chromedp.Do(tab, clearFilter, chromedp.SendKeys(chromedp.ID("filter"), "IDLE run")); err != nil {
		t.Fatal(err)
	}
	if got, err := pollJS(tab, shown, "idle", 5*time.Second); err != nil {
		t.Errorf("filter 'IDLE run' shows %q: %v", got, err)
	}
	if err := chromedp.Do(tab, clearFilter, chromedp.Blur(chromedp.ID("filter"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, tab, "supersede-phone.png", 390, 700)
}

// a11yJS lists what a person with a screen reader, a keyboard or weak
// eyes would miss on the page: a control without a name, an input
// without a label, text with a contrast under 4.5:1 (WCAG AA) against the
// background it is drawn on.
const a11yJS = `(() => {
	const out = [];
	if (!document.documentElement.lang) out.push('no lang on <html>');
	for (const e of document.querySelectorAll('button, a, input')) {
		if (e.getClientRects().length === 0) continue;
		const name = (e.getAttribute('aria-label') || e.textContent || (e.labels && e.labels[0] && e.labels[0].textContent) || '').trim();
		if (!name) out.push(e.outerHTML.slice(0, 80) + ' has no name');
		if (e.tabIndex < 0) out.push(e.outerHTML.slice(0, 80) + ' is out of the tab order');
	}
	for (const i of document.querySelectorAll('input:not([type=hidden])')) if (!i.labels || i.labels.length === 0) out.push('input ' + i.id + ' has no label');
	const rgb = s => { const m = s.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
	const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
	const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0) return c; } return {r: 255, g: 255, b: 255}; };
	const sel = '.statusrunning, .statuserror, .statusnominal, td.desc, td.name a, td.action button, td.action a, .action-button, #header h1, #counts, label, tr.group th, #footer';
	for (const e of document.querySelectorAll(sel)) {
		if (e.getClientRects().length === 0) continue;
		const fg = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
		const ratio = (Math.max(fg, b) + 0.05) / (Math.min(fg, b) + 0.05);
		if (ratio < 4.5) out.push(e.outerHTML.slice(0, 80) + ' has contrast ' + ratio.toFixed(2));
	}
	return out;
})()`

// clearFilter empties the filter box as selecting its text and deleting
// it would.
var clearFilter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	_, err := chromedp.Evaluate[bool](`(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input')); return true; })()`)(ctx, t)
	return err
})

// actions clicks Stop, Start and Restart for web on one site's page and
// checks Supervisor's message, the state shown, and a new pid after the
// restart.
func actions(tab context.Context, s *site) error {
	const within = 30 * time.Second
	steps := []struct{ click, message, state string }{
		{"Stop", "Process web stopped", "stopped"},
		{"Start", "Process web started", "running"},
		{"Restart", "Process web restarted", "running"},
	}
	var pidBefore string
	for _, st := range steps {
		if st.click == "Restart" {
			var err error
			if pidBefore, err = chromedp.Run(tab, chromedp.Evaluate[string](descJS("web"))); err != nil {
				return err
			}
		}
		if err := click(tab, "web", st.click); err != nil {
			return fmt.Errorf("clicking %s: %w", st.click, err)
		}
		if got, err := pollJS(tab, messageJS, st.message, within); err != nil {
			return fmt.Errorf("after clicking %s the message is %q: %w", st.click, got, err)
		}
		if got, err := pollJS(tab, stateJS("web"), st.state, within); err != nil {
			return fmt.Errorf("after clicking %s web is %q: %w", st.click, got, err)
		}
	}
	pidAfter, err := chromedp.Run(tab, chromedp.Evaluate[string](descJS("web")))
	if err != nil {
		return err
	}
	pid := regexp.MustCompile(`pid \d+`)
	if pid.FindString(pidAfter) == "" || pid.FindString(pidAfter) == pid.FindString(pidBefore) {
		return fmt.Errorf("web's pid after Restart: %q, before: %q", pidAfter, pidBefore)
	}
	return nil
}

// logtail reads the "Tail -f Stdout" stream until a line of web's shows.
func logtail(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("line ")) {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF || err != nil {
			return fmt.Errorf("%s: %q then %v", url, got, err)
		}
	}
	return nil
}

// sections1000 is 1000 programs in 100 groups of 10 (numprocs), not
// started, so that the benchmark measures the page, not 1000 spawns.
func sections1000(port int) fallbacktest.Config {
	var b strings.Builder
	fmt.Fprintf(&b, "[inet_http_server]\nport=127.0.0.1:%d\n", port)
	for g := range 100 {
		fmt.Fprintf(&b, "\n[program:app%02d]\ncommand=/bin/sleep 1000\nnumprocs=10\nprocess_name=%%(program_name)s_%%(process_num)02d\nautostart=false\n", g)
	}
	return fallbacktest.Config{Sections: b.String()}
}

// navTiming is what the browser says about the page it loaded, in ms
// from the start of the navigation.
const navTiming = `(() => {
	const n = performance.getEntriesByType('navigation')[0];
	const fcp = performance.getEntriesByName('first-contentful-paint')[0];
	return {Response: n.responseEnd - n.requestStart, FCP: fcp ? fcp.startTime : -1, DOM: n.domContentLoadedEventEnd, Load: n.loadEventEnd,
		Rows: document.querySelectorAll('table tbody tr').length};
})()`

type timing struct {
	Response, FCP, DOM, Load float64
	Rows                     int
}

// BenchmarkStatusPage1000 is the status page of 1000 programs under
// supervisord and supersede run, side by side: each iteration measures
// both, one after the other, so that the load of a shared machine
// weighs on both alike. "server-ms" is GET / with a Go client (the
// server's time to make and send the page); "response-ms", "fcp-ms"
// and "load-ms" are a navigation in chromium, from its start to the
// last byte of the page, to the first contentful paint and to the load
// event.
func BenchmarkStatusPage1000(b *testing.B) {
	requireChromium(b)
	fallbacktest.RequireSupervisor(b)
	fallbacktest.RequireSupersede(b)
	impls := []fallbacktest.Impl{fallbacktest.Supervisord, fallbacktest.Supersede}
	sites := map[fallbacktest.Impl]*site{}
	for _, impl := range impls {
		s, err := startSite(b, impl, sections1000)
		if err != nil {
			b.Fatal(err)
		}
		sites[impl] = s
	}
	bctx := newBrowser(b)
	tabs := map[fallbacktest.Impl]context.Context{}
	for _, impl := range impls {
		tab, cancel := chromedp.NewContext(bctx)
		defer cancel()
		tabs[impl] = tab
	}
	client := &http.Client{Timeout: time.Minute}
	type sums struct {
		server, size float64
		timing
	}
	sum := map[fallbacktest.Impl]*sums{}
	for _, impl := range impls {
		sum[impl] = &sums{}
	}
	n := 0
	for b.Loop() {
		for _, impl := range impls {
			s, acc := sites[impl], sum[impl]
			start := time.Now()
			resp, err := client.Get(s.url)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("GET %s: %d %v", s.url, resp.StatusCode, err)
			}
			acc.server += float64(time.Since(start)) / float64(time.Millisecond)
			acc.size = float64(len(body)) / 1024
			if err := chromedp.Do(tabs[impl], chromedp.Navigate(s.url)); err != nil {
				b.Fatal(err)
			}
			tm, err := chromedp.Run(tabs[impl], chromedp.Evaluate[timing](navTiming))
			if err != nil {
				b.Fatal(err)
			}
			if tm.Rows < 1000 {
				b.Fatalf("%s: %d rows", impl, tm.Rows)
			}
			acc.Response += tm.Response
			acc.FCP += tm.FCP
			acc.Load += tm.Load
		}
		n++
	}
	for _, impl := range impls {
		acc := sum[impl]
		b.ReportMetric(acc.server/float64(n), string(impl)+"-server-ms")
		b.ReportMetric(acc.size, string(impl)+"-KiB")
		b.ReportMetric(acc.Response/float64(n), string(impl)+"-response-ms")
		b.ReportMetric(acc.FCP/float64(n), string(impl)+"-fcp-ms")
		b.ReportMetric(acc.Load/float64(n), string(impl)+"-load-ms")
	}
}
