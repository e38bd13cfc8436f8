package ctl

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/supersede/supersede/internal/xmlrpc"
)

// commands are supervisorctl's do_X methods: the Controller's (help,
// EOF) and the default plugin's.
var commands map[string]command

func init() {
	commands = map[string]command{
		"EOF":      {doEOF, nil},
		"help":     {doHelp, nil},
		"add":      {doAdd, helpAdd},
		"avail":    {doAvail, helpAvail},
		"clear":    {doClear, helpClear},
		"exit":     {doQuit, helpExit},
		"fg":       {doFg, helpFg},
		"maintail": {doMaintail, helpMaintail},
		"open":     {doOpen, helpOpen},
		"pid":      {doPid, helpPid},
		"quit":     {doQuit, helpQuit},
		"reload":   {doReload, helpReload},
		"remove":   {doRemove, helpRemove},
		"reread":   {doReread, helpReread},
		"restart":  {doRestart, helpRestart},
		"shutdown": {doShutdown, helpShutdown},
		"signal":   {doSignal, helpSignal},
		"start":    {doStart, helpStart},
		"status":   {doStatus, helpStatus},
		"stop":     {doStop, helpStop},
		"tail":     {doTail, helpTail},
		"update":   {doUpdate, helpUpdate},
		"version":  {doVersion, helpVersion},
	}
}

// vocab is the Controller's vocab, what the shell completes command
// names from: "help", then the plugin's do_ names in dir() order (the
// plugin's own do_help among them).
func vocab() []string {
	names := []string{"help"}
	var plugin []string
	for name := range commands {
		if name != "EOF" {
			plugin = append(plugin, name)
		}
	}
	slices.Sort(plugin)
	return append(names, plugin...)
}

// ---- decoding the server's answers

type info map[string]any

// s is "%s" of a field.
func (i info) s(key string) string { return pyStr(i[key]) }

// int is an integer field (0 if it is not one).
func (i info) int(key string) int { n, _ := i[key].(int); return n }

// structs reads an array of structs that must hold keys.
func structs(v any, what string, keys ...string) ([]info, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, malformed(what+": not an array", v)
	}
	out := make([]info, 0, len(list))
	for _, e := range list {
		m, err := structOf(e, what, keys...)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func structOf(v any, what string, keys ...string) (info, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed(what+": not a struct", v)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return nil, malformed(fmt.Sprintf("%s: no %q", what, k), v)
		}
	}
	return m, nil
}

// makeNamespec is options.make_namespec.
func makeNamespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// splitNamespec is options.split_namespec; hasProcess is false where it
// returns None for the process ("G:", "G:*").
func splitNamespec(spec string) (group, process string, hasProcess bool) {
	if g, p, ok := strings.Cut(spec, ":"); ok {
		if p == "" || p == "*" {
			return g, "", false
		}
		return g, p, true
	}
	return spec, spec, true
}

// resultName is make_namespec of a result struct.
func (i info) namespec() string { return makeNamespec(i.s("group"), i.s("name")) }

// faultResult is the result struct supervisorctl makes of a fault for
// one process.
func faultResult(f *xmlrpc.Fault, group, process string, hasProcess bool) info {
	var name any = process
	if !hasProcess {
		name = nil
	}
	return info{"status": f.Code, "name": name, "group": group, "description": f.String}
}

// ---- EOF, quit, exit, help

func doEOF(c *controller, _ context.Context, _ string) error {
	c.output("")
	return errQuit
}

func doQuit(c *controller, ctx context.Context, arg string) error { return doEOF(c, ctx, arg) }

func helpQuit(c *controller) { c.output("quit\tExit the supervisor shell.") }
func helpExit(c *controller) { c.output("exit\tExit the supervisor shell.") }

func doHelp(c *controller, _ context.Context, arg string) error {
	if pyStrip(arg) == "help" {
		c.output("help\t\tPrint a list of available actions")
		c.output("help <action>\tPrint help for <action>")
		return nil
	}
	if arg != "" {
		if cmd, ok := commands[arg]; ok && cmd.help != nil && arg != "EOF" && arg != "help" {
			cmd.help(c)
			return nil
		}
		c.output("*** No help on " + arg)
		return nil
	}
	var topics []string
	for name, cmd := range commands {
		if cmd.help != nil {
			topics = append(topics, name)
		}
	}
	slices.Sort(topics)
	c.output("")
	c.printTopics("default commands (type help <topic>):", topics, 80)
	return nil
}

