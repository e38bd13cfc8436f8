package xmlrpc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// benchBackend has n running processes in groups of 10.
func benchBackend(n int) *fakeBackend {
	now := time.Now()
	procs := make([]status.Process, n)
	for i := range procs {
		procs[i] = status.Process{
			Name: fmt.Sprintf("worker_%04d", i), Group: fmt.Sprintf("pool_%03d", i/10), State: status.Running,
			PID: 10000 + i, Start: now.Add(-time.Hour),
			StdoutLog: fmt.Sprintf("/var/log/supervisor/worker_%04d-stdout---supervisor-abcdef.log", i),
			StderrLog: fmt.Sprintf("/var/log/supervisor/worker_%04d-stderr---supervisor-abcdef.log", i),
		}
	}
	return &fakeBackend{
		ProcessesFn: func(context.Context) ([]status.Process, error) {
			out := make([]status.Process, len(procs))
			copy(out, procs)
			return out, nil
		},
	}
}

// BenchmarkGetAllProcessInfo is the server's part of `ctl status` with
// 1000 programs: one getAllProcessInfo request through the handler,
// from the request body to the encoded response.
func BenchmarkGetAllProcessInfo(b *testing.B) {
	s := NewServer(benchBackend(1000), Options{Location: time.UTC})
	h := s.Handler(Auth{})
	body := "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo</methodName>\n<params>\n</params>\n</methodCall>\n"
	b.ReportAllocs()
	var size int
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/RPC2", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "resp-bytes")
}

// BenchmarkGetAllProcessInfoClient is the same over a unix socket, with
// the client decoding the answer, as supersede ctl status does.
func BenchmarkGetAllProcessInfoClient(b *testing.B) {
	s := NewServer(benchBackend(1000), Options{Location: time.UTC})
	sock := serveUnix(b, s, Auth{})
	cl, err := NewClient("unix://"+sock, "", "")
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.ReportAllocs()
	for b.Loop() {
		infos, err := cl.AllProcessInfo(context.Background())
		if err != nil || len(infos) != 1000 {
			b.Fatal(len(infos), err)
		}
	}
}
