// Package daemon is the skeleton the two daemons of supersede share:
// `supersede run` (supervisord in Go, package fallback) and `supersede
// serve` (supervisord's API for systemd units, package internal/serve).
//
// It owns what a supervisord-like process does around its work, with
// supervisord 4.2.5's behaviour and messages:
//
//   - the listeners of [unix_http_server] and [inet_http_server]
//     (Listen: the unix socket created with its chmod= and chown=
//     before anyone can connect, supervisord's errors for a socket in
//     use or that cannot be opened; Inherit: the sockets a daemonizing
//     parent passed on) and the HTTP Basic credentials of each (AuthOf);
//   - the pidfile (WritePidfile, atomically);
//   - the main log (OpenMainLog: supervisord's logfile, rotation, syslog
//     and -n's copy on stdout; JournalLogger: a daemon under systemd,
//     whose stderr is the journal);
//   - daemonizing (Daemonize and Enter: Go cannot fork, so the daemon is
//     this program executed again, under the name it was invoked by, so
//     that ps and pgrep show supersede or supervisord, never "exe");
//   - dropping privileges and raising rlimits (DropPrivileges,
//     SetRlimits: supervisord's set_uid_or_exit and set_rlimits_or_exit);
//   - the signals a supervisord obeys (Signals).
//
// Errors that supervisord reports with its usage() ("Error: ..." and
// exit status 2) are *UsageError carrying supervisord's own text; the
// command decides how to print them under the name it was invoked by.
//
// It must not supervise (fallback does), speak D-Bus (internal/sysd),
// parse XML-RPC (internal/xmlrpc: Listen uses its ListenUnix and
// ListenInet), read the configuration (translate), nor parse flags or
// choose exit codes (cmd/supersede). It writes nothing but the files it
// is given (pidfile, log, sockets) and removes nothing it did not make.
package daemon