// printTopics is cmd.Cmd.print_topics with its ruler "=".
func (c *controller) printTopics(header string, cmds []string, maxcol int) {
	if len(cmds) == 0 {
		return
	}
	c.write([]byte(header + "\n" + strings.Repeat("=", pyLen(header)) + "\n" + columnize(cmds, maxcol-1) + "\n"))
}

// ---- status, pid

func (c *controller) showStatuses(rows []statusRow) {
	namespecs := make([]string, len(rows))
	maxlen := 30
	for i, r := range rows {
		namespecs[i] = r.namespec()
		maxlen = max(maxlen, pyLen(namespecs[i]))
	}
	for i, r := range rows {
		c.output(statusLine(namespecs[i], r.statename, r.description, maxlen+3))
	}
}

// statusRow is what status reads of one process's info.
type statusRow struct {
	group, name, statename, description string
	state                               int
	hasState                            bool // state is an int
}

func (r statusRow) namespec() string { return makeNamespec(r.group, r.name) }

// statusRows is getAllProcessInfo's answer as status reads it: from a
// StatusLister when the Conn is one, else from the structs Call returns.
func (c *controller) statusRows(ctx context.Context) ([]statusRow, error) {
	if sl, ok := c.conn.(StatusLister); ok {
		rows, err := sl.StatusRows(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, errInterrupted
			}
			return nil, err
		}
		out := make([]statusRow, len(rows))
		for i, r := range rows {
			out[i] = statusRow{group: r.Group, name: r.Name, statename: r.StateName, description: r.Description, state: r.State, hasState: true}
		}
		return out, nil
	}
	v, err := c.call(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		return nil, err
	}
	all, err := structs(v, "getAllProcessInfo", "group", "name", "statename", "description", "state")
	if err != nil {
		return nil, err
	}
	out := make([]statusRow, len(all))
	for i, in := range all {
		state, ok := in["state"].(int)
		out[i] = statusRow{group: in.s("group"), name: in.s("name"), statename: in.s("statename"), description: in.s("description"), state: state, hasState: ok}
	}
	return out, nil
}

// statusLine is one line of status: "%-Ws%-10s%s".
func statusLine(namespec, state, desc string, width int) string {
	// one allocation per line: a 1000-program status prints 1000
	var b strings.Builder
	b.Grow(max(width, len(namespec)) + max(10, len(state)) + len(desc))
	b.WriteString(namespec)
	for n := pyLen(namespec); n < width; n++ {
		b.WriteByte(' ')
	}
	b.WriteString(state)
	for n := pyLen(state); n < 10; n++ {
		b.WriteByte(' ')
	}
	b.WriteString(desc)
	return b.String()
}

func doStatus(c *controller, ctx context.Context, arg string) error {
	ok, err := c.upcheck(ctx)
	if err != nil {
		if isTransportError(err) {
			// the systemd transport's "not reachable": what supervisorctl
			// says of a server it cannot reach, status UNKNOWN.
			c.output(errorLine(err, c.conn.ServerURL()))
			c.exitStatus = statusUnknown
			return nil
		}
		return err
	}
	if !ok {
		c.exitStatus = statusUnknown
		return nil
	}
	all, err := c.statusRows(ctx)
	if err != nil {
		return err
	}
	names := pySplit(arg)
	var matching []statusRow
	if len(names) == 0 || slices.Contains(names, "all") {
		matching = all
	} else {
		for _, name := range names {
			bad := true
			group, process, hasProcess := splitNamespec(name)
			for _, in := range all {
				matched := in.group == group
				if hasProcess {
					matched = matched && in.name == process
				}
				if matched {
					bad = false
					matching = append(matching, in)
				}
			}
			if bad {
				if !hasProcess {
					c.output(group + ": ERROR (no such group)")
				} else {
					c.output(name + ": ERROR (no such process)")
				}
				c.exitStatus = statusUnknown
			}
		}
	}
	c.showStatuses(matching)
	for _, in := range matching {
		if in.hasState {
			if s, known := xmlrpc.StateFromCode(in.state); known && s.IsStopped() {
				c.exitStatus = statusNotRunning
			}
		}
	}
	return nil
}

func helpStatus(c *controller) {
	c.output("status <name>\t\tGet status for a single process")
	c.output("status <gname>:*\tGet status for all processes in a group")
	c.output("status <name> <name>\tGet status for multiple named processes")
	c.output("status\t\t\tGet all process status info")
}

