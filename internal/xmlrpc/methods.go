package xmlrpc

import (
	"context"
	"errors"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/translate"
)

// APIVersion is what getAPIVersion answers; supervisorctl refuses any other.
const APIVersion = "3.0"

// SupervisorVersion is what getSupervisorVersion answers: the version whose
// behaviour the server reproduces.
const SupervisorVersion = "4.2.5"

// Supervisor's process state codes (supervisor.states.ProcessStates).
var stateCodes = map[status.State]int{
	status.Stopped:  0,
	status.Starting: 10,
	status.Running:  20,
	status.Backoff:  30,
	status.Stopping: 40,
	status.Exited:   100,
	status.Fatal:    200,
	status.Unknown:  1000,
}

// StateCode is Supervisor's wire code of a process state.
func StateCode(s status.State) int {
	if c, ok := stateCodes[s]; ok {
		return c
	}
	return 1000
}

// StateFromCode is the process state of a wire code; false for codes
// Supervisor does not have.
func StateFromCode(code int) (status.State, bool) {
	for s, c := range stateCodes {
		if c == code {
			return s, true
		}
	}
	return status.Unknown, false
}

// daemonRunning is SupervisorStates.RUNNING. getState never reports
// RESTARTING (0) or SHUTDOWN (-1): it answers SHUTDOWN_STATE then.
const daemonRunning = 1

// method is one XML-RPC method: how many parameters Python would accept
// (the TypeError that becomes INCORRECT_PARAMETERS), whether the
// SHUTDOWN_STATE check comes first, and its implementation.
type method struct {
	min, max int
	guarded  bool // supervisor.* methods whose _update runs first
	fn       func(ctx context.Context, s *Server, args []any) (any, *Fault)
}

var methods map[string]method

func init() {
	methods = map[string]method{
		"supervisor.getAPIVersion":        {0, 0, true, getAPIVersion},
		"supervisor.getVersion":           {0, 0, true, getAPIVersion},
		"supervisor.getSupervisorVersion": {0, 0, true, func(context.Context, *Server, []any) (any, *Fault) { return SupervisorVersion, nil }},
		"supervisor.getIdentification":    {0, 0, true, func(_ context.Context, s *Server, _ []any) (any, *Fault) { return s.b.Identification(), nil }},
		"supervisor.getState":             {0, 0, true, getState},
		"supervisor.getPID":               {0, 0, true, func(_ context.Context, s *Server, _ []any) (any, *Fault) { return s.b.PID(), nil }},
		"supervisor.readLog":              {2, 2, true, readLog},
		"supervisor.readMainLog":          {2, 2, true, readLog},
		"supervisor.clearLog":             {0, 0, true, clearLog},
		"supervisor.shutdown":             {0, 0, true, shutdown},
		"supervisor.restart":              {0, 0, true, restart},
		"supervisor.reloadConfig":         {0, 0, true, reloadConfig},
		"supervisor.addProcessGroup":      {1, 1, true, addProcessGroup},
		"supervisor.removeProcessGroup":   {1, 1, true, removeProcessGroup},
		"supervisor.startProcess":         {1, 2, true, startProcess},
		"supervisor.startProcessGroup":    {1, 2, true, startProcessGroup},
		"supervisor.startAllProcesses":    {0, 1, true, startAllProcesses},
		"supervisor.stopProcess":          {1, 2, true, stopProcess},
		"supervisor.stopProcessGroup":     {1, 2, true, stopProcessGroup},
		"supervisor.stopAllProcesses":     {0, 1, true, stopAllProcesses},
		"supervisor.signalProcess":        {2, 2, true, signalProcess},
		"supervisor.signalProcessGroup":   {2, 2, false, signalProcessGroup},
		"supervisor.signalAllProcesses":   {1, 1, false, signalAllProcesses},
		"supervisor.getAllConfigInfo":     {0, 0, true, getAllConfigInfo},
		"supervisor.getProcessInfo":       {1, 1, true, getProcessInfo},
		"supervisor.getAllProcessInfo":    {0, 0, true, getAllProcessInfo},
		"supervisor.readProcessStdoutLog": {3, 3, true, readProcessLog(stdout)},
		"supervisor.readProcessLog":       {3, 3, true, readProcessLog(stdout)},
		"supervisor.readProcessStderrLog": {3, 3, true, readProcessLog(stderr)},
		"supervisor.tailProcessStdoutLog": {3, 3, true, tailProcessLog(stdout)},
		"supervisor.tailProcessLog":       {3, 3, true, tailProcessLog(stdout)},
		"supervisor.tailProcessStderrLog": {3, 3, true, tailProcessLog(stderr)},
		"supervisor.clearProcessLogs":     {1, 1, true, clearProcessLogs},
		"supervisor.clearProcessLog":      {1, 1, true, clearProcessLogs},
		"supervisor.clearAllProcessLogs":  {0, 0, true, clearAllProcessLogs},
		"supervisor.sendProcessStdin":     {2, 2, true, sendProcessStdin},
		"supervisor.sendRemoteCommEvent":  {2, 2, false, sendRemoteCommEvent},
		"system.listMethods":              {0, 0, false, listMethods},
		"system.methodHelp":               {1, 1, false, methodHelp},
		"system.methodSignature":          {1, 1, false, methodSignature},
		"system.multicall":                {1, 1, false, multicall},
	}
}

