package xmlrpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// fakeBackend is a Backend made of function fields; a nil field answers
// with its zero value (or an error for the ones that return one).
type fakeBackend struct {
	IdentificationFn func() string
	PIDFn            func() int
	ShuttingDownFn   func() bool
	MainLogFileFn    func() string
	ClearMainLogFn   func(ctx context.Context) error
	ShutdownFn       func(ctx context.Context) error
	RestartFn        func(ctx context.Context) error
	ReloadFn         func(ctx context.Context) (added, changed, removed []string, err error)
	ConfiguredFn     func(ctx context.Context) ([]*translate.Group, []string, error)
	AddGroupFn       func(ctx context.Context, group string) error
	RemoveGroupFn    func(ctx context.Context, group string) error
	ProcessesFn      func(ctx context.Context) ([]status.Process, error)
	GroupsFn         func(ctx context.Context) ([]string, error)
	StartFn          func(ctx context.Context, group, name string) error
	WaitStartedFn    func(ctx context.Context, group, name string) error
	StopFn           func(ctx context.Context, group, name string) error
	WaitStoppedFn    func(ctx context.Context, group, name string) error
	SignalFn         func(ctx context.Context, group, name string, sig syscall.Signal) error
	ClearLogsFn      func(ctx context.Context, group, name string) error
	WriteStdinFn     func(ctx context.Context, group, name string, data []byte) error
	SendRemoteCommFn func(ctx context.Context, typ, data string) error
}

var _ Backend = (*fakeBackend)(nil)

var errNotFaked = errors.New("not faked")

func (f *fakeBackend) Identification() string {
	if f.IdentificationFn == nil {
		return "supervisor"
	}
	return f.IdentificationFn()
}

func (f *fakeBackend) PID() int {
	if f.PIDFn == nil {
		return 0
	}
	return f.PIDFn()
}

func (f *fakeBackend) ShuttingDown() bool {
	return f.ShuttingDownFn != nil && f.ShuttingDownFn()
}

func (f *fakeBackend) MainLogFile() string {
	if f.MainLogFileFn == nil {
		return ""
	}
	return f.MainLogFileFn()
}

func call0(fn func(context.Context) error, ctx context.Context) error {
	if fn == nil {
		return errNotFaked
	}
	return fn(ctx)
}

func call2(fn func(context.Context, string, string) error, ctx context.Context, g, n string) error {
	if fn == nil {
		return errNotFaked
	}
	return fn(ctx, g, n)
}

func (f *fakeBackend) ClearMainLog(ctx context.Context) error { return call0(f.ClearMainLogFn, ctx) }
func (f *fakeBackend) Shutdown(ctx context.Context) error     { return call0(f.ShutdownFn, ctx) }
func (f *fakeBackend) Restart(ctx context.Context) error      { return call0(f.RestartFn, ctx) }

func (f *fakeBackend) Reload(ctx context.Context) ([]string, []string, []string, error) {
	if f.ReloadFn == nil {
		return nil, nil, nil, errNotFaked
	}
	return f.ReloadFn(ctx)
}

func (f *fakeBackend) Configured(ctx context.Context) ([]*translate.Group, []string, error) {
	if f.ConfiguredFn == nil {
		return nil, nil, errNotFaked
	}
	return f.ConfiguredFn(ctx)
}

func (f *fakeBackend) AddGroup(ctx context.Context, g string) error {
	if f.AddGroupFn == nil {
		return errNotFaked
	}
	return f.AddGroupFn(ctx, g)
}

func (f *fakeBackend) RemoveGroup(ctx context.Context, g string) error {
	if f.RemoveGroupFn == nil {
		return errNotFaked
	}
	return f.RemoveGroupFn(ctx, g)
}

func (f *fakeBackend) Processes(ctx context.Context) ([]status.Process, error) {
	if f.ProcessesFn == nil {
		return nil, nil
	}
	return f.ProcessesFn(ctx)
}