func doPid(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	names := pySplit(arg)
	switch {
	case len(names) == 0:
		pid, err := c.call(ctx, "supervisor.getPID")
		if err != nil {
			return err
		}
		c.output(pyStr(pid))
	case slices.Contains(names, "all"):
		v, err := c.call(ctx, "supervisor.getAllProcessInfo")
		if err != nil {
			return err
		}
		all, err := structs(v, "getAllProcessInfo", "pid")
		if err != nil {
			return err
		}
		for _, in := range all {
			c.output(in.s("pid"))
		}
	default:
		for _, name := range names {
			v, err := c.call(ctx, "supervisor.getProcessInfo", name)
			if err != nil {
				var f *xmlrpc.Fault
				if errors.As(err, &f) {
					c.exitStatus = exitGeneric
					if f.Code == xmlrpc.FaultBadName {
						c.output("No such process " + name)
						continue
					}
				}
				return err
			}
			in, err := structOf(v, "getProcessInfo", "pid")
			if err != nil {
				return err
			}
			c.output(in.s("pid"))
			if pid, ok := in["pid"].(int); ok && pid == 0 {
				c.exitStatus = exitNotRunning
			}
		}
	}
	return nil
}

func helpPid(c *controller) {
	c.output("pid\t\t\tGet the PID of supervisord.")
	c.output("pid <name>\t\tGet the PID of a single child process by name.")
	c.output("pid all\t\t\tGet the PID of every child process, one per line.")
}

// ---- start, stop, restart, signal

func unknownResult(code int, name string, line int) error {
	return &pyError{class: "ValueError", msg: fmt.Sprintf("Unknown result code %d for %s", code, name), file: supervisorctlPy, line: line}
}

func startResult(r info) (string, error) {
	name := r.namespec()
	code := r.int("status")
	switch code {
	case xmlrpc.FaultBadName:
		return name + ": ERROR (no such process)", nil
	case xmlrpc.FaultNoFile:
		return name + ": ERROR (no such file)", nil
	case xmlrpc.FaultNotExecutable:
		return name + ": ERROR (file is not executable)", nil
	case xmlrpc.FaultAlreadyStarted:
		return name + ": ERROR (already started)", nil
	case xmlrpc.FaultSpawnError:
		return name + ": ERROR (spawn error)", nil
	case xmlrpc.FaultAbnormalTermination:
		return name + ": ERROR (abnormal termination)", nil
	case xmlrpc.FaultSuccess:
		return name + ": started", nil
	}
	return "", unknownResult(code, name, 761)
}

func signalResult(r info, success string) (string, error) {
	name := r.namespec()
	code := r.int("status")
	switch code {
	case xmlrpc.FaultBadName:
		return name + ": ERROR (no such process)", nil
	case xmlrpc.FaultBadSignal:
		return name + ": ERROR (bad signal name)", nil
	case xmlrpc.FaultNotRunning:
		return name + ": ERROR (not running)", nil
	case xmlrpc.FaultSuccess:
		return name + ": " + success, nil
	case xmlrpc.FaultFailed:
		return r.s("description"), nil
	}
	return "", unknownResult(code, name, 835)
}

func stopResult(r info) (string, error) { return signalResult(r, "stopped") }

// showResults prints each result struct of a group or "all" operation
// and sets the exit status from its code.
func (c *controller) showResults(v any, format func(info) (string, error), ignored ...int) error {
	results, err := structs(v, "results", "name", "group", "status")
	if err != nil {
		return err
	}
	for _, r := range results {
		line, err := format(r)
		if err != nil {
			return err
		}
		c.output(line)
		c.setExitStatusFromFault(r.int("status"), ignored...)
	}
	return nil
}

// processOp is one of the per-process commands (start, stop, signal,
// clear): supervisorctl's do_start, do_stop, do_signal and do_clear run
// the same loop over the names with these differences.
type processOp struct {
	// for namesOp: the command, the exit status and help without a
	// name, the method for "all"
	what        string
	noNamesExit int
	help        func(*controller)
	all         string

	single       func(name string) (method string, args []any)  // the call for "NAME" and "GROUP:NAME"
	group        func(group string) (method string, args []any) // for "GROUP:*"; nil: single serves it
	result       func(info) (string, error)                     // the line for a result struct or fault
	done         string                                         // "NS: done" after a single call succeeded
	ignore       []int                                          // faults that leave the exit status alone
	badGroupExit int                                            // exit status after "G: ERROR (no such group)"
	faultExit    int                                            // exit status for another fault of the group call; 0 leaves it
}

// namesOp is do_start, do_stop and do_clear: at least one name, "all"
// anywhere means all processes, else each name in turn.
func (c *controller) namesOp(ctx context.Context, arg string, op processOp) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	names := pySplit(arg)
	if len(names) == 0 {
		c.output("Error: " + op.what + " requires a process name")
		c.exitStatus = op.noNamesExit
		op.help(c)
		return nil
	}
	if slices.Contains(names, "all") {
		v, err := c.call(ctx, op.all)
		if err != nil {
			return err
		}
		return c.showResults(v, op.result, op.ignore...)
	}
	return c.eachProcess(ctx, names, op)
}