// call runs one method as Supervisor's traverse does: the name must be
// exactly "namespace.method" with a method not starting with "_".
func (s *Server) call(ctx context.Context, name string, params []any) (any, *Fault) {
	parts := strings.Split(name, ".")
	if len(parts) != 2 || strings.HasPrefix(parts[1], "_") {
		return nil, newFault(FaultUnknownMethod)
	}
	m, ok := methods[name]
	if !ok {
		return nil, newFault(FaultUnknownMethod)
	}
	if len(params) < m.min || len(params) > m.max {
		return nil, newFault(FaultIncorrectParameters)
	}
	if m.guarded && s.b.ShuttingDown() {
		return nil, newFault(FaultShutdownState)
	}
	return m.fn(ctx, s, params)
}

// Parameters, converted as the Python code would: a wrong type is the
// TypeError that traverse reports as INCORRECT_PARAMETERS.

func argString(args []any, i int) (string, *Fault) {
	s, ok := args[i].(string)
	if !ok {
		return "", newFault(FaultIncorrectParameters)
	}
	return s, nil
}

// argInt converts as Python's int() does: ints, booleans, floats
// (truncated) and numeric strings.
func argInt(args []any, i int) (int64, *Fault) {
	switch v := args[i].(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<62 {
			return 0, newFault(FaultIncorrectParameters)
		}
		return int64(v), nil
	case string:
		n, err := pythonInt(v)
		if err == nil {
			return n, nil
		}
	}
	return 0, newFault(FaultIncorrectParameters)
}

// argBool is Python truthiness, which is all `if wait:` asks of a value.
func argBool(args []any, i int, def bool) bool {
	if i >= len(args) {
		return def
	}
	return Truthy(args[i])
}

// Truthy is Python's bool() of a value as the codec decodes it.
func Truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case int:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// splitNamespec is Supervisor's split_namespec: "g:p" → g, p; "g:" and
// "g:*" → g and the whole group; "p" → p, p.
func splitNamespec(spec string) (group, name string, whole bool) {
	g, n, ok := strings.Cut(spec, ":")
	if !ok {
		return spec, spec, false
	}
	return g, n, n == "" || n == "*"
}

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// GroupReader is what a Backend may add when it can read one group's
// processes for less than all of them (internal/sysd: a D-Bus read of
// that group's units only, where Processes reads every unit). Its answer
// must be that of Processes filtered by group, in the same order.
type GroupReader interface {
	GroupProcesses(ctx context.Context, group string) ([]status.Process, error)
}

// members returns the processes of one group, through GroupReader when
// the backend has it.
func (s *Server) members(ctx context.Context, group string) ([]status.Process, error) {
	if gr, ok := s.b.(GroupReader); ok {
		return gr.GroupProcesses(ctx, group)
	}
	all, err := s.b.Processes(ctx)
	if err != nil {
		return nil, err
	}
	var members []status.Process
	for _, p := range all {
		if p.Group == group {
			members = append(members, p)
		}
	}
	return members, nil
}

