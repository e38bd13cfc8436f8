// Package difftest holds the differential behaviour tests of supersede
// run: each scenario runs the same configuration and steps under the real
// supervisord 4.2.5 and under `supersede run`, observes both through the
// real supervisorctl (and /proc and files the programs write), and
// compares the two transcripts after normalising pids, uptimes, dates and
// directories. The real supervisord is the reference: a scenario it fails
// is a bug of the scenario or of the harness (internal/fallbacktest).
//
// SUPERSEDE_DIFFTEST_DAEMON=supervisord runs the real supervisord on both
// sides, which shows that a scenario is deterministic enough to compare.
//
// The package has no code besides its tests.
package difftest