// eachProcess runs op on each name in turn.
func (c *controller) eachProcess(ctx context.Context, names []string, op processOp) error {
	for _, name := range names {
		group, process, hasProcess := splitNamespec(name)
		if !hasProcess && op.group != nil {
			method, args := op.group(group)
			v, err := c.call(ctx, method, args...)
			if err == nil {
				err = c.showResults(v, op.result, op.ignore...)
			}
			if err != nil {
				var f *xmlrpc.Fault
				if errors.As(err, &f) {
					if f.Code == xmlrpc.FaultBadName {
						c.output(group + ": ERROR (no such group)")
						c.exitStatus = op.badGroupExit
						continue
					}
					if op.faultExit != 0 {
						c.exitStatus = op.faultExit
					}
				}
				return err
			}
			continue
		}
		method, args := op.single(name)
		if _, err := c.call(ctx, method, args...); err != nil {
			var f *xmlrpc.Fault
			if !errors.As(err, &f) {
				return err
			}
			line, err := op.result(faultResult(f, group, process, hasProcess))
			if err != nil {
				return err
			}
			c.output(line)
			c.setExitStatusFromFault(f.Code, op.ignore...)
			continue
		}
		c.output(makeNamespec(group, process) + ": " + op.done)
	}
	return nil
}

func doStart(c *controller, ctx context.Context, arg string) error {
	return c.namesOp(ctx, arg, processOp{
		what:         "start",
		noNamesExit:  exitInvalidArgs,
		help:         helpStart,
		all:          "supervisor.startAllProcesses",
		single:       func(name string) (string, []any) { return "supervisor.startProcess", []any{name} },
		group:        func(group string) (string, []any) { return "supervisor.startProcessGroup", []any{group} },
		result:       startResult,
		done:         "started",
		ignore:       []int{xmlrpc.FaultAlreadyStarted},
		badGroupExit: exitInvalidArgs,
		faultExit:    exitGeneric,
	})
}

func helpStart(c *controller) {
	c.output("start <name>\t\tStart a process")
	c.output("start <gname>:*\t\tStart all processes in a group")
	c.output("start <name> <name>\tStart multiple processes or groups")
	c.output("start all\t\tStart all processes")
}

func doStop(c *controller, ctx context.Context, arg string) error {
	return c.namesOp(ctx, arg, processOp{
		what:         "stop",
		noNamesExit:  exitGeneric,
		help:         helpStop,
		all:          "supervisor.stopAllProcesses",
		single:       func(name string) (string, []any) { return "supervisor.stopProcess", []any{name} },
		group:        func(group string) (string, []any) { return "supervisor.stopProcessGroup", []any{group} },
		result:       stopResult,
		done:         "stopped",
		ignore:       []int{xmlrpc.FaultNotRunning},
		badGroupExit: exitGeneric,
		faultExit:    exitGeneric,
	})
}

func helpStop(c *controller) {
	c.output("stop <name>\t\tStop a process")
	c.output("stop <gname>:*\t\tStop all processes in a group")
	c.output("stop <name> <name>\tStop multiple processes or groups")
	c.output("stop all\t\tStop all processes")
}

func doSignal(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	args := pySplit(arg)
	if len(args) < 2 {
		c.output("Error: signal requires a signal name and a process name")
		helpSignal(c)
		c.exitStatus = exitGeneric
		return nil
	}
	sig, names := args[0], args[1:]
	signalled := func(r info) (string, error) { return signalResult(r, "signalled") }
	if slices.Contains(names, "all") {
		v, err := c.call(ctx, "supervisor.signalAllProcesses", sig)
		if err != nil {
			return err
		}
		return c.showResults(v, signalled)
	}
	return c.eachProcess(ctx, names, processOp{
		single:       func(name string) (string, []any) { return "supervisor.signalProcess", []any{name, sig} },
		group:        func(group string) (string, []any) { return "supervisor.signalProcessGroup", []any{group, sig} },
		result:       signalled,
		done:         "signalled",
		badGroupExit: exitGeneric,
	})
}

func helpSignal(c *controller) {
	c.output("signal <signal name> <name>\t\tSignal a process")
	c.output("signal <signal name> <gname>:*\t\tSignal all processes in a group")
	c.output("signal <signal name> <name> <name>\tSignal multiple processes or groups")
	c.output("signal <signal name> all\t\tSignal all processes")
}

