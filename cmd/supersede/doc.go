// Command supersede retires Supervisor without rewriting its configuration.
//
// Usage:
//
//	supersede show [-c FILE] [--json] [--no-exec] [--portable] [--lenient]
//	               [--env NAME=VALUE]... [--env-file FILE]
//	supersede version
//	supersede help [COMMAND]
//
// show prints what Supervisor 4.2.5 would understand of a supervisord.conf
// and its includes: a summary for people, or with --json the document of
// shared/oracle/supervisor-parse.py, so that parity with the real
// Supervisor is a diff. Without -c the file is searched for where
// supervisord searches (see translate.SearchPaths).
//
// Exit status: 0 when the configuration is valid, 1 on a runtime error, 2
// on a configuration or usage error; configuration errors are printed to
// stderr as file:line: message, every problem found, the one supervisord
// itself would report first.
package main
