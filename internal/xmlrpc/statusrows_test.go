package xmlrpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// StatusRows is getAllProcessInfo's answer through Call, member for
// member, in every state status shows, and fails as Call fails.
func TestStatusRows(t *testing.T) {
	t.Parallel()
	now := time.Now()
	procs := []status.Process{
		{Group: "web", Name: "web_01", State: status.Running, PID: 42, Start: now.Add(-90*time.Minute - 500*time.Millisecond)},
		{Group: "web", Name: "web_00", State: status.Starting, PID: 41, Start: now.Add(-time.Second)},
		{Group: "a", Name: "a", State: status.Stopped},
		{Group: "b", Name: "b", State: status.Exited, Start: now.Add(-time.Hour), Stop: now.Add(-time.Minute), ExitStatus: 3},
		{Group: "c", Name: "c", State: status.Fatal, SpawnErr: "can't find command 'x\r'", Start: now.Add(-time.Hour)},
		{Group: "c", Name: "d\r\ne", State: status.Backoff},
		{Group: "z", Name: "z", State: status.Stopping, PID: 7, Start: now.Add(-49 * time.Hour)},
		{Group: "u", Name: "u", State: status.Unknown},
	}
	var fail error
	shutting := false
	b := &fakeBackend{
		ProcessesFn:    func(context.Context) ([]status.Process, error) { return append([]status.Process(nil), procs...), fail },
		ShuttingDownFn: func() bool { return shutting },
	}
	l := NewLocal(b, Options{Location: time.UTC, Now: func() time.Time { return now }}, "x")
	ctx := context.Background()
	v, err := l.Call(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		t.Fatal(err)
	}
	var want []StatusRow
	for _, e := range v.([]any) {
		m := e.(map[string]any)
		want = append(want, StatusRow{Group: m["group"].(string), Name: m["name"].(string), State: m["state"].(int),
			StateName: m["statename"].(string), Description: m["description"].(string)})
	}
	got, err := l.StatusRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StatusRows:\n%+v\nCall:\n%+v", got, want)
	}
	if len(got) != len(procs) || got[0].Group != "a" || got[len(got)-1].Name != "z" {
		t.Errorf("not every process, in lexical order: %+v", got)
	}
	for _, c := range []struct {
		name  string
		setup func()
	}{
		{"a backend error", func() { fail = fmt.Errorf("read: %w", syscall.ECONNREFUSED) }},
		{"shutting down", func() { fail, shutting = nil, true }},
	} {
		c.setup()
		_, cerr := l.Call(ctx, "supervisor.getAllProcessInfo")
		_, serr := l.StatusRows(ctx)
		var cf, sf *Fault
		if cerr == nil || serr == nil || errors.As(cerr, &cf) != errors.As(serr, &sf) || cerr.Error() != serr.Error() {
			t.Errorf("%s: Call %v, StatusRows %v", c.name, cerr, serr)
		}
	}
}