func doRestart(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	if len(pySplit(arg)) == 0 {
		c.output("Error: restart requires a process name")
		c.exitStatus = exitGeneric
		helpRestart(c)
		return nil
	}
	if err := doStop(c, ctx, arg); err != nil {
		return err
	}
	return doStart(c, ctx, arg)
}

func helpRestart(c *controller) {
	c.output("restart <name>\t\tRestart a process")
	c.output("restart <gname>:*\tRestart all processes in a group")
	c.output("restart <name> <name>\tRestart multiple processes or groups")
	c.output("restart all\t\tRestart all processes")
	c.output("Note: restart does not reread config files. For that, see reread and update.")
}

// ---- shutdown, reload

func doShutdown(c *controller, ctx context.Context, arg string) error {
	if arg != "" {
		c.output("Error: shutdown accepts no arguments")
		c.exitStatus = exitGeneric
		helpShutdown(c)
		return nil
	}
	if c.opts.Interactive {
		yesno, err := c.ask(ctx, "Really shut the remote supervisord process down y/N? ", 987)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToLower(yesno), "y") {
			return nil
		}
	}
	_, err := c.call(ctx, "supervisor.shutdown")
	if err == nil {
		c.output("Shut down")
		return nil
	}
	var f *xmlrpc.Fault
	switch {
	case errors.As(err, &f):
		if f.Code == xmlrpc.FaultShutdownState {
			c.output("ERROR: already shutting down")
			return nil
		}
		c.exitStatus = exitGeneric
	case isSocketError(err):
		c.exitStatus = exitGeneric
		if isRefused(err) {
			c.output("ERROR: " + c.conn.ServerURL() + " refused connection (already shut down?)")
			return nil
		}
		if isNoSuchFile(err) {
			c.output("ERROR: " + c.conn.ServerURL() + " no such file (already shut down?)")
			return nil
		}
	}
	return err
}

func helpShutdown(c *controller) { c.output("shutdown \tShut the remote supervisord down.") }

func doReload(c *controller, ctx context.Context, arg string) error {
	if arg != "" {
		c.output("Error: reload accepts no arguments")
		c.exitStatus = exitGeneric
		helpReload(c)
		return nil
	}
	if c.opts.Interactive {
		yesno, err := c.ask(ctx, "Really restart the remote supervisord process y/N? ", 1027)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToLower(yesno), "y") {
			return nil
		}
	}
	_, err := c.call(ctx, "supervisor.restart")
	if err == nil {
		c.output("Restarted supervisord")
		return nil
	}
	var f *xmlrpc.Fault
	if errors.As(err, &f) {
		c.exitStatus = exitGeneric
		switch f.Code {
		case xmlrpc.FaultShutdownState:
			c.output("ERROR: already shutting down")
			return nil
		case xmlrpc.FaultCantReread:
			// only under systemd: the configuration supervisord would
			// exit on at its restart changed nothing (docs/MAPPING.md)
			c.output("ERROR: " + f.String)
			return nil
		}
	}
	return err
}

func helpReload(c *controller) { c.output("reload \t\tRestart the remote supervisord.") }

// ---- avail, reread, add, remove, update

func (c *controller) formatChanges(v any) error {
	outer, ok := v.([]any)
	if !ok || len(outer) == 0 {
		return malformed("reloadConfig", v)
	}
	triple, ok := outer[0].([]any)
	if !ok || len(triple) != 3 {
		return malformed("reloadConfig", v)
	}
	changes := map[string]string{}
	for i, kind := range []string{"available", "changed", "disappeared"} {
		names, ok := triple[i].([]any)
		if !ok {
			return malformed("reloadConfig", v)
		}
		for _, n := range names {
			changes[pyStr(n)] = kind
		}
	}
	if len(changes) == 0 {
		c.output("No config updates to processes")
		return nil
	}
	names := make([]string, 0, len(changes))
	for n := range changes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c.output(n + ": " + changes[n])
	}
	return nil
}

// configInfoLine is _formatConfigInfo.
func configInfoLine(in info) string {
	inuse, auto := "avail", "manual"
	if xmlrpc.Truthy(in["inuse"]) {
		inuse = "in use"
	}
	if xmlrpc.Truthy(in["autostart"]) {
		auto = "auto"
	}
	return pyLjust(in.namespec(), 32) + " " + pyLjust(inuse, 9) + " " + pyLjust(auto, 9) + " " + in.s("group_prio") + ":" + in.s("process_prio")
}

