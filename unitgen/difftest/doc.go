// Package difftest holds the differential behaviour tests of the systemd
// side, the counterpart of fallback/difftest: each scenario runs the same
// configuration and steps once on the real supervisord 4.2.5, driven by
// the real supervisorctl, and once as units made by `supersede convert
// --user` on a real systemd user manager with its own journald
// (internal/sdtest), driven by `supersede ctl --user`. Each side records a
// transcript of what it saw: control texts and exit codes, states over
// time, spawn counts, start and stop order, what the programs saw (argv,
// environment, directory, umask, user, signals, process group) and what
// `tail` shows; the two transcripts are compared after normalising pids,
// uptimes, dates and directories.
//
// Where supervisord's own loop (it notices some transitions only at its
// next turn, about once a second) makes the real supervisord unrepeatable,
// a scenario takes `supersede run` as the reference instead, the specified
// outcome, and says so.
//
// testdata/sd-divergences.txt lists the scenarios whose transcripts still
// differ, with what differs, why and what the user can do. A difference
// that is not listed fails the test, and so does a listed one that no
// longer occurs. The README's table of how close the units come to
// supervisord is generated from that file and the scenario list
// (go test ./unitgen/difftest -run TestReadmeTable -update rewrites it).
//
// The package has no code besides its tests.
package difftest
