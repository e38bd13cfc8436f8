package fallback

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
)

// A client that gives up on sendProcessStdin while the child does not
// read must not affect the next call: the data is queued, as
// supervisord's input buffer holds it, and written in order once the
// child reads. Before stdinQueue, the abandoned call left a write
// deadline on the pipe and every later call failed with "i/o timeout".
func TestStdinAbandonedCallQueues(t *testing.T) {
	h := start(t, `
[program:late]
command=sh -c 'while [ ! -e {DIR}/go ]; do sleep 0.02; done; exec cat > {DIR}/got'
startsecs=0
`, Options{})
	h.waitState("late", status.Running)

	big := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // far more than a pipe holds
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := h.s.WriteStdin(ctx, "late", "late", big)
	cancel()
	if err != nil {
		t.Fatalf("WriteStdin of %d bytes to a child that does not read yet: %v", len(big), err)
	}
	time.Sleep(100 * time.Millisecond) // the first client is long gone
	if err := h.s.WriteStdin(context.Background(), "late", "late", []byte("tail\n")); err != nil {
		t.Fatalf("WriteStdin after an abandoned call: %v", err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(big), "tail\n"...)
	deadline := time.Now().Add(waitFor)
	for {
		got, _ := os.ReadFile(filepath.Join(h.dir, "got"))
		if bytes.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child read %d bytes, want %d in order", len(got), len(want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// What waits for a child that never reads is bounded: one call of any
// size is taken, a call that would go past stdinQueueMax is FAILED.
func TestStdinQueueBound(t *testing.T) {
	h := start(t, `
[program:deaf]
command=sleep 1000
startsecs=0
`, Options{})
	h.waitState("deaf", status.Running)
	ctx := context.Background()
	if err := h.s.WriteStdin(ctx, "deaf", "deaf", make([]byte, stdinQueueMax+1<<20)); err != nil {
		t.Fatalf("one call larger than the bound, to an empty queue: %v", err)
	}
	err := h.s.WriteStdin(ctx, "deaf", "deaf", []byte("x"))
	if !errors.Is(err, status.ErrFailed) {
		t.Fatalf("WriteStdin past the bound = %v, want FAILED", err)
	}
	t.Logf("the fault's detail: %v", err)
	// A stop ends the run and its queue; the next run has a new one.
	if err := h.s.Stop(ctx, "deaf", "deaf"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WaitStopped(ctx, "deaf", "deaf"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.WriteStdin(ctx, "deaf", "deaf", []byte("x")); !errors.Is(err, status.ErrNotRunning) {
		t.Fatalf("WriteStdin to a stopped process = %v, want NOT_RUNNING", err)
	}
	if err := h.s.Start(ctx, "deaf", "deaf"); err != nil {
		t.Fatal(err)
	}
	h.waitState("deaf", status.Running)
	if err := h.s.WriteStdin(ctx, "deaf", "deaf", []byte("x")); err != nil {
		t.Fatalf("WriteStdin to the next run: %v", err)
	}
}

// A child that closed its stdin: NO_FILE at once, as supervisord's
// flush meets EPIPE.
func TestStdinClosedByChild(t *testing.T) {
	h := start(t, `
[program:closed]
command=sh -c 'exec 0<&-; exec sleep 1000'
startsecs=0
`, Options{})
	h.waitState("closed", status.Running)
	time.Sleep(100 * time.Millisecond) // the child has closed it by now
	err := h.s.WriteStdin(context.Background(), "closed", "closed", []byte("x"))
	if !errors.Is(err, status.ErrNoFile) {
		t.Fatalf("WriteStdin to a closed stdin = %v, want NO_FILE", err)
	}
}
