package daemon

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// DropPrivileges is supervisord's drop_privileges for the daemon
// itself: become uid, with its primary and supplementary groups. It
// returns "" on success, else supervisord's message.
func DropPrivileges(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return fmt.Sprintf("Can't find uid %d", uid)
	}
	if os.Getuid() == uid {
		return ""
	}
	if os.Getuid() != 0 {
		return "Can't drop privilege as nonroot user"
	}
	gid, _ := strconv.Atoi(u.Gid)
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil && g != gid {
				groups = append(groups, g)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return "Could not set groups of effective user"
	}
	if err := syscall.Setgid(gid); err != nil {
		return "Could not set group id of effective user"
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Sprintf("Could not set user id: %v", err)
	}
	return ""
}

// SetRlimits is supervisord's set_rlimits_or_exit: raise RLIMIT_NOFILE
// to minfds and RLIMIT_NPROC to minprocs. It returns the messages
// supervisord logs at INFO for what it raised, or a *UsageError with
// supervisord's text when a limit cannot be raised.
func SetRlimits(minfds, minprocs int) ([]string, error) {
	var infos []string
	for _, l := range []struct {
		res  int
		name string
		min  int
		msg  string
	}{
		{syscall.RLIMIT_NOFILE, "RLIMIT_NOFILE", minfds, "The minimum number of file descriptors required to run this process is %d as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open %d file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start."},
		{6 /* RLIMIT_NPROC */, "RLIMIT_NPROC", minprocs, "The minimum number of available processes required to run this program is %d as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open %d processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start."},
	} {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(l.res, &rl); err != nil {
			continue
		}
		const inf = ^uint64(0)
		min := uint64(l.min)
		if l.min < 0 || rl.Cur == inf || rl.Cur >= min {
			continue
		}
		hard := rl.Max
		if hard != inf && hard < min {
			hard = min
		}
		if err := syscall.Setrlimit(l.res, &syscall.Rlimit{Cur: min, Max: hard}); err != nil {
			shown := int64(hard)
			if hard == inf {
				shown = -1
			}
			return nil, &UsageError{Msg: fmt.Sprintf(l.msg, l.min, shown)}
		}
		infos = append(infos, fmt.Sprintf("Increased %s limit to %d", l.name, l.min))
	}
	return infos, nil
}