func doAvail(c *controller, ctx context.Context, arg string) error {
	if arg != "" {
		c.output("Error: avail accepts no arguments")
		c.exitStatus = exitGeneric
		helpAvail(c)
		return nil
	}
	v, err := c.call(ctx, "supervisor.getAllConfigInfo")
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			c.exitStatus = exitGeneric
			if f.Code == xmlrpc.FaultShutdownState {
				c.output("ERROR: supervisor shutting down")
				return nil
			}
		}
		return err
	}
	infos, err := structs(v, "getAllConfigInfo", "group", "name", "inuse", "autostart", "group_prio", "process_prio")
	if err != nil {
		return err
	}
	for _, in := range infos {
		c.output(configInfoLine(in))
	}
	return nil
}

func helpAvail(c *controller) { c.output("avail\t\t\tDisplay all configured processes") }

func doReread(c *controller, ctx context.Context, arg string) error {
	if arg != "" {
		c.output("Error: reread accepts no arguments")
		c.exitStatus = exitGeneric
		helpReread(c)
		return nil
	}
	v, err := c.call(ctx, "supervisor.reloadConfig")
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			c.exitStatus = exitGeneric
			switch f.Code {
			case xmlrpc.FaultShutdownState:
				c.output("ERROR: supervisor shutting down")
				return nil
			case xmlrpc.FaultCantReread:
				c.output("ERROR: " + f.String)
				return nil
			}
		}
		return err
	}
	return c.formatChanges(v)
}

func helpReread(c *controller) {
	c.output("reread \t\t\tReload the daemon's configuration files without add/remove")
}

func doAdd(c *controller, ctx context.Context, arg string) error {
	for _, name := range pySplit(arg) {
		if _, err := c.call(ctx, "supervisor.addProcessGroup", name); err != nil {
			var f *xmlrpc.Fault
			if !errors.As(err, &f) {
				return err
			}
			switch f.Code {
			case xmlrpc.FaultShutdownState:
				c.output("ERROR: shutting down")
				c.exitStatus = exitGeneric
			case xmlrpc.FaultAlreadyAdded:
				c.output("ERROR: process group already active")
			case xmlrpc.FaultBadName:
				c.output("ERROR: no such process/group: " + name)
				c.exitStatus = exitGeneric
			default:
				c.exitStatus = exitGeneric
				return err
			}
			continue
		}
		c.output(name + ": added process group")
	}
	return nil
}

func helpAdd(c *controller) {
	c.output("add <name> [...]\tActivates any updates in config for process/group")
}

func doRemove(c *controller, ctx context.Context, arg string) error {
	for _, name := range pySplit(arg) {
		if _, err := c.call(ctx, "supervisor.removeProcessGroup", name); err != nil {
			var f *xmlrpc.Fault
			if !errors.As(err, &f) {
				return err
			}
			c.exitStatus = exitGeneric
			switch f.Code {
			case xmlrpc.FaultStillRunning:
				c.output("ERROR: process/group still running: " + name)
			case xmlrpc.FaultBadName:
				c.output("ERROR: no such process/group: " + name)
			default:
				return err
			}
			continue
		}
		c.output(name + ": removed process group")
	}
	return nil
}

func helpRemove(c *controller) {
	c.output("remove <name> [...]\tRemoves process/group from active config")
}

