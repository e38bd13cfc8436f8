// Package events is Supervisor 4.2.5's event system for supersede run
// (supervisor.md §10): the event types and their payload texts, the
// global and per-pool serial numbers, the listener pools of
// [eventlistener:x] groups with their buffers, and the listener protocol
// (READY, the event header and payload, RESULT) spoken over a listener
// process's stdin and stdout. The TICK_5/60/3600 clock runs only while
// some pool subscribes to a TICK type.
//
// It owns no process: package fallback spawns, watches and reaps the
// listener processes, reads their output and hands this package the
// bytes, and publishes the events it witnesses. This package never calls
// into fallback, never blocks its caller on a listener, and imports only
// translate and internal/status.
//
// # Fidelity
//
// Payloads and headers are byte for byte Supervisor's (the tests compare
// them with Supervisor's own events.py), including its quirks:
//
//   - len: in the header counts the payload's characters, not its bytes,
//     as Python's len() of a str does (Python listeners read their
//     text-mode stdin in characters).
//   - A pool subscribed to an event type twice over (events=EVENT,
//     PROCESS_STATE) buffers, and is sent, each such event twice, with the
//     same serials.
//   - Output that is not UTF-8 is rendered "Undecodable: b'...'".
//   - Main-log messages (debug, warnings, "pool x event buffer
//     overflowed, discarding event N") have Supervisor's exact text.
//
// Deliberate differences: an event is sent as soon as a listener can take
// it rather than at the next turn of a main loop; a listener whose stdin
// write is still pending gets no second event (Supervisor would buffer
// without bound); a result line with a negative length, or a result line
// longer than 64 KiB without its newline, is a protocol error (UNKNOWN)
// where Supervisor wedges or buffers without bound; a listener whose stdin
// cannot be written (EPIPE) is not tried again, where Supervisor tries and
// fails again at each dispatch; the TICK clock keeps its last timeslices
// across a reload; only the default result_handler exists (supersede runs
// no Python).
//
// # Wiring (for package fallback)
//
// One Bus lives as long as the daemon, across reloads, because
// Supervisor's global serial survives a restart:
//
//	bus := events.NewBus(events.Options{Identifier: cfg.Supervisord.Identifier, Logger: mainLog})
//	defer bus.Close() // when the main loop has ended
//
// A full reload (SIGHUP, supervisor.restart) drops every pool silently,
// as Supervisor's events.clear() does: bus.RemovePool for each, with no
// PROCESS_GROUP_REMOVED; then bus.SetIdentifier(newCfg.Supervisord.Identifier)
// and the new configuration's groups are added as at startup.
//
// Groups. When a group with Type == translate.GroupEventListener is added
// (startup, reload, update, add): pool, err := bus.AddPool(g) (an error is
// a configuration error: report it as such), then publish
// PROCESS_GROUP_ADDED; a pool hears its own group's PROCESS_GROUP_ADDED,
// as in Supervisor. For every group, listener pool or not:
//
//	bus.Publish(events.NewProcessGroupAdded(g.Name))   // after adding it
//	bus.RemovePool(pool)                               // removing a pool, once its processes are stopped
//	bus.Publish(events.NewProcessGroupRemoved(g.Name)) // after removing any group
//
// Supervisor's state. bus.Publish(events.NewSupervisorRunning()) once the
// groups of a start or reload are added, before the main loop;
// bus.Publish(events.NewSupervisorStopping()) when shutdown or restart
// begins.
//
// Every process's state change (listeners too), right after the new state
// is set, and only when the state really changes:
//
//	bus.Publish(events.NewProcessState(events.StateChange{
//		Name: p.Name, Group: p.Group, From: old, To: new,
//		Tries: backoff, // STARTING, BACKOFF: the backoff counter after the change (0 on a first start)
//		Expected: exp,  // EXITED: whether the exit code was expected
//		PID: pid,       // the pid as the change happens: the exiting pid for EXITED and STOPPED, 0 when none
//	}))
//
// Output events, where Supervisor's POutputDispatcher emits them:
// NewProcessLog(ch, src, data) for each chunk written to a channel's log
// (after strip_ansi) when stdout_events_enabled / stderr_events_enabled;
// NewProcessCommunication(ch, src, data) when a capture between
// CommunicationBegin and CommunicationEnd ends (*_capture_maxbytes > 0).
// The XML-RPC call supervisor.sendRemoteCommEvent(type, data) publishes
// NewRemoteCommunication(type, data). Use bus.Subscribed(t) to skip
// building events nobody takes. TICK events need nothing: the bus emits
// them.
//
// A listener process (a process of a listener pool):
//
//   - Spawn: give it pipes for stdin, stdout and stderr (stderr is never
//     redirected), then l, err := pool.Attach(proc.Name, stdinWriteEnd).
//   - State changes: l.SetProcessState(new) before publishing the change.
//     Only a RUNNING listener is sent events.
//   - Stdout: every chunk read goes to l.Output(chunk). Stdout is the
//     protocol channel: it makes no PROCESS_LOG_STDOUT events, has no
//     capture mode, and fallback logs no "'name' stdout output:" debug
//     line for it (Output logs Supervisor's). Like Supervisor, still write
//     the bytes to the process's stdout log file when it has one: there
//     `supervisorctl tail` shows "READY", "RESULT 2", "OK".
//   - Stderr: as any program's stderr (log file, events, capture).
//   - Exit: once the process is reaped and its state change (EXITED,
//     STOPPED, ...) is published, deliver any stdout still unread, call
//     l.Exit(), and close the stdin write end. An event it was handling
//     goes back to the head of the buffer and to another listener.
//
// Nothing here polls or ticks while idle: a Bus with no TICK subscriber
// has no timer, and goroutines exist only while an event is being
// written to a listener.
package events