func (f *fakeBackend) Groups(ctx context.Context) ([]string, error) {
	if f.GroupsFn == nil {
		return nil, nil
	}
	return f.GroupsFn(ctx)
}

func (f *fakeBackend) Start(ctx context.Context, g, n string) error {
	return call2(f.StartFn, ctx, g, n)
}

func (f *fakeBackend) WaitStarted(ctx context.Context, g, n string) error {
	return call2(f.WaitStartedFn, ctx, g, n)
}
func (f *fakeBackend) Stop(ctx context.Context, g, n string) error { return call2(f.StopFn, ctx, g, n) }
func (f *fakeBackend) WaitStopped(ctx context.Context, g, n string) error {
	return call2(f.WaitStoppedFn, ctx, g, n)
}

func (f *fakeBackend) ClearLogs(ctx context.Context, g, n string) error {
	return call2(f.ClearLogsFn, ctx, g, n)
}

func (f *fakeBackend) Signal(ctx context.Context, g, n string, sig syscall.Signal) error {
	if f.SignalFn == nil {
		return errNotFaked
	}
	return f.SignalFn(ctx, g, n, sig)
}

func (f *fakeBackend) WriteStdin(ctx context.Context, g, n string, data []byte) error {
	if f.WriteStdinFn == nil {
		return errNotFaked
	}
	return f.WriteStdinFn(ctx, g, n, data)
}

func (f *fakeBackend) SendRemoteComm(ctx context.Context, typ, data string) error {
	if f.SendRemoteCommFn == nil {
		return errNotFaked
	}
	return f.SendRemoteCommFn(ctx, typ, data)
}

// world is a small in-memory supervisor behind a fakeBackend: processes
// in fixed states, that start, stop and get signalled as Supervisor's
// would, with real log files in a temporary directory.
type world struct {
	mu        sync.Mutex
	dir       string
	now       time.Time
	procs     []*status.Process // priority order
	groups    []string          // active groups, also empty ones
	config    []*translate.Group
	reload    [3][]string
	rereadErr string
	shutting  bool
	restarted bool
	shutdown  bool
	signals   []string
	stdin     map[string]string
	comms     []string
	mainLog   string
	nextPID   int
	startErr  map[string]error // namespec → error of Start (the executable check)
	spawnFail map[string]bool  // namespec → WaitStarted fails
}

// fixtureNow is the fake clock: 2026-11-27 10:44:30 UTC.
var fixtureNow = time.Date(2026, 11, 27, 10, 44, 30, 0, time.UTC)

