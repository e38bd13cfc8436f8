// Command supersede retires Supervisor without rewriting its configuration.
//
// Usage:
//
//	supersede show [-c FILE] [--json] [--no-exec] [--portable] [--lenient]
//	               [--env NAME=VALUE]... [--env-file FILE]
//	supersede convert [-c FILE] [-o DIR] [--user] [--prefix P] [--systemd-version N]
//	                  [--log-files] [--strict] [--dry-run] [--diff] [--prune] [--force]
//	supersede generator NORMAL-DIR [EARLY-DIR LATE-DIR]
//	supersede run [-c FILE] [supervisord's options] [--exit-on-fatal[=NAME,...]]
//	supersede version
//	supersede help [COMMAND]
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
//
// Invoked as supervisord (a symlink), supersede is `supersede run`; as
// supersede-generator, it is `supersede generator`.
//
// Exit status: 0 on success, 1 on a runtime error, 2 on a configuration
// or usage error (configuration errors are printed to stderr as
// file:line: message, every problem found, the one supervisord itself
// would report first); run also exits 3 after --exit-on-fatal.
package main
