// Package serve is `supersede serve`: Supervisor's XML-RPC API (POST
// /RPC2 with system.multicall, GET /logtail and /mainlogtail) served for
// the units of one supervisord.conf, on the listeners of its
// [unix_http_server] and [inet_http_server] sections, so that programs
// written against supervisord (the real supervisorctl, Python's
// xmlrpc.client, Ansible's supervisorctl module, dashboards) keep working
// after the move to systemd.
//
// It owns the daemon's life, not the protocol or the systemd side: the
// API's rules are internal/xmlrpc's (a Server over a Backend), the
// Backend is internal/sysd's Manager, and the listeners come from the
// caller (cmd/supersede: inherited from systemd's socket activation, or
// opened with the sections' chmod and chown by internal/daemon, the
// skeleton supersede run uses too). What it adds:
//
//   - it follows the manager: after every daemon-reload (which reruns
//     the generator on the same configuration) it reads the
//     configuration again and serves its units from then on; a
//     configuration with errors leaves the last good one in place;
//   - a process whose output goes to the journal (the default of the
//     units) has its output read from there (xmlrpc.OutputKeeper), and
//     readLog reads the manager's own messages, as supersede ctl does;
//   - it idles at no cost: nothing polls, every wake-up is a request, a
//     listener's message or a signal from the manager.
//
// # Events and event listener pools
//
// serve is also supervisord's event system for the units (events.go),
// with fallback/events' Bus, pools and listener protocol, the same code
// supersede run uses:
//
//   - PROCESS_STATE_* come from the manager's D-Bus signals (each unit's
//     PropertiesChanged: its active and sub state and its job), through
//     sysd.WatchStates, which derives Supervisor's state with the same
//     function status uses and fills in the transitions a reading skipped
//     along Supervisor's state machine, with its backoff counter (tries),
//     expected and pid; a run is told by its start's InvocationID. No
//     restart attempt is lost to a late reading: each run the signals
//     reported (every Service PropertiesChanged carries the run's
//     ExecMain* and NRestarts) that came and went between two readings
//     is replayed as the readings it would have given (sysd's replay.go).
//     An ended program's unit running its stop steps, which status
//     shows as STOPPING, is taken as Supervisor's EXITED there, so no
//     transition goes through it (sysd's track.settle); the
//     compatibility step marks its backoff waits and its giving up
//     itself, so status reads those as Supervisor has them. The watch
//     runs only while the configuration has
//     an [eventlistener:x] pool (whose listeners' own states it gives);
//     it costs nothing while no unit changes. Its one timer is for a
//     unit STARTING by the clock (without the compatibility step).
//   - PROCESS_GROUP_ADDED and _REMOVED follow the API's addProcessGroup
//     and removeProcessGroup (supervisorctl update, add, remove), and are
//     published for every group at start-up, as supervisord does;
//     SUPERVISOR_STATE_CHANGE_RUNNING when serve starts, _STOPPING when
//     it stops or supervisor.shutdown is called; REMOTE_COMMUNICATION
//     from supervisor.sendRemoteCommEvent; TICK_* from the bus, whose
//     clock runs only while a pool subscribes to a TICK type.
//   - PROCESS_LOG_* of processes with stdout_events_enabled or
//     stderr_events_enabled come from the journal, one `journalctl -f`
//     per such process while a pool subscribes to them, a line per
//     event, of the enabled channel (the journal does not record the
//     stream).
//   - PROCESS_COMMUNICATION_* cannot be: the units' output goes to the
//     journal, not through serve, so no capture mode can be seen.
//
// The listener processes are units, not children of serve: each
// [eventlistener:x] process is a unit like any program (systemd starts,
// restarts and stops it with Supervisor's rules through the
// compatibility step; status, start, stop and signal work on it as on
// the others), whose step `supersede shim listen` connects its standard
// input and output to serve's events socket (unitgen.EventsSocket) and
// execs the listener. serve attaches the connection to the pool of the
// process whose unit the peer runs in (SO_PEERCRED, then its cgroup: a
// connection from any other process is refused, so the socket may be
// open to every user=), and speaks Supervisor's listener protocol on it.
// So one process model serves every program, and a listener restarted
// by systemd reconnects; as children of serve, listeners would need a
// second supervisor inside serve, with states status could not show. The
// events socket activates serve, as the API socket does.
//
// Who may control the programs is decided by the listeners alone, as
// under supervisord: the unix socket's owner and mode (chmod=, chown=)
// and the sections' username and password. serve runs with the
// credentials of its manager's client (root for the system manager,
// the user for a user manager) and grants nothing beyond what reaching
// the socket grants.
//
// It must not speak D-Bus itself (internal/sysd does) nor parse
// XML-RPC (internal/xmlrpc does).
package serve
