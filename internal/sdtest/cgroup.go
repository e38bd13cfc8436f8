package sdtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the kernel's cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// hierarchies returns the mount points of the cgroup hierarchies systemd
// uses: /sys/fs/cgroup alone on a pure cgroup v2 host; on a hybrid host the
// v1 name=systemd hierarchy and the unified (v2) one; on a legacy v1 host
// the name=systemd one.
func hierarchies() ([]string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return nil, fmt.Errorf("cgroup file system: %w", err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return []string{cgroupRoot}, nil
	}
	var hs []string
	for _, h := range []struct {
		name  string
		magic int64
	}{{"systemd", unix.CGROUP_SUPER_MAGIC}, {"unified", unix.CGROUP2_SUPER_MAGIC}} {
		dir := filepath.Join(cgroupRoot, h.name)
		if err := unix.Statfs(dir, &st); err == nil && st.Type == h.magic {
			hs = append(hs, dir)
		}
	}
	if len(hs) == 0 || hs[0] != filepath.Join(cgroupRoot, "systemd") {
		return nil, fmt.Errorf("no cgroup hierarchy for systemd: %s is neither cgroup v2 nor holds a name=systemd v1 hierarchy", cgroupRoot)
	}
	return hs, nil
}

// cgroups is one test manager's cgroup subtree, the same relative path
// in each hierarchy.
type cgroups struct {
	tops []string // hierarchy/NAME.slice, one per hierarchy
}

// makeCgroups creates NAME and the given children in every hierarchy.
func makeCgroups(hs []string, name string, children ...string) (*cgroups, error) {
	cg := &cgroups{}
	for _, h := range hs {
		top := filepath.Join(h, name)
		if err := os.Mkdir(top, 0o755); err != nil {
			return cg, fmt.Errorf("create cgroup: %w", err)
		}
		cg.tops = append(cg.tops, top)
		for _, c := range children {
			if err := os.Mkdir(filepath.Join(top, c), 0o755); err != nil {
				return cg, fmt.Errorf("create cgroup: %w", err)
			}
		}
	}
	return cg, nil
}

// procsFiles returns the cgroup.procs file of child in each hierarchy: a
// process that writes its PID into all of them moves into child.
func (cg *cgroups) procsFiles(child string) []string {
	var fs []string
	for _, top := range cg.tops {
		fs = append(fs, filepath.Join(top, child, "cgroup.procs"))
	}
	return fs
}

// pids returns every process in the subtree, in any hierarchy, sorted.
func (cg *cgroups) pids() ([]int, error) {
	var pids []int
	for _, top := range cg.tops {
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed meanwhile: the manager prunes its own cgroups
				}
				return err
			}
			if d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV) {
				return nil
			}
			if err != nil {
				return err
			}
			for _, f := range strings.Fields(string(data)) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					return fmt.Errorf("%s: malformed PID %q", path, f)
				}
				pids = append(pids, pid)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids), nil
}

// contains reports whether the process pid is in the subtree, from
// /proc/PID/cgroup.
func (cg *cgroups) contains(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return false
	}
	for _, top := range cg.tops {
		name := "/" + filepath.Base(top)
		for line := range strings.Lines(string(data)) {
			// hierarchy-ID:controllers:path
			parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
			if len(parts) == 3 && (parts[2] == name || strings.HasPrefix(parts[2], name+"/")) {
				return true
			}
		}
	}
	return false
}

// kill sends SIGKILL to every process in the subtree but spare. Each one
// is pinned with a pidfd and checked to still be in the subtree before
// the signal, so a PID reused by another process is never hit. It returns
// how many processes it signalled.
func (cg *cgroups) kill(spare int) (int, error) {
	pids, err := cg.pids()
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, pid := range pids {
		if pid == spare {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		if cg.contains(pid) {
			if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err == nil {
				n++
			} else if !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
			}
		}
		unix.Close(fd)
	}
	return n, errors.Join(errs...)
}

// remove removes the subtree in every hierarchy, deepest first. A cgroup
// that still holds a process cannot be removed (EBUSY).
func (cg *cgroups) remove() error {
	var errs []error
	for _, top := range cg.tops {
		var dirs []string
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, d := range slices.Backward(dirs) { // WalkDir lists a parent before its children
			if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// exist returns the top directories that still exist.
func (cg *cgroups) exist() []string {
	var left []string
	for _, top := range cg.tops {
		if _, err := os.Stat(top); err == nil {
			left = append(left, top)
		}
	}
	return left
}
