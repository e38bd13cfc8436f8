package xmlrpc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestUIHook: with Options.UI, the paths that are not the API's go to
// the UI's handler, behind the listener's authentication, and the UI
// reaches the same backend through the Local it was given.
func TestUIHook(t *testing.T) {
	w := newWorld(t)
	var local *Local
	s := NewServer(w.backend(), Options{Now: func() time.Time { return w.now }, Location: time.UTC, UI: func(l *Local) http.Handler {
		local = l
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			pid, err := l.Call(r.Context(), "supervisor.getPID")
			fmt.Fprintf(rw, "ui %s %v %v", r.URL.Path, pid, err)
		})
	}})
	if local == nil {
		t.Fatal("UI was not called by NewServer")
	}
	want, _ := local.Call(context.Background(), "supervisor.getPID")
	h := s.Handler(Auth{Username: "u", Password: "p"})
	do := func(method, target string, auth bool) (int, string) {
		r := httptest.NewRequest(method, target, strings.NewReader(""))
		if auth {
			r.SetBasicAuth("u", "p")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	for _, p := range []string{"/", "/index.html", "/tail.html?processname=x", "/static/x.css"} {
		path, _, _ := strings.Cut(p, "?")
		if code, body := do("GET", p, true); code != 200 || body != fmt.Sprintf("ui %s %v <nil>", path, want) {
			t.Errorf("GET %s = %d %q", p, code, body)
		}
		if code, body := do("GET", p, false); code != 401 || strings.HasPrefix(body, "ui") {
			t.Errorf("GET %s without credentials = %d %q", p, code, body)
		}
	}
	// The API's own paths stay the API's.
	for _, p := range []string{"/RPC2", "/logtail/nosuch", "/mainlogtail"} {
		if _, body := do("GET", p, true); strings.HasPrefix(body, "ui") {
			t.Errorf("GET %s went to the UI", p)
		}
	}
}
