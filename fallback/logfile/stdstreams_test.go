package logfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// helperStreams runs as `supersede run -n > out.txt 2>&1` does: the main
// log on /dev/stdout, then a line on stderr (a configuration error at
// SIGHUP, a crash trace), with AppendStdStreams first unless told not to.
func helperStreams() error {
	if os.Getenv("STREAMS_NO_APPEND") == "" {
		if err := AppendStdStreams(); err != nil {
			return err
		}
	}
	ml, err := OpenMainLog(MainLogConfig{Stdout: true, Level: LevelInfo})
	if err != nil {
		return err
	}
	ml.Log(LevelInfo, "first line of the main log")
	ml.Log(LevelInfo, "second line of the main log")
	fmt.Fprintln(os.Stderr, "an error on stderr")
	ml.Log(LevelInfo, "last line of the main log")
	return ml.Close()
}

// TestAppendStdStreams: stdout and stderr redirected to one file (opened
// with O_TRUNC, not for appending, as a shell's `> out.txt 2>&1` does)
// keep every line of both, in order.
func TestAppendStdStreams(t *testing.T) {
	want := regexp.MustCompile(`^` + `\S+ \S+ INFO first line of the main log\n` +
		`\S+ \S+ INFO second line of the main log\n` +
		`an error on stderr\n` +
		`\S+ \S+ INFO last line of the main log\n$`)
	run := func(t *testing.T, env ...string) string {
		path := filepath.Join(t.TempDir(), "out.txt")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), append(env, "LOGFILE_TEST_HELPER=streams", "GORACE=atexit_sleep_ms=0")...)
		cmd.Stdout, cmd.Stderr = f, f // one open file description, as 2>&1 makes
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if out := run(t); !want.MatchString(out) {
		t.Errorf("stdout and stderr in one file:\n%s", out)
	}
	// The helper without AppendStdStreams shows what the test catches:
	// the stderr line overwrites the start of the log.
	if out := run(t, "STREAMS_NO_APPEND=1"); want.MatchString(out) {
		t.Errorf("without AppendStdStreams the lines are intact too; the test proves nothing:\n%s", out)
	}
}
