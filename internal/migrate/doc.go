// Package migrate is `supersede migrate`: it moves a live host from
// supervisord to systemd, one group at a time, with a way back.
//
// The two sides are driven through the code the rest of supersede uses:
// supervisord through its XML-RPC API (internal/xmlrpc's client, as
// supersede ctl reaches it: [supervisorctl] serverurl and credentials),
// systemd through internal/sysd (jobs, Supervisor's states of the units,
// the journal), and the units are those of unitgen, as convert writes
// them (atomically; a unit file supersede did not write is never
// replaced: every unit is planned before the first is written).
//
// # Steps
//
// Run takes these steps, each recorded in the state file (State, written
// atomically) before it is taken and marked done after:
//
//  0. (no step) read supervisord's processes and states, how it was
//     started (/proc/PID: argv, directory, environment, cgroup; the
//     service unit of that cgroup if supervisord is its main process),
//     check that it runs the configuration's processes, plan every unit;
//     write the state file.
//  1. per group, in Supervisor's order (priority, then name):
//     units: write the group's units (services, group target, fcgi
//     socket) and daemon-reload;
//     stop: read the group's states again, record them, stopProcessGroup
//     in supervisord (its stopsignal, stopwaitsecs);
//     start: start the units of the processes that ran (STARTING,
//     RUNNING, BACKOFF) and wait until each is RUNNING by Supervisor's
//     rule (sysd's Start and WaitStarted: startsecs), printing each
//     one's downtime; one that was in BACKOFF (failing to start) is
//     started and not waited for; the others stay stopped.
//     If one does not get there: back: the group's units are stopped
//     (those of the processes supervisord listed, and every unit file
//     migrate wrote for the group: the record, not the file as it is now),
//     its processes started again in supervisord, its unit files
//     removed, its steps forgotten; the run stops with a *Failed naming
//     the programs, after printing each one's unit state, result and
//     last output.
//  2. once every group has moved: host: the anchor target and the serve
//     units; shutdown: supervisord stopped (through its unit, else the
//     shutdown call) and waited for; disable: its unit disabled (a
//     supervisord started otherwise has nothing to disable, which is
//     said); enable: the anchor target (and serve socket) enabled for the
//     next boot and the serve socket started, so that clients at the
//     serverurl reach the units; link: supervisorctl in LinkDir linked to
//     supersede unless something else is there; done.
//
// The anchor target is enabled, not started: starting it would start
// every autostart program, also those that were stopped in supervisord.
//
// Every step is idempotent, so an interrupted run is resumed by running
// again: a step begun and not done is taken again. Rollback undoes from
// the same record, whatever was reached: the link and the enabled units
// first; then, if supervisord still answers, each moved group in
// reverse order (its units stopped, its processes that ran started in
// supervisord); if migrate stopped supervisord, every moved group's
// units are stopped, its unit re-enabled, supervisord started as it was
// (its unit, or its argv, directory and environment, detached) and each
// process put back in its recorded state; last the unit files migrate
// created are removed (those it replaced are put back) and the state
// file is deleted.
//
// Options.CrashAfter (SUPERSEDE_MIGRATE_CRASH_AFTER=N in the command)
// kills migrate with SIGKILL right after its N-th step, before the step
// is marked done: the tests of an interrupted migration use it.
package migrate
