package logfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// tempChars are the characters of Python's tempfile names.
const tempChars = "abcdefghijklmnopqrstuvwxyz0123456789_"

// tmpMax is Python's os.TMP_MAX on Linux: how many names mkstemp tries.
const tmpMax = 238328

// CreateAuto creates the file of an AUTO log as Supervisor's
// get_autochildlog_name does, with tempfile.mkstemp: a new file (mode
// 0600, less the umask) named NAME-CHANNEL---IDENTIFIER-XXXXXXXX.log in
// dir, XXXXXXXX eight random characters of [a-z0-9_]. It returns the
// file's absolute path. Supervisor creates these names once per process
// when its group is activated (at start, by add/update), not per spawn.
func CreateAuto(dir, name, channel, identifier string) (string, error) {
	adir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	prefix := name + "-" + channel + "---" + identifier + "-"
	var path string
	for range tmpMax {
		var rnd [8]byte
		for i := range rnd {
			rnd[i] = tempChars[rand.IntN(len(tempChars))]
		}
		path = filepath.Join(adir, prefix+string(rnd[:])+".log")
		fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if err == syscall.EEXIST || err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "open", Path: path, Err: err}
		}
		syscall.Close(fd)
		return path, nil
	}
	return "", &os.PathError{Op: "open", Path: path, Err: syscall.EEXIST}
}

// pySpace is what Python's \s matches in a str pattern (str.isspace).
const pySpace = `\t\n\v\f\r \x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// ClearAutoDir removes the AUTO logs of a previous run from dir, as
// supervisord does at start unless nocleanup is set
// (clear_autochildlogdir): every entry whose name matches
// ".+?---IDENTIFIER-\S+\.log" from its start, rotated backups included.
// It returns the warnings supervisord logs: "Could not clear childlog
// dir" when dir cannot be listed, "Failed to clean up '/path'" for each
// entry it cannot remove. Unlike Supervisor's, the identifier is matched
// literally, not as a regular expression.
func ClearAutoDir(dir, identifier string) (warnings []string) {
	re := regexp.MustCompile(`^.+?---` + regexp.QuoteMeta(identifier) + `-[^` + pySpace + `]+\.log`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{"Could not clear childlog dir"}
	}
	for _, e := range entries {
		if !re.MatchString(e.Name()) {
			continue
		}
		path := dir + "/" + e.Name()
		if strings.HasSuffix(dir, "/") {
			path = dir + e.Name()
		}
		// os.remove: unlink only (Go's os.Remove would also rmdir).
		if err := syscall.Unlink(path); err != nil {
			warnings = append(warnings, "Failed to clean up "+pyStrRepr(path))
		}
	}
	return warnings
}