func newWorld(t testing.TB) *world {
	dir := t.TempDir()
	now := fixtureNow
	w := &world{
		dir:       dir,
		now:       now,
		stdin:     map[string]string{},
		nextPID:   1000,
		startErr:  map[string]error{},
		spawnFail: map[string]bool{},
		mainLog:   filepath.Join(dir, "supervisord.log"),
	}
	logf := func(name string) string { return filepath.Join(dir, name) }
	w.procs = []*status.Process{
		{Name: "sleeper", Group: "sleeper", State: status.Running, PID: 101, Start: now.Add(-10 * time.Second),
			StdoutLog: logf("sleeper.out"), StderrLog: logf("sleeper.err")},
		{Name: "web1", Group: "web", State: status.Running, PID: 201, Start: now.Add(-(86400 + 3661) * time.Second),
			StdoutLog: logf("web1.out"), StderrLog: logf("web1.err")},
		{Name: "web2", Group: "web", State: status.Stopped, StdoutLog: logf("web2.out")},
		{Name: "quick", Group: "quick", State: status.Backoff, SpawnErr: "Exited too quickly (process log may have details)",
			Start: now.Add(-time.Second), Stop: now.Add(-time.Second), ExitStatus: 0, StdoutLog: logf("quick.out")},
		{Name: "notfound", Group: "notfound", State: status.Fatal, SpawnErr: "can't find command '/nonexistent/cmd'"},
		{Name: "exits", Group: "exits", State: status.Exited, Start: now.Add(-time.Hour), Stop: now.Add(-30 * time.Second),
			ExitStatus: 3, StdoutLog: logf("exits.out")},
		{Name: "manual", Group: "manual", State: status.Stopped},
		{Name: "crashy", Group: "crashy", State: status.Stopped},
	}
	w.groups = []string{"sleeper", "web", "quick", "notfound", "exits", "manual", "crashy"}
	w.startErr["notfound"] = &status.Error{Kind: status.ErrNoFile, Detail: "can't find command '/nonexistent/cmd'"}
	w.spawnFail["crashy"] = true
	for _, name := range []string{"sleeper.out", "web1.out", "exits.out"} {
		writeFile(t, logf(name), "")
	}
	writeFile(t, logf("sleeper.out"), "starting\nhello from sleeper\n")
	writeFile(t, logf("sleeper.err"), "a warning\n")
	writeFile(t, w.mainLog, "2026-11-27 10:44:00,000 INFO supervisord started with pid 4242\n")

	prog := func(group string, prio int, name string, prioP int, auto bool) *translate.Process {
		return &translate.Process{Name: name, Group: group, Command: "/bin/sleep 1000", Priority: prioP, AutoStart: auto,
			ExitCodes: []int{0}, MinUptime: time.Second, StartRetries: 3, StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
			Stdout: translate.Log{Kind: translate.LogAuto, MaxBytes: 50 << 20, Backups: 10},
			Stderr: translate.Log{Kind: translate.LogAuto, MaxBytes: 50 << 20, Backups: 10}}
	}
	group := func(name string, prio int, procs ...*translate.Process) *translate.Group {
		return &translate.Group{Name: name, Priority: prio, Processes: procs}
	}
	w.config = []*translate.Group{
		group("sleeper", 999, prog("sleeper", 999, "sleeper", 999, true)),
		group("web", 100, prog("web", 100, "web1", 1, true), prog("web", 100, "web2", 2, false)),
		group("quick", 999, prog("quick", 999, "quick", 999, true)),
		group("notfound", 999, prog("notfound", 999, "notfound", 999, true)),
		group("exits", 999, prog("exits", 999, "exits", 999, true)),
		group("manual", 999, prog("manual", 999, "manual", 5, false)),
		group("crashy", 999, prog("crashy", 999, "crashy", 999, true)),
		group("newgrp", 999, prog("newgrp", 999, "newgrp", 999, true)),
	}
	return w
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w *world) find(g, n string) *status.Process {
	for _, p := range w.procs {
		if p.Group == g && p.Name == n {
			return p
		}
	}
	return nil
}

