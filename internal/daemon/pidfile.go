package daemon

import (
	"fmt"
	"os"
	"strconv"
)

// WritePidfile writes this process's pid and a newline to path, as
// supervisord's write_pidfile does, but atomically: a reader sees the
// old content or the new, never a partial pid.
func WritePidfile(path string) error {
	pid := os.Getpid()
	tmp := fmt.Sprintf("%s.%d.tmp", path, pid)
	err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// RemovePidfile removes path if it still holds this process's pid: a
// pidfile another process wrote since is not ours to remove.
func RemovePidfile(path string) {
	data, err := os.ReadFile(path)
	if err == nil && string(data) == strconv.Itoa(os.Getpid())+"\n" {
		os.Remove(path)
	}
}
