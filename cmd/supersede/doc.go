// Command supersede retires Supervisor without rewriting its configuration.
//
// Usage:
//
//	supersede show [-c FILE] [--json] [--no-exec] [--portable] [--lenient]
//	               [--env NAME=VALUE]... [--env-file FILE]
//	supersede convert [-c FILE] [-o DIR] [--user] [--prefix P] [--systemd-version N]
//	                  [--log-files] [--strict] [--dry-run] [--diff] [--prune] [--force]
//	supersede generator NORMAL-DIR [EARLY-DIR LATE-DIR]
//	supersede ctl [--user|--system] [--prefix P] [--log-files] [-c FILE] [-s URL]
//	              [-u USER] [-p PASSWORD] [-i] [-r HISTFILE] [COMMAND [ARGS]]
//	supersede run [-c FILE] [supervisord's options] [--exit-on-fatal[=NAME,...]]
//	supersede serve [-c FILE] [--user|--system] [--prefix P] [--log-files]
//	                [--pidfile FILE]
//	supersede migrate [-c FILE] [--user|--system] [--plan] [--rollback] [--group G]...
//	                  [-o DIR] [--state FILE] [--link-dir DIR] [-s URL] [-u USER] [-p PASSWORD]
//	supersede sample-config
//	supersede completion bash|zsh|fish
//	supersede version (or -v, --version)
//	supersede help [COMMAND]
//
// `supersede help COMMAND` prints a command's usage line, generated from
// its flag set, and its about text (help.go); the man pages (make
// install, a build with the tag mangen) and the completion scripts are
// generated from the same (internal/clidoc).
//
// show prints what Supervisor 4.2.5 would understand of a supervisord.conf
// and its includes: a summary for people, or with --json the document of
// shared/oracle/supervisor-parse.py, so that parity with the real
// Supervisor is a diff. Without -c the file is searched for where
// supervisord searches (see translate.SearchPaths).
//
// convert turns the configuration into systemd units (package unitgen),
// printed or written atomically into a directory, never replacing a unit
// it did not write. generator is the same as a systemd generator
// (cmd/supersede-generator). run supervises the programs itself, as
// supervisord does (package fallback), serving Supervisor's XML-RPC API.
// ctl is supervisorctl 4.2.5 (package internal/ctl): over D-Bus to the
// config's units when --user or --system is given or the host runs
// systemd without -s (internal/sysd), else over XML-RPC to the serverurl.
// serve answers supervisord's XML-RPC API for the config's units on its
// [unix_http_server] and [inet_http_server] (internal/serve), on the
// sockets systemd passes (the supersede-serve.socket that convert and
// the generator write) or on sockets it opens. migrate moves a running
// supervisord's programs to the units group by group, with --plan and
// --rollback (internal/migrate).
//
// run and serve are flags and wiring around internal/daemon, the
// skeleton both daemons share (listeners, pidfile, main log,
// daemonizing, privileges, signals).
//
// Invoked as supervisord (a symlink), supersede is `supersede run`, and
// its errors are supervisord's ("Error: ...", "For help, use PATH -h");
// as `supersede run` they read "supersede run: ..."; as
// supervisorctl, `supersede ctl`; as echo_supervisord_conf, `supersede
// sample-config`; as supersede-generator, `supersede generator`.
//
// Exit status: 0 on success, 1 on a runtime error, 2 on a configuration
// or usage error (configuration errors are printed to stderr as
// file:line: message, every problem found, the one supervisord itself
// would report first); run also exits 3 after --exit-on-fatal; ctl exits
// as supervisorctl does (0, 1, 2, 3, 4, 7: see internal/ctl).
package main
