// Package logfile writes, rotates and reads log files as Supervisor 4.2.5
// does, and moves child output into them.
//
// It owns:
//   - File: one *_logfile (or the main log file) as Supervisor's
//     FileHandler and RotatingFileHandler write it: appended, rolled over
//     to NAME.1 … NAME.N after a write leaves it at maxbytes or more,
//     reopened on SIGUSR2, cleared by clearProcessLogs. Special files
//     (/dev/stdout, /dev/stderr, /dev/fd/N, pipes, ttys) are written
//     without rotation, where Supervisor crashes (Supervisor#1078).
//   - CreateAuto and ClearAutoDir: AUTO log names in childlogdir.
//   - Syslog: the *_syslog and logfile=syslog destination (/dev/log).
//   - MainLog: the daemon's own log, an slog.Handler writing Supervisor's
//     "YYYY-MM-DD HH:MM:SS,mmm LEVEL message" lines; to a pipe or a tty
//     without ever waiting for its reader (behind.go).
//   - Pump: one goroutine and one epoll set that move the output of every
//     child pipe into its File, applying strip_ansi, capture mode
//     (PROCESS_COMMUNICATION), per-line prefixes and syslog, and handing
//     chunks to callbacks for events and debug lines.
//
// Reading logs for the XML-RPC API (readLog, tailProcessLog) is
// internal/logread's, which the server uses by path.
//
// It does not know processes, states or configuration: fallback decides
// which path, rotation and options each channel gets, and when a child
// has exited. It uses only the standard library (syscall for epoll and
// pipes), and it is Linux-only.
package logfile