// lookup is _getGroupAndProcess: the processes of the group spec names
// (in priority order), and the one process when it names one (nil for a
// whole group). BAD_NAME carries the spec as given.
func (s *Server) lookup(ctx context.Context, spec string) (group string, members []status.Process, proc *status.Process, f *Fault) {
	g, n, whole := splitNamespec(spec)
	members, err := s.members(ctx, g)
	if err != nil {
		return "", nil, nil, toFault(err, spec)
	}
	if len(members) == 0 {
		groups, err := s.b.Groups(ctx)
		if err != nil {
			return "", nil, nil, toFault(err, spec)
		}
		found := false
		for _, name := range groups {
			found = found || name == g
		}
		if !found {
			return "", nil, nil, newFault(FaultBadName, spec)
		}
	}
	if whole {
		return g, members, nil, nil
	}
	for i := range members {
		if members[i].Name == n {
			return g, members, &members[i], nil
		}
	}
	return "", nil, nil, newFault(FaultBadName, spec)
}

// groupMembers is the lookup of startProcessGroup and friends, which take
// a bare group name ("web", never "web:*").
func (s *Server) groupMembers(ctx context.Context, group string) ([]status.Process, *Fault) {
	members, err := s.members(ctx, group)
	if err != nil {
		return nil, toFault(err, group)
	}
	if len(members) == 0 {
		groups, err := s.b.Groups(ctx)
		if err != nil {
			return nil, toFault(err, group)
		}
		for _, name := range groups {
			if name == group {
				return members, nil
			}
		}
		return nil, newFault(FaultBadName, group)
	}
	return members, nil
}

func getAPIVersion(context.Context, *Server, []any) (any, *Fault) { return APIVersion, nil }

func getState(_ context.Context, s *Server, _ []any) (any, *Fault) {
	// getState answers SHUTDOWN_STATE itself while shutting down, so the
	// only state it ever reports is RUNNING.
	return Struct{{"statecode", daemonRunning}, {"statename", "RUNNING"}}, nil
}

func shutdown(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	if err := s.b.Shutdown(ctx); err != nil {
		return nil, toFault(err, "")
	}
	return true, nil
}

func restart(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	if err := s.b.Restart(ctx); err != nil {
		return nil, toFault(err, "")
	}
	return true, nil
}

func reloadConfig(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	added, changed, removed, err := s.b.Reload(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return []any{[]any{nonNil(added), nonNil(changed), nonNil(removed)}}, nil
}

func addProcessGroup(ctx context.Context, s *Server, args []any) (any, *Fault) {
	name, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	if err := s.b.AddGroup(ctx, name); err != nil {
		return nil, toFault(err, name)
	}
	return true, nil
}

func removeProcessGroup(ctx context.Context, s *Server, args []any) (any, *Fault) {
	name, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	if err := s.b.RemoveGroup(ctx, name); err != nil {
		return nil, toFault(err, name)
	}
	return true, nil
}

// result is one struct of a group or "all" operation.
func result(p status.Process, f *Fault) Struct {
	if f == nil {
		return Struct{{"name", p.Name}, {"group", p.Group}, {"status", FaultSuccess}, {"description", "OK"}}
	}
	return Struct{{"name", p.Name}, {"group", p.Group}, {"status", f.Code}, {"description", f.String}}
}

// startOne is the first half of startProcess for a resolved process.
func (s *Server) startOne(ctx context.Context, p status.Process, spec string) *Fault {
	err := s.b.Start(ctx, p.Group, p.Name)
	if err == nil {
		return nil
	}
	if kind, detail := status.KindOf(err); kind == status.ErrFailed && detail == "" {
		return newFault(FaultFailed, spec+" is in an unknown process state")
	}
	return toFault(err, spec)
}

func startProcess(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	wait := argBool(args, 1, true)
	_, members, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return s.startMany(ctx, members, wait), nil
	}
	if f := s.startOne(ctx, *p, spec); f != nil {
		return nil, f
	}
	if wait {
		if err := s.b.WaitStarted(ctx, p.Group, p.Name); err != nil {
			return nil, toFault(err, spec)
		}
	}
	return true, nil
}

