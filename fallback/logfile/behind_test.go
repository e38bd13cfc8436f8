package logfile

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBehindNeverBlocks: lines for a pipe nobody reads never block the
// writer; those that fit the queue come out whole and in order once the
// pipe is read, then one line counts those dropped.
func TestBehindNeverBlocks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := Open(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Special() {
		t.Fatal("a pipe is not special")
	}
	b := newBehind(f, func(msg string) []byte { return []byte("WARN " + msg + "\n") })
	const lines = 40000 // 40000 × 40 bytes: more than the pipe and the queue hold
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range lines {
			b.write(fmt.Appendf(nil, "line %06d %s\n", i, strings.Repeat("x", 27)))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // catches a hang only
		t.Fatal("writing to a pipe nobody reads blocked")
	}
	sc := bufio.NewScanner(r)
	next := 0
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "WARN "); ok {
			want := fmt.Sprintf("%d log lines were dropped here: this output was not read", lines-next)
			if rest != want {
				t.Fatalf("report %q, want %q", rest, want)
			}
			if next == 0 || next == lines {
				t.Errorf("%d lines came through before the report: none queued, or none dropped?", next)
			}
			return
		}
		if want := fmt.Sprintf("line %06d %s", next, strings.Repeat("x", 27)); line != want {
			t.Fatalf("line %q, want %q", line, want)
		}
		next++
	}
	t.Fatalf("no report of the dropped lines after %d lines: %v", next, sc.Err())
}
