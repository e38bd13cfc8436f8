package faults

import (
	"os"
	"syscall"
	"testing"

	"github.com/supersede/supersede/internal/fallbacktest"
)

// TestSocketReplaced: a daemon's socket file is deleted under it (a
// cleaner of /tmp or /run, an operator), another daemon is started on
// the same path, and the first one then stops or restarts. The second
// must go on answering: the first removes its socket file only while it
// is still its own, and a file someone put at the path is not deleted
// either. (supervisord removes whatever the path holds when it exits, so
// the second daemon stops answering for good: not run here.)
func TestSocketReplaced(t *testing.T) {
	onlySupersede(t, func(t *testing.T, impl fallbacktest.Impl) {
		cfg := config{sections: "[program:sleeper]\ncommand=/bin/sleep 600\n"}
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
			a := startDaemon(t, impl, cfg)
			b := startDaemon(t, impl, cfg)
			// a's socket is deleted; b's socket takes its path.
			if err := os.Remove(a.sock); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(b.sock, a.sock); err != nil {
				t.Fatal(err)
			}
			b.sock = a.sock
			a.signal(sig)
			if sig == syscall.SIGTERM {
				if _, err := a.waitExit(readyBound); err != nil {
					t.Fatalf("%v: %v", sig, err)
				}
			} else {
				// a restarts, finds its path served by b, and exits
				// saying so, as it does at start.
				code, err := a.waitExit(readyBound)
				if err != nil {
					t.Fatalf("%v: %v", sig, err)
				}
				if code == 0 {
					t.Errorf("%v: the daemon whose socket path another one serves restarted with exit status 0; output:\n%s", sig, a.output())
				}
			}
			if _, err := b.call(answerBound, "supervisor.getState"); err != nil {
				t.Errorf("after %v of the first daemon, the second one, serving the same socket path, does not answer: %v", sig, err)
			}
		}

		// A regular file put where the socket was is not deleted at exit.
		a := startDaemon(t, impl, cfg)
		if err := os.Remove(a.sock); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(a.sock, []byte("not yours\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.signal(syscall.SIGTERM)
		if _, err := a.waitExit(readyBound); err != nil {
			t.Fatal(err)
		}
		if data, err := os.ReadFile(a.sock); err != nil || string(data) != "not yours\n" {
			t.Errorf("the file put at the socket's path after the daemon's socket was deleted: %q, %v; want it left as it was", data, err)
		}
	})
}