// startMany is make_allfunc(processes, isNotRunning, startProcess).
func (s *Server) startMany(ctx context.Context, procs []status.Process, wait bool) []Struct {
	return s.many(ctx, procs, wait, func(p status.Process) bool { return !p.State.IsRunning() },
		func(p status.Process) *Fault { return s.startOne(ctx, p, p.Namespec()) },
		func(p status.Process) error { return s.b.WaitStarted(ctx, p.Group, p.Name) })
}

// many is Supervisor's make_allfunc: act on every process selected, in
// order, without waiting in between; the errors come first, then the
// outcome of each wait (or OK at once without wait).
func (s *Server) many(ctx context.Context, procs []status.Process, wait bool, selected func(status.Process) bool, act func(status.Process) *Fault, waitFor func(status.Process) error) []Struct {
	results := []Struct{}
	var waiting []status.Process
	for _, p := range procs {
		if !selected(p) {
			continue
		}
		if f := act(p); f != nil {
			results = append(results, result(p, f))
			continue
		}
		if wait {
			waiting = append(waiting, p)
		} else {
			results = append(results, result(p, nil))
		}
	}
	for _, p := range waiting {
		var f *Fault
		if err := waitFor(p); err != nil {
			f = toFault(err, p.Namespec())
		}
		results = append(results, result(p, f))
	}
	return results
}

// groupOrAll calls do with the members of the group named by the first
// argument (the *ProcessGroup methods), or with every process
// (the *AllProcesses methods, group false); the wait flag follows.
func (s *Server) groupOrAll(ctx context.Context, args []any, group bool, do func([]status.Process, bool) []Struct) (any, *Fault) {
	if !group {
		all, err := s.b.Processes(ctx)
		if err != nil {
			return nil, toFault(err, "")
		}
		return do(all, argBool(args, 0, true)), nil
	}
	name, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	members, f := s.groupMembers(ctx, name)
	if f != nil {
		return nil, f
	}
	return do(members, argBool(args, 1, true)), nil
}

func startProcessGroup(ctx context.Context, s *Server, args []any) (any, *Fault) {
	return s.groupOrAll(ctx, args, true, func(procs []status.Process, wait bool) []Struct { return s.startMany(ctx, procs, wait) })
}

func startAllProcesses(ctx context.Context, s *Server, args []any) (any, *Fault) {
	return s.groupOrAll(ctx, args, false, func(procs []status.Process, wait bool) []Struct { return s.startMany(ctx, procs, wait) })
}

func stopProcess(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	wait := argBool(args, 1, true)
	_, members, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return s.stopMany(ctx, members, wait), nil
	}
	if err := s.b.Stop(ctx, p.Group, p.Name); err != nil {
		return nil, toFault(err, spec)
	}
	if wait {
		if err := s.b.WaitStopped(ctx, p.Group, p.Name); err != nil {
			return nil, toFault(err, spec)
		}
	}
	return true, nil
}

// stopMany is make_allfunc(processes, isRunning, stopProcess).
func (s *Server) stopMany(ctx context.Context, procs []status.Process, wait bool) []Struct {
	return s.many(ctx, procs, wait, func(p status.Process) bool { return p.State.IsRunning() },
		func(p status.Process) *Fault {
			if err := s.b.Stop(ctx, p.Group, p.Name); err != nil {
				return toFault(err, p.Namespec())
			}
			return nil
		},
		func(p status.Process) error { return s.b.WaitStopped(ctx, p.Group, p.Name) })
}

func stopProcessGroup(ctx context.Context, s *Server, args []any) (any, *Fault) {
	return s.groupOrAll(ctx, args, true, func(procs []status.Process, wait bool) []Struct { return s.stopMany(ctx, procs, wait) })
}

func stopAllProcesses(ctx context.Context, s *Server, args []any) (any, *Fault) {
	return s.groupOrAll(ctx, args, false, func(procs []status.Process, wait bool) []Struct { return s.stopMany(ctx, procs, wait) })
}