func doUpdate(c *controller, ctx context.Context, arg string) error {
	v, err := c.call(ctx, "supervisor.reloadConfig")
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			c.exitStatus = exitGeneric
			if f.Code == xmlrpc.FaultShutdownState {
				c.output("ERROR: already shutting down")
				return nil
			}
		}
		return err
	}
	outer, ok := v.([]any)
	if !ok || len(outer) == 0 {
		return malformed("reloadConfig", v)
	}
	triple, ok := outer[0].([]any)
	if !ok || len(triple) != 3 {
		return malformed("reloadConfig", v)
	}
	var lists [3][]string
	for i := range lists {
		names, ok := triple[i].([]any)
		if !ok {
			return malformed("reloadConfig", v)
		}
		for _, n := range names {
			lists[i] = append(lists[i], pyStr(n))
		}
	}
	added, changed, removed := lists[0], lists[1], lists[2]
	valid := map[string]bool{}
	var validOrder []string // Python iterates the set; any order is its order
	for _, n := range pySplit(arg) {
		if !valid[n] {
			valid[n] = true
			validOrder = append(validOrder, n)
		}
	}
	if valid["all"] {
		valid, validOrder = map[string]bool{}, nil
	}
	if len(valid) > 0 {
		v, err := c.call(ctx, "supervisor.getAllProcessInfo")
		if err != nil {
			return err
		}
		all, err := structs(v, "getAllProcessInfo", "group")
		if err != nil {
			return err
		}
		groups := map[string]bool{}
		for _, in := range all {
			groups[in.s("group")] = true
		}
		for _, g := range added {
			groups[g] = true
		}
		for _, g := range validOrder {
			if !groups[g] {
				c.output("ERROR: no such group: " + g)
				c.exitStatus = exitGeneric
			}
		}
	}
	skip := func(g string) bool { return len(valid) > 0 && !valid[g] }
	for _, g := range removed {
		if skip(g) {
			continue
		}
		v, err := c.call(ctx, "supervisor.stopProcessGroup", g)
		if err != nil {
			return err
		}
		c.output(g + ": stopped")
		results, err := structs(v, "stopProcessGroup", "status")
		if err != nil {
			return err
		}
		failed := false
		for _, r := range results {
			failed = failed || r.int("status") == xmlrpc.FaultFailed
		}
		if failed {
			c.output(g + ": has problems; not removing")
			c.exitStatus = exitGeneric
			continue
		}
		if _, err := c.call(ctx, "supervisor.removeProcessGroup", g); err != nil {
			return err
		}
		c.output(g + ": removed process group")
	}
	for _, g := range changed {
		if skip(g) {
			continue
		}
		if _, err := c.call(ctx, "supervisor.stopProcessGroup", g); err != nil {
			return err
		}
		c.output(g + ": stopped")
		if _, err := c.call(ctx, "supervisor.removeProcessGroup", g); err != nil {
			return err
		}
		if _, err := c.call(ctx, "supervisor.addProcessGroup", g); err != nil {
			return err
		}
		c.output(g + ": updated process group")
	}
	for _, g := range added {
		if skip(g) {
			continue
		}
		if _, err := c.call(ctx, "supervisor.addProcessGroup", g); err != nil {
			return err
		}
		c.output(g + ": added process group")
	}
	return nil
}

func helpUpdate(c *controller) {
	c.output("update\t\t\tReload config and add/remove as necessary, and will restart affected programs")
	c.output("update all\t\tReload config and add/remove as necessary, and will restart affected programs")
	c.output("update <gname> [...]\tUpdate specific groups")
}

// ---- clear, open, version

func clearResult(r info) (string, error) {
	name := r.namespec()
	code := r.int("status")
	switch code {
	case xmlrpc.FaultBadName:
		return name + ": ERROR (no such process)", nil
	case xmlrpc.FaultFailed:
		return name + ": ERROR (failed)", nil
	case xmlrpc.FaultSuccess:
		return name + ": cleared", nil
	}
	return "", unknownResult(code, name, 1260)
}

func doClear(c *controller, ctx context.Context, arg string) error {
	return c.namesOp(ctx, arg, processOp{
		what:        "clear",
		noNamesExit: exitGeneric,
		help:        helpClear,
		all:         "supervisor.clearAllProcessLogs",
		single:      func(name string) (string, []any) { return "supervisor.clearProcessLogs", []any{name} },
		result:      clearResult,
		done:        "cleared",
	})
}

func helpClear(c *controller) {
	c.output("clear <name>\t\tClear a process' log files.")
	c.output("clear <name> <name>\tClear multiple process' log files")
	c.output("clear all\t\tClear all process' log files")
}

func doOpen(c *controller, ctx context.Context, arg string) error {
	url := pyStrip(arg)
	scheme, _, _, perr := urlParse(url)
	if perr != nil {
		return perr
	}
	if scheme != "unix" && scheme != "http" {
		c.output("ERROR: url must be http:// or unix://")
		c.exitStatus = exitGeneric
		return nil
	}
	if c.opts.Dial == nil {
		c.output("ERROR: open is not available here: this connection does not speak XML-RPC")
		c.exitStatus = exitGeneric
		return nil
	}
	c.opts.ServerURL = url
	u, p := c.opts.Credentials()
	conn, err := c.opts.Dial(url, u, p)
	if err != nil || conn == nil {
		conn = badURL(url)
	}
	c.useConn(conn)
	old := c.exitStatus
	if err := doStatus(c, ctx, ""); err != nil {
		return err
	}
	c.exitStatus = old
	return nil
}

func helpOpen(c *controller) {
	c.output("open <url>\tConnect to a remote supervisord process.")
	c.output("\t\t(for UNIX domain socket, use unix:///socket/path)")
}

func doVersion(c *controller, ctx context.Context, arg string) error {
	if arg != "" {
		c.output("Error: version accepts no arguments")
		c.exitStatus = exitGeneric
		helpVersion(c)
		return nil
	}
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	v, err := c.call(ctx, "supervisor.getSupervisorVersion")
	if err != nil {
		return err
	}
	c.output(pyStr(v))
	return nil
}

func helpVersion(c *controller) {
	c.output("version\t\t\tShow the version of the remote supervisord process")
}

// ---- tail, maintail

