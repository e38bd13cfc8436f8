package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// checkOutputDir makes sure convert -o names an existing directory: it
// is not created, so that a mistyped path is an error rather than a new
// directory that systemd never reads.
func checkOutputDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &usageError{err: fmt.Errorf("-o %s: no such directory", dir),
			hint: fmt.Sprintf("check the path, or create it first (mkdir -p %s); systemd reads /etc/systemd/system, and ~/.config/systemd/user for a user manager (--user)", dir)}
	case err != nil:
		return err
	case !fi.IsDir():
		return &usageError{err: fmt.Errorf("-o %s: not a directory", dir)}
	}
	return nil
}

// unitDirs are the directories systemd reads units from, for the system
// manager or (user) a user manager: systemd.unit(5).
func unitDirs(environ []string, user bool) []string {
	if !user {
		return []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}
	}
	get := func(name string) string {
		for _, kv := range environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	dirs := []string{"/etc/systemd/user", "/usr/lib/systemd/user", "/usr/local/lib/systemd/user"}
	if home := get("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".config/systemd/user"), filepath.Join(home, ".local/share/systemd/user"))
	}
	if x := get("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "systemd/user"))
	}
	if x := get("XDG_RUNTIME_DIR"); x != "" {
		dirs = append(dirs, filepath.Join(x, "systemd/user"))
	}
	return dirs
}

// nextSteps is the advice convert -o ends with once it wrote the units
// (anchor is supersede.target, with its prefix): for a host that runs
// systemd, how to load and start them, after copying them where systemd
// reads units if dir is not such a place; for a host that does not,
// where they go and what runs the programs here.
func nextSteps(environ []string, dir, config, anchor string, user, systemdRunning bool) string {
	ctl, where := "systemctl", "/etc/systemd/system"
	if user {
		ctl, where = "systemctl --user", "~/.config/systemd/user"
	}
	enable := fmt.Sprintf("%s daemon-reload, then %s enable --now %s (it starts the autostart programs, as supervisord would)", ctl, ctl, anchor)
	if !systemdRunning {
		return fmt.Sprintf("next: this host does not run systemd (no /run/systemd/system): on a host that does, put the units into %s and run %s; here, supersede run -c %s supervises the programs as supervisord does", where, enable, config)
	}
	abs, err := filepath.Abs(dir)
	if err == nil && !slices.Contains(unitDirs(environ, user), filepath.Clean(abs)) {
		return fmt.Sprintf("next: systemd does not read units from %s: copy them into %s, then run %s", dir, where, enable)
	}
	return "next: " + enable
}