// signalArg is the signal parameter as given, for BAD_SIGNAL's detail, and
// its number by Supervisor's signal_number.
func signalArg(v any) (syscall.Signal, string, *Fault) {
	switch v := v.(type) {
	case string:
		sig, err := parseSignal(v)
		if err != nil {
			return 0, v, newFault(FaultBadSignal, v)
		}
		return sig, v, nil
	case int, int64, bool, float64:
		n, _ := argInt([]any{v}, 0)
		text := strconv.FormatInt(n, 10)
		if b, ok := v.(bool); ok {
			text = "False"
			if b {
				text = "True"
			}
		}
		sig, err := translate.SignalNumber(strconv.FormatInt(n, 10))
		if err != nil {
			return 0, text, newFault(FaultBadSignal, text)
		}
		return sig, text, nil
	}
	return 0, "", newFault(FaultIncorrectParameters)
}

func signalProcess(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	group, members, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return s.signalGroup(ctx, group, members, args[1])
	}
	sig, _, f := signalArg(args[1])
	if f != nil {
		return nil, f
	}
	if err := s.b.Signal(ctx, p.Group, p.Name, sig); err != nil {
		return nil, toFault(err, spec)
	}
	return true, nil
}

// signalMany is make_allfunc(processes, isSignallable, signalProcess),
// run at once.
func (s *Server) signalMany(ctx context.Context, procs []status.Process, sigArg any) []Struct {
	results := []Struct{}
	for _, p := range procs {
		if !p.State.IsSignallable() {
			continue
		}
		sig, _, f := signalArg(sigArg)
		if f == nil {
			if err := s.b.Signal(ctx, p.Group, p.Name, sig); err != nil {
				f = toFault(err, p.Namespec())
			}
		}
		results = append(results, result(p, f))
	}
	return results
}

// signalGroup is signalProcessGroup after the lookup: the SHUTDOWN_STATE
// check comes after the group check and again after the signals.
func (s *Server) signalGroup(ctx context.Context, group string, members []status.Process, sigArg any) (any, *Fault) {
	if s.b.ShuttingDown() {
		return nil, newFault(FaultShutdownState)
	}
	res := s.signalMany(ctx, members, sigArg)
	if s.b.ShuttingDown() {
		return nil, newFault(FaultShutdownState)
	}
	return res, nil
}

func signalProcessGroup(ctx context.Context, s *Server, args []any) (any, *Fault) {
	name, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	members, f := s.groupMembers(ctx, name)
	if f != nil {
		if s.b.ShuttingDown() {
			return nil, newFault(FaultShutdownState)
		}
		return nil, f
	}
	return s.signalGroup(ctx, name, members, args[1])
}

func signalAllProcesses(ctx context.Context, s *Server, args []any) (any, *Fault) {
	all, err := s.b.Processes(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	res := s.signalMany(ctx, all, args[0])
	if s.b.ShuttingDown() {
		return nil, newFault(FaultShutdownState)
	}
	return res, nil
}

// processInfo is getProcessInfo's struct for p, its description computed
// from whole seconds as Supervisor computes it.
func (s *Server) processInfo(p status.Process, now time.Time) Struct {
	start, stop, nowSec := epoch(p.Start), epoch(p.Stop), capInt(now.Unix())
	desc := s.description(p, now)
	return Struct{
		{"name", p.Name},
		{"group", p.Group},
		{"start", start},
		{"stop", stop},
		{"now", nowSec},
		{"state", StateCode(p.State)},
		{"statename", p.State.String()},
		{"spawnerr", p.SpawnErr},
		{"exitstatus", p.ExitStatus},
		{"logfile", p.StdoutLog},
		{"stdout_logfile", p.StdoutLog},
		{"stderr_logfile", p.StderrLog},
		{"pid", p.PID},
		{"description", desc},
	}
}

// description is the description member of p's process info at now:
// from the times as the struct carries them, in whole seconds.
func (s *Server) description(p status.Process, now time.Time) string {
	q := p
	q.Start = time.Unix(epoch(p.Start), 0)
	if p.Start.IsZero() {
		q.Start = time.Time{}
	}
	q.Stop = time.Unix(epoch(p.Stop), 0)
	return status.Description(q, time.Unix(capInt(now.Unix()), 0), s.loc())
}

// epoch is a time as Supervisor's capped_int of its float timestamp: 0
// for never.
func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return capInt(t.Unix())
}

func capInt(i int64) int64 {
	return min(max(i, minInt), maxInt)
}

func getProcessInfo(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	_, _, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return nil, newFault(FaultBadName, spec)
	}
	return s.processInfo(*p, s.now()), nil
}