func (w *world) backend() *fakeBackend {
	locked := func(fn func(g, n string, p *status.Process) error) func(context.Context, string, string) error {
		return func(_ context.Context, g, n string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			p := w.find(g, n)
			if p == nil {
				return status.ErrBadName
			}
			return fn(g, n, p)
		}
	}
	return &fakeBackend{
		IdentificationFn: func() string { return "supervisor" },
		PIDFn:            func() int { return 4242 },
		ShuttingDownFn: func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.shutting
		},
		MainLogFileFn: func() string { return w.mainLog },
		ClearMainLogFn: func(context.Context) error {
			if w.mainLog == "" {
				return status.ErrNoFile
			}
			return os.Truncate(w.mainLog, 0)
		},
		ShutdownFn: func(context.Context) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.shutting, w.shutdown = true, true
			return nil
		},
		RestartFn: func(context.Context) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.shutting, w.restarted = true, true
			return nil
		},
		ReloadFn: func(context.Context) ([]string, []string, []string, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.rereadErr != "" {
				return nil, nil, nil, &status.Error{Kind: status.ErrCantReread, Detail: w.rereadErr}
			}
			return w.reload[0], w.reload[1], w.reload[2], nil
		},
		ConfiguredFn: func(context.Context) ([]*translate.Group, []string, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.config, slices.Clone(w.groups), nil
		},
		AddGroupFn: func(_ context.Context, g string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if slices.Contains(w.groups, g) {
				return status.ErrAlreadyAdded
			}
			for _, cg := range w.config {
				if cg.Name == g {
					w.groups = append(w.groups, g)
					for _, cp := range cg.Processes {
						p := &status.Process{Name: cp.Name, Group: g, State: status.Stopped}
						if cp.AutoStart {
							w.nextPID++
							p.State, p.PID, p.Start = status.Running, w.nextPID, w.now
						}
						w.procs = append(w.procs, p)
					}
					return nil
				}
			}
			return status.ErrBadName
		},
		RemoveGroupFn: func(_ context.Context, g string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if !slices.Contains(w.groups, g) {
				return status.ErrBadName
			}
			for _, p := range w.procs {
				if p.Group == g && !p.State.IsStopped() {
					return status.ErrStillRunning
				}
			}
			w.groups = slices.DeleteFunc(w.groups, func(s string) bool { return s == g })
			w.procs = slices.DeleteFunc(w.procs, func(p *status.Process) bool { return p.Group == g })
			return nil
		},
		ProcessesFn: func(context.Context) ([]status.Process, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			out := make([]status.Process, len(w.procs))
			for i, p := range w.procs {
				out[i] = *p
			}
			return out, nil
		},
		GroupsFn: func(context.Context) ([]string, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return slices.Clone(w.groups), nil
		},
		StartFn: locked(func(g, n string, p *status.Process) error {
			if err := w.startErr[p.Namespec()]; err != nil {
				return err
			}
			if p.State.IsRunning() {
				return status.ErrAlreadyStarted
			}
			if p.State == status.Unknown {
				return status.ErrFailed
			}
			w.nextPID++
			p.State, p.PID, p.Start, p.SpawnErr = status.Starting, w.nextPID, w.now, ""
			return nil
		}),
		WaitStartedFn: locked(func(g, n string, p *status.Process) error {
			if w.spawnFail[p.Namespec()] {
				p.State, p.PID, p.SpawnErr = status.Fatal, 0, "Exited too quickly (process log may have details)"
				return status.ErrSpawnError
			}
			p.State = status.Running
			return nil
		}),
		StopFn: locked(func(g, n string, p *status.Process) error {
			if !p.State.IsRunning() {
				return status.ErrNotRunning
			}
			if p.State == status.Backoff {
				p.State = status.Stopped
				return nil
			}
			p.State = status.Stopping
			return nil
		}),
		WaitStoppedFn: locked(func(g, n string, p *status.Process) error {
			if p.State == status.Stopping {
				p.State, p.PID, p.Stop, p.ExitStatus = status.Stopped, 0, w.now, -1
			}
			return nil
		}),
		SignalFn: func(_ context.Context, g, n string, sig syscall.Signal) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			p := w.find(g, n)
			if p == nil {
				return status.ErrBadName
			}
			if !p.State.IsSignallable() {
				return status.ErrNotRunning
			}
			w.signals = append(w.signals, fmt.Sprintf("%s %d", p.Namespec(), sig))
			return nil
		},
		ClearLogsFn: locked(func(g, n string, p *status.Process) error {
			for _, f := range []string{p.StdoutLog, p.StderrLog} {
				if f != "" {
					if err := os.Truncate(f, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
						return status.ErrFailed
					}
				}
			}
			return nil
		}),
		WriteStdinFn: func(_ context.Context, g, n string, data []byte) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			p := w.find(g, n)
			if p == nil {
				return status.ErrBadName
			}
			if p.PID == 0 || p.State == status.Stopping {
				return status.ErrNotRunning
			}
			w.stdin[p.Namespec()] += string(data)
			return nil
		},
		SendRemoteCommFn: func(_ context.Context, typ, data string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.comms = append(w.comms, typ+":"+data)
			return nil
		},
	}
}

// server is a Server for the world with the fixture's clock and UTC stop
// times.
func (w *world) server() *Server {
	return NewServer(w.backend(), Options{Now: func() time.Time { return w.now }, Location: time.UTC})
}
