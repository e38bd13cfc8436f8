// Package shim is supersede's compatibility step: the small part of
// Supervisor's process rules that no systemd 252 directive can express,
// run by systemd around a converted program (docs/MAPPING.md).
//
// A unit that unitgen writes for a program which Supervisor would retry
// runs
//
//	ExecStartPre=/usr/local/bin/supersede shim backoff STATE STARTRETRIES [--chdir DIR] [--locale] [--fatal-status N]
//	ExecStart=/usr/local/bin/supersede shim exec --state STATE PATH ARGV0 ARGS...
//	ExecStartPost=/usr/local/bin/supersede shim startsecs STATE STARTSECS
//	ExecStopPost=/usr/local/bin/supersede shim exited STATE [0] [--once]
//
// STATE is the unit's RuntimeDirectory= (%t/supersede/%N, kept across
// automatic restarts only), where one file, "failures", counts the starts
// in a row that did not reach RUNNING. "backoff" is Supervisor's BACKOFF:
// after N such starts it waits N seconds (1 s, 2 s, 3 s ...) before the
// next, and after STARTRETRIES+1 of them it fails (exit 1, or N where
// the unit's SuccessExitStatus= has 1), which ends the unit failed with
// no restart: Supervisor's FATAL. A second file, "wait", marks whether
// the step of the start now beginning or running waits (or gives up):
// internal/sysd reads BACKOFF from it alone (WaitFile). With --chdir it makes
// Supervisor's chdir check, and writes Supervisor's own lines to the
// unit's stderr (the journal) when the directory is missing. With
// --locale it writes the LC_CTYPE supervisord's Python would have set for
// itself and its children (translate.CoercedLocale) into a file the unit
// reads (EnvironmentFile=).
// "startsecs" is Supervisor's STARTING: the unit stays activating until
// the program has run STARTSECS seconds; then the count is cleared. If
// the program dies first, whatever its exit status, the step ends by
// SIGTERM, so systemd counts the start as failed and restarts the unit
// (Restart=on-abnormal), as Supervisor retries any death within
// startsecs. "exited" catches the one death "startsecs" cannot see: a
// program that ends before systemd starts the step (systemd then takes an
// exit 0 as a clean end), which it also turns into a failed start.
// Under autorestart=false (--once), every exit status but the step's own
// and every signal is a success for the unit, but systemd restarts after
// a core dump or the OOM killer whatever SuccessExitStatus= says: after
// such an end past startsecs that no stop or restart job asked for,
// "exited" marks WaitEnded with the end (EndFile), and the restart's
// "backoff" refuses to start the program, failing as it does when it
// gives up: Supervisor's EXITED, which internal/sysd reads from the mark
// (it asks the manager for the unit's job: the one call a step makes,
// only then).
//
// "exec [--state STATE] PATH ARGV0 ARGS..." runs the program: it ignores
// SIGPIPE and SIGXFSZ, as a child of supervisord starts (Python ignores
// both; systemd has no directive for SIGXFSZ), records the time in
// STATE, from which "startsecs" counts (it waits for the exec first), and
// the run beside STATE (RunPrefix: the invocation ID, its pid and start
// tick and that time, which internal/sysd reads for a status instead of
// asking the manager; a record it cannot write is no error), and execs
// it, so the program stays the unit's main process. An exec that fails
// ends as Supervisor's child does: its two lines on stderr where
// supervisord's own checks would not have caught it before the fork, and
// exit 127.
//
// "spawn-error MESSAGE" is the ExecStart of a program supervisord
// cannot spawn (an unclosed quote in command=, an empty command =): every
// start fails, so the unit goes through BACKOFF to FATAL as supervisord
// takes that program, and only that one.
//
// "hold-stdin" runs an event listener with a standard input that never
// reaches end-of-file: systemd delivers no Supervisor events, and a
// listener given /dev/null reads EOF at once and crashes. It is used
// where no supersede serve runs the configuration's pools.
//
// "listen --user|--system SOCKET PATH ARGV..." runs an event listener
// with standard input and output connected to supersede serve's events
// socket (internal/serve): serve speaks Supervisor's listener protocol
// with it.
//
// The steps print nothing else: what they would say, supervisord says in
// its own log, not in the program's. They read and write only STATE and
// the files beside it (STATE+LastRunSuffix, the exec step's record), and
// link nothing but the standard library, x/sys and translate (the
// manager's answer to "exited" comes through UnitJob, which
// cmd/supersede sets to internal/sysd's).
package shim
