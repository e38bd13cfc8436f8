package fallback

import (
	"maps"
	"slices"

	"github.com/supersede/supersede/translate"
)

// groupEqual is Supervisor's ProcessGroupConfig.__eq__ (and the pool and
// fcgi variants): same kind, name, priority and processes, in order.
func groupEqual(a, b *translate.Group) bool {
	if a.Type != b.Type || a.Name != b.Name || a.Priority != b.Priority || len(a.Processes) != len(b.Processes) {
		return false
	}
	switch a.Type {
	case translate.GroupEventListener:
		if a.BufferSize != b.BufferSize || !slices.Equal(a.Events, b.Events) || a.ResultHandler != b.ResultHandler {
			return false
		}
	case translate.GroupFCGI:
		if !socketEqual(a.Socket, b.Socket) {
			return false
		}
	}
	for i := range a.Processes {
		if !processEqual(a.Processes[i], b.Processes[i]) {
			return false
		}
	}
	return true
}

func socketEqual(a, b *translate.Socket) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.URL == b.URL && ptrEqual(a.Backlog, b.Backlog) && ptrEqual(a.Mode, b.Mode) &&
		ownerEqual(a.Owner, b.Owner)
}

func ownerEqual(a, b *[2]*int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return ptrEqual(a[0], b[0]) && ptrEqual(a[1], b[1])
}

// processEqual is ProcessConfig.__eq__ between an active process a and
// a freshly read one b: every setting Supervisor keeps for a process.
// Supervisor skips Automatic values; an active process's AUTO log is a
// real file name by then, so only a fresh AUTO log matches any file.
func processEqual(a, b *translate.Process) bool {
	return a.Name == b.Name &&
		ptrEqual(a.UID, b.UID) &&
		a.Command == b.Command &&
		ptrEqual(a.Dir, b.Dir) &&
		ptrEqual(a.Umask, b.Umask) &&
		a.Priority == b.Priority &&
		a.AutoStart == b.AutoStart &&
		a.AutoRestart == b.AutoRestart &&
		a.MinUptime == b.MinUptime &&
		a.StartRetries == b.StartRetries &&
		logEqual(a.Stdout, b.Stdout) &&
		logEqual(a.Stderr, b.Stderr) &&
		a.StopSignal == b.StopSignal &&
		a.StopWait == b.StopWait &&
		a.StopAsGroup == b.StopAsGroup &&
		a.KillAsGroup == b.KillAsGroup &&
		slices.Equal(a.ExitCodes, b.ExitCodes) &&
		a.RedirectStderr == b.RedirectStderr &&
		envEqual(a.Env, b.Env) &&
		ptrEqual(a.ServerURL, b.ServerURL)
}

func logEqual(active, fresh translate.Log) bool {
	if fresh.Kind == translate.LogAuto {
		// Only the file name is Automatic; the other settings compare.
		active.Kind, active.Path, fresh.Kind, fresh.Path = 0, "", 0, ""
	}
	return active == fresh
}

// envEqual compares environments as dicts: order does not matter.
func envEqual(a, b translate.Env) bool {
	ma, mb := envMap(a), envMap(b)
	return maps.Equal(ma, mb)
}

func envMap(e translate.Env) map[string]string {
	m := make(map[string]string, len(e))
	for _, kv := range e {
		m[kv.Name] = kv.Value
	}
	return m
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
