package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SearchPaths are the places supervisord looks for its config file when
// given no -c, in order. exe is the running program's path: its
// grandparent directory comes first (/usr for /usr/bin/supervisord).
func SearchPaths(exe string) []string {
	here := filepath.Dir(filepath.Dir(exe))
	return []string{
		pyJoin(here, "etc/supervisord.conf"),
		pyJoin(here, "supervisord.conf"),
		"supervisord.conf",
		"etc/supervisord.conf",
		"/etc/supervisord.conf",
		"/etc/supervisor/supervisord.conf",
	}
}

// FindConfig returns the first of SearchPaths that exists (relative ones
// against dir), or Supervisor's error naming them all.
func FindConfig(exe, dir string) (string, error) {
	paths := SearchPaths(exe)
	for _, p := range paths {
		q := p
		if !strings.HasPrefix(q, "/") {
			q = pyJoin(dir, q)
		}
		if _, err := os.Stat(q); err == nil {
			return p, nil
		}
	}
	msg := fmt.Sprintf("No config file found at default paths (%s); use the -c option to specify a config file at a different path", strings.Join(paths, ", "))
	return "", &Error{Err: fmt.Errorf("%w: %s", ErrNoConfig, msg), Supervisor: msg}
}

// ConfigDir is the absolute directory of the config file at path, as
// Supervisor computes %(here)s; relative paths resolve against dir.
func ConfigDir(path, dir string) string { return pyAbspath(pyDirname(path), dir) }