// lexical sorts processes as _getAllProcesses(lexical=True): by group
// name, then process name.
func lexical(procs []status.Process) []status.Process {
	out := make([]status.Process, len(procs))
	copy(out, procs)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func getAllProcessInfo(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	all, err := s.b.Processes(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	now := s.now()
	out := make([]Struct, 0, len(all))
	for _, p := range lexical(all) {
		out = append(out, s.processInfo(p, now))
	}
	return out, nil
}

func getAllConfigInfo(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	groups, active, err := s.b.Configured(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	inUse := map[string]bool{}
	for _, g := range active {
		inUse[g] = true
	}
	// An active group's AUTO logs have their real names by now; the
	// running processes know them.
	running := map[[2]string]status.Process{}
	if len(active) > 0 {
		procs, err := s.b.Processes(ctx)
		if err != nil {
			return nil, toFault(err, "")
		}
		for _, p := range procs {
			running[[2]string{p.Group, p.Name}] = p
		}
	}
	type entry struct {
		name string
		info Struct
	}
	var entries []entry
	for _, g := range groups {
		use := inUse[g.Name]
		for _, p := range g.Processes {
			rp, hasRP := running[[2]string{g.Name, p.Name}]
			logValue := func(l translate.Log, runtime string) any {
				switch l.Kind {
				case translate.LogNone:
					return "none"
				case translate.LogAuto:
					if use && hasRP && runtime != "" {
						return runtime
					}
					return "auto"
				}
				return l.Path
			}
			var dir, uid, serverURL any = "none", "none", "none"
			if p.Dir != nil {
				dir = *p.Dir
			}
			if p.UID != nil {
				uid = *p.UID
			}
			if p.ServerURL != nil {
				serverURL = *p.ServerURL
			}
			exitcodes := p.ExitCodes
			if exitcodes == nil {
				exitcodes = []int{}
			}
			entries = append(entries, entry{p.Name, Struct{
				{"autostart", p.AutoStart},
				{"directory", dir},
				{"uid", uid},
				{"command", p.Command},
				{"exitcodes", exitcodes},
				{"group", g.Name},
				{"group_prio", g.Priority},
				{"inuse", use},
				{"killasgroup", p.KillAsGroup},
				{"name", p.Name},
				{"process_prio", p.Priority},
				{"redirect_stderr", p.RedirectStderr},
				{"startretries", p.StartRetries},
				{"startsecs", int64(p.MinUptime / time.Second)},
				{"stdout_capture_maxbytes", p.Stdout.CaptureMaxBytes},
				{"stdout_events_enabled", p.Stdout.EventsEnabled},
				{"stdout_logfile", logValue(p.Stdout, rp.StdoutLog)},
				{"stdout_logfile_backups", p.Stdout.Backups},
				{"stdout_logfile_maxbytes", p.Stdout.MaxBytes},
				{"stdout_syslog", p.Stdout.Syslog},
				{"stopsignal", int(p.StopSignal)},
				{"stopwaitsecs", int64(p.StopWait / time.Second)},
				{"stderr_capture_maxbytes", p.Stderr.CaptureMaxBytes},
				{"stderr_events_enabled", p.Stderr.EventsEnabled},
				{"stderr_logfile", logValue(p.Stderr, rp.StderrLog)},
				{"stderr_logfile_backups", p.Stderr.Backups},
				{"stderr_logfile_maxbytes", p.Stderr.MaxBytes},
				{"stderr_syslog", p.Stderr.Syslog},
				{"serverurl", serverURL},
			}})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	out := make([]Struct, len(entries))
	for i, e := range entries {
		out[i] = e.info
	}
	return out, nil
}

type channel int

const (
	stdout channel = iota
	stderr
)

func (c channel) String() string {
	if c == stderr {
		return "stderr"
	}
	return "stdout"
}

func (c channel) file(p *status.Process) string {
	if c == stderr {
		return p.StderrLog
	}
	return p.StdoutLog
}

// noFile is RPCError(NO_FILE, logfile): no detail when the logfile is
// None, else the path.
func noFile(path string) *Fault {
	if path == "" {
		return newFault(FaultNoFile)
	}
	return newFault(FaultNoFile, path)
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

func readLog(ctx context.Context, s *Server, args []any) (any, *Fault) {
	offset, f := argInt(args, 0)
	if f != nil {
		return nil, f
	}
	length, f := argInt(args, 1)
	if f != nil {
		return nil, f
	}
	if v, handled, f := s.keptMainOutput(ctx, offset, length); handled {
		return v, f
	}
	path := s.b.MainLogFile()
	if !exists(path) {
		return nil, noFile(path)
	}
	v, err := readFile(ctx, path, offset, length)
	if err != nil {
		return nil, toFault(err, "")
	}
	return v, nil
}

func clearLog(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	if err := s.b.ClearMainLog(ctx); err != nil {
		return nil, toFault(err, "")
	}
	return true, nil
}

// logArgs reads the (name, offset, length) arguments of the
// read/tailProcess*Log methods and returns the channel's log file.
func (s *Server) logArgs(ctx context.Context, c channel, args []any) (p *status.Process, offset, length int64, f *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, 0, 0, f
	}
	if offset, f = argInt(args, 1); f != nil {
		return nil, 0, 0, f
	}
	if length, f = argInt(args, 2); f != nil {
		return nil, 0, 0, f
	}
	_, _, p, f = s.lookup(ctx, spec)
	if f != nil {
		return nil, 0, 0, f
	}
	if p == nil {
		return nil, 0, 0, newFault(FaultBadName, spec)
	}
	return p, offset, length, nil
}

func readProcessLog(c channel) func(context.Context, *Server, []any) (any, *Fault) {
	return func(ctx context.Context, s *Server, args []any) (any, *Fault) {
		p, offset, length, f := s.logArgs(ctx, c, args)
		if f != nil {
			return nil, f
		}
		if v, handled, f := s.keptOutput(ctx, p, c, offset, length, false); handled {
			return v, f
		}
		path := c.file(p)
		if !exists(path) {
			return nil, noFile(path)
		}
		v, err := readFile(ctx, path, offset, length)
		if err != nil {
			return nil, toFault(err, "")
		}
		return v, nil
	}
}

func tailProcessLog(c channel) func(context.Context, *Server, []any) (any, *Fault) {
	return func(ctx context.Context, s *Server, args []any) (any, *Fault) {
		p, offset, length, f := s.logArgs(ctx, c, args)
		if f != nil {
			return nil, f
		}
		if v, handled, f := s.keptOutput(ctx, p, c, offset, length, true); handled {
			return v, f
		}
		path := c.file(p)
		if !exists(path) {
			return []any{"", 0, false}, nil
		}
		return tailFile(ctx, path, offset, length), nil
	}
}

func clearProcessLogs(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	_, _, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return nil, newFault(FaultBadName, spec)
	}
	if err := s.b.ClearLogs(ctx, p.Group, p.Name); err != nil {
		if kind, detail := status.KindOf(err); kind == status.ErrFailed && detail == "" {
			return nil, newFault(FaultFailed, spec)
		}
		return nil, toFault(err, spec)
	}
	return true, nil
}

func clearAllProcessLogs(ctx context.Context, s *Server, _ []any) (any, *Fault) {
	all, err := s.b.Processes(ctx)
	if err != nil {
		return nil, toFault(err, "")
	}
	results := []Struct{}
	for _, p := range all {
		var f *Fault
		if err := s.b.ClearLogs(ctx, p.Group, p.Name); err != nil {
			if kind, detail := status.KindOf(err); kind == status.ErrFailed && detail == "" {
				f = newFault(FaultFailed, p.Namespec())
			} else {
				f = toFault(err, p.Namespec())
			}
		}
		results = append(results, result(p, f))
	}
	return results, nil
}

func sendProcessStdin(ctx context.Context, s *Server, args []any) (any, *Fault) {
	spec, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	var data []byte
	switch v := args[1].(type) {
	case string:
		data = []byte(v)
	case []byte:
		data = v
	default:
		// Supervisor: RPCError(INCORRECT_PARAMETERS, chars)
		return nil, newFault(FaultIncorrectParameters, pythonStr(v))
	}
	_, _, p, f := s.lookup(ctx, spec)
	if f != nil {
		return nil, f
	}
	if p == nil {
		return nil, newFault(FaultBadName, spec)
	}
	if err := s.b.WriteStdin(ctx, p.Group, p.Name, data); err != nil {
		if kind, detail := status.KindOf(err); kind == status.ErrNoFile && detail == "" {
			return nil, newFault(FaultNoFile, spec)
		}
		return nil, toFault(err, spec)
	}
	return true, nil
}

// pythonStr is str(v) for the scalar values a call can carry.
func pythonStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return pythonRepr(v)
	case time.Time:
		return v.Format("2006-01-02 15:04:05")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if s, ok := e.(string); ok {
				parts[i] = "'" + s + "'"
			} else {
				parts[i] = pythonStr(e)
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return "{...}"
	}
	return ""
}

func sendRemoteCommEvent(ctx context.Context, s *Server, args []any) (any, *Fault) {
	typ, f := argString(args, 0)
	if f != nil {
		return nil, f
	}
	data, f := argString(args, 1)
	if f != nil {
		return nil, f
	}
	if err := s.b.SendRemoteComm(ctx, typ, data); err != nil {
		return nil, toFault(err, "")
	}
	return true, nil
}

func listMethods(context.Context, *Server, []any) (any, *Fault) {
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func methodHelp(_ context.Context, _ *Server, args []any) (any, *Fault) {
	name, _ := args[0].(string)
	if doc, ok := docstrings[name]; ok {
		return doc, nil
	}
	return nil, newFault(FaultSignatureUnsupported)
}

func methodSignature(_ context.Context, _ *Server, args []any) (any, *Fault) {
	name, _ := args[0].(string)
	doc, ok := docstrings[name]
	if !ok {
		return nil, newFault(FaultSignatureUnsupported)
	}
	sig := signature(doc)
	if sig == nil {
		return nil, newFault(FaultSignatureUnsupported)
	}
	return sig, nil
}

// signature is SystemNamespaceRPCInterface.methodSignature's reading of a
// docstring by gettags: the type of the last @return, then each @param's.
func signature(doc string) []string {
	var rtype *string
	var ptypes []string
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "@") {
			continue
		}
		parts := strings.Fields(line)
		datatype := ""
		if len(parts) > 1 {
			datatype = parts[1]
		}
		switch parts[0][1:] {
		case "return":
			rtype = &datatype
		case "param":
			ptypes = append(ptypes, datatype)
		}
	}
	if rtype == nil {
		return nil
	}
	return append([]string{*rtype}, ptypes...)
}

func multicall(ctx context.Context, s *Server, args []any) (any, *Fault) {
	calls, ok := args[0].([]any)
	if !ok {
		return nil, newFault(FaultIncorrectParameters)
	}
	results := make([]any, 0, len(calls))
	faultStruct := func(f *Fault) Struct {
		return Struct{{"faultCode", f.Code}, {"faultString", f.String}}
	}
	for _, c := range calls {
		call, ok := c.(map[string]any)
		if !ok {
			results = append(results, faultStruct(newFault(FaultIncorrectParameters)))
			continue
		}
		name, hasName := call["methodName"]
		var params []any
		if p, ok := call["params"]; ok {
			ps, ok := p.([]any)
			if !ok {
				results = append(results, faultStruct(newFault(FaultIncorrectParameters)))
				continue
			}
			params = ps
		}
		var v any
		var f *Fault
		switch {
		case !hasName || name == nil:
			f = newFault(FaultIncorrectParameters, "No methodName")
		case name == "system.multicall":
			f = newFault(FaultIncorrectParameters, "Recursive system.multicall forbidden")
		default:
			n, ok := name.(string)
			if !ok {
				f = newFault(FaultUnknownMethod)
				break
			}
			v, f = s.call(ctx, n, params)
		}
		if f != nil {
			results = append(results, faultStruct(f))
		} else {
			results = append(results, v)
		}
	}
	return results, nil
}

var errBadSignal = errors.New("not a valid signal")

// parseSignal is Supervisor's datatypes.signal_number for a string: an
// int() in SIGNUMS, or a signal name, "SIG" optional, any case.
func parseSignal(v string) (syscall.Signal, error) {
	sig, err := translate.SignalNumber(v)
	if err != nil {
		return 0, errBadSignal
	}
	return sig, nil
}
