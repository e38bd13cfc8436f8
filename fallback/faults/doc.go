// Package faults is the fault suite of `supersede run`: the operator's
// worst day, run on every `go test ./...` (issue 15). Each case starts
// the built supersede binary as a subprocess (and, where supervisord
// copes with the same fault, the real supervisord 4.2.5 beside it), does
// something hostile or broken to it, and asserts three things of
// supersede: the daemon's answer, a latency bound and a memory bound.
// The bounds are generous, to catch hangs and leaks rather than to
// measure: the figures are bench/fallback/storm.sh's, in
// docs/PERFORMANCE.md.
//
// The cases:
//
//   - a crash storm: programs of /bin/false with autorestart=true and
//     startsecs=0; getAllProcessInfo answers through it, SIGTERM ends the
//     daemon and every program within stopwaitsecs;
//   - a corpus of hostile requests (malformed, billion laughs, entity
//     expansion, XXE, deep nesting, wrongly typed calls, huge bodies:
//     internal/hostile, which serve's suite sends too), and many huge
//     bodies at once;
//   - wrongly typed arguments for every method the daemon lists;
//   - slow clients (a header or a body trickled), abandoned clients
//     (gone before the answer, or in the middle of a sendProcessStdin
//     that could not write at once);
//   - descriptor exhaustion: 2000 idle connections under minfds=1024;
//   - a full file system under the logs (a 1 MiB tmpfs mounted in a
//     private mount namespace, gone with the daemon);
//   - the daemon SIGKILLed and started again on its stale socket and
//     pidfile;
//   - SIGHUP with an invalid configuration, with stdout and stderr in one
//     file (nothing may overwrite the log).
//
// The suite talks to the daemons only over their unix sockets and
// signals only the processes it started, by PID; it removes every
// process, socket and file it made. It shares fallbacktest's build of
// supersede and its /proc reading, and does not import the code under
// test: its small XML-RPC codec is its own.
package faults
