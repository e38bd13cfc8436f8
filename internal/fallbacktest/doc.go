// Package fallbacktest runs a supervisor daemon for tests: the real
// supervisord 4.2.5 (/usr/bin/supervisord) or `supersede run`, on a
// generated configuration in a private temporary directory, and drives it
// with the real supervisorctl (/usr/bin/supervisorctl). It is the shared
// harness of the differential tests (fallback/difftest), which run one
// scenario under both daemons and compare what supervisorctl prints.
//
// A Daemon answers on a unix socket in its directory; Ctl runs
// supervisorctl against it; WaitState polls `supervisorctl status` with a
// deadline, never a fixed sleep; Normalize takes pids, uptimes, dates and
// the directory out of an output so two runs can be compared. Teardown
// (registered with t.Cleanup) shuts the daemon down through supervisorctl,
// then by its PID with a timeout, and then checks through /proc that no
// process of its tree survived, killing (by PID) and reporting any that
// did. It only ever signals processes it started or that descend from them.
//
// A package whose tests start `supersede run` must call Main from its
// TestMain: supersede is built once per test process, and Main removes
// the build when the tests end.
//
// This package must not import the code under test (fallback,
// internal/xmlrpc): it observes the daemon only from outside, through its
// socket, its processes and supervisorctl, as a user would.
package fallbacktest