// defaultTailBytes is how much tail and maintail show without -N.
const defaultTailBytes = 1600

// xmlrpcInt checks that n fits the 32-bit ints Python's XML-RPC
// marshaller accepts.
func xmlrpcInt(n *big.Int) (int, error) {
	if !n.IsInt64() || n.Int64() > 1<<31-1 || n.Int64() < -(1<<31) {
		return 0, errOverflow
	}
	return int(n.Int64()), nil
}

func doTail(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	args := pySplit(arg)
	if len(args) < 1 {
		c.output("Error: too few arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return nil
	}
	if len(args) > 3 {
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpTail(c)
		return nil
	}
	modifier := ""
	if strings.HasPrefix(args[0], "-") {
		modifier, args = args[0], args[1:]
	}
	var name, channel string
	switch {
	case len(args) == 1:
		name, channel = args[0], "stdout"
	case len(args) > 0:
		name, channel = args[0], strings.ToLower(args[len(args)-1])
		if channel != "stderr" && channel != "stdout" {
			c.output("Error: bad channel " + pyRepr(channel))
			c.exitStatus = exitGeneric
			return nil
		}
	default:
		c.output("Error: tail requires process name")
		c.exitStatus = exitGeneric
		return nil
	}
	bytes := big.NewInt(defaultTailBytes)
	follow := false
	if modifier != "" {
		what := modifier[1:]
		if what == "f" {
			follow = true
		} else {
			n, ok := pyInt(what)
			if !ok {
				c.output("Error: bad argument " + modifier)
				c.exitStatus = exitGeneric
				return nil
			}
			bytes = n
		}
	}
	if follow {
		return c.tailf(ctx, "/logtail/"+name+"/"+channel)
	}
	offset, err := xmlrpcInt(new(big.Int).Neg(bytes))
	if err != nil {
		return err
	}
	method := "supervisor.readProcessStdoutLog"
	if channel == "stderr" {
		method = "supervisor.readProcessStderrLog"
	}
	v, err := c.call(ctx, method, name, offset, 0)
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			c.exitStatus = exitGeneric
			switch f.Code {
			case xmlrpc.FaultNoFile:
				c.output(name + ": ERROR (no log file)")
				return nil
			case xmlrpc.FaultFailed:
				c.output(name + ": ERROR (unknown error reading log)")
				return nil
			case xmlrpc.FaultBadName:
				c.output(name + ": ERROR (no such process name)")
				return nil
			}
		}
		return err
	}
	c.output(pyStr(v))
	return nil
}

func helpTail(c *controller) {
	c.output("tail [-f] <name> [stdout|stderr] (default stdout)\n" +
		"Ex:\n" +
		"tail -f <name>\t\tContinuous tail of named process stdout\n" +
		"\t\t\tCtrl-C to exit.\n" +
		"tail -100 <name>\tlast 100 *bytes* of process stdout\n" +
		"tail <name> stderr\tlast 1600 *bytes* of process stderr")
}

func doMaintail(c *controller, ctx context.Context, arg string) error {
	if ok, err := c.upcheck(ctx); !ok {
		return err
	}
	args := pySplit(arg)
	bytes := big.NewInt(defaultTailBytes)
	switch {
	case len(args) > 1:
		c.output("Error: too many arguments")
		c.exitStatus = exitGeneric
		helpMaintail(c)
		return nil
	case len(args) == 1:
		if !strings.HasPrefix(args[0], "-") {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return nil
		}
		what := args[0][1:]
		if what == "f" {
			return c.tailf(ctx, "/mainlogtail")
		}
		n, ok := pyInt(what)
		if !ok {
			c.output("Error: bad argument " + args[0])
			c.exitStatus = exitGeneric
			return nil
		}
		bytes = n
	}
	offset, err := xmlrpcInt(new(big.Int).Neg(bytes))
	if err != nil {
		return err
	}
	v, err := c.call(ctx, "supervisor.readLog", offset, 0)
	if err != nil {
		var f *xmlrpc.Fault
		if errors.As(err, &f) {
			c.exitStatus = exitGeneric
			switch f.Code {
			case xmlrpc.FaultNoFile:
				c.output("supervisord: ERROR (no log file)")
				return nil
			case xmlrpc.FaultFailed:
				c.output("supervisord: ERROR (unknown error reading log)")
				return nil
			}
		}
		return err
	}
	c.output(pyStr(v))
	return nil
}

func helpMaintail(c *controller) {
	c.output("maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n" +
		"maintail -100\tlast 100 *bytes* of supervisord main log file\n" +
		"maintail\tlast 1600 *bytes* of supervisor main log file\n")
}
