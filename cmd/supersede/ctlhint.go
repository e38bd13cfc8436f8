package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/supersede/supersede/internal/ctl"
	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/internal/xmlrpc"
)

// Hints of `supersede ctl` after a command failed for want of the right
// manager or server. They go to stderr, and only under the name
// supersede: as supervisorctl, ctl prints exactly what supervisorctl
// prints, which scripts may parse.

// hintTimeout bounds the check behind a hint.
const hintTimeout = 2 * time.Second

// hinting reports whether ctl may add hints to what supervisorctl prints.
func hinting(e *env, opts *ctl.Options) bool {
	return invocationNames[filepath.Base(e.exe)] != "ctl" && !opts.Interactive && len(opts.Command) > 0 && opts.Command[0] != "help"
}

// confName is the configuration file as a hint names it.
func confName(opts *ctl.Options) string {
	if opts.ConfigFile != "" {
		return opts.ConfigFile
	}
	return "supervisord.conf"
}

// serverHint follows a failed command over XML-RPC: when no server
// answers at the URL, it says how to get one, or to use systemd.
func serverHint(ctx context.Context, e *env, opts *ctl.Options, c *xmlrpc.Client) {
	if !hinting(e, opts) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, hintTimeout)
	defer cancel()
	if _, err := c.Call(ctx, "supervisor.getVersion"); err == nil {
		return
	}
	if sysd.IsRunning() {
		fmt.Fprintf(e.stderr, "supersede ctl: no supervisord answers at %s: start one with `supersede run -c %s`, or leave -s out to drive the programs' units through systemd\n", opts.ServerURL, confName(opts))
		return
	}
	fmt.Fprintf(e.stderr, "supersede ctl: no supervisord answers at %s, and this host does not run systemd: start the programs with `supersede run -c %s` (it serves that URL), or pass --user or --system to reach a systemd manager\n", opts.ServerURL, confName(opts))
}

// unitsHint follows a command over systemd's system manager: when none
// of the configuration's programs has a unit loaded there, the units are
// probably in the user's manager (convert --user), or not installed.
func unitsHint(ctx context.Context, e *env, opts *ctl.Options, conn *systemdConn, code int) {
	if !hinting(e, opts) || opts.User || conn.m == nil || (code == 0 && opts.Command[0] != "status") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, hintTimeout)
	defer cancel()
	groups, active, err := conn.m.Configured(ctx)
	if err != nil || len(groups) == 0 || len(active) > 0 {
		return
	}
	fmt.Fprintf(e.stderr, "supersede ctl: no program of %s has a unit loaded in the systemd system manager: if you converted it with --user, pass --user; else write its units with `supersede convert -c %s -o /etc/systemd/system` and run `systemctl daemon-reload`\n", confName(opts), confName(opts))
}
