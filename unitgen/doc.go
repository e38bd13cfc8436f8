// Package unitgen turns a translate.Config into systemd units that behave
// as Supervisor did: one service per process after numprocs expansion,
// a target per group whose processes are named apart from it, a socket
// unit per fcgi-program, and an anchor target that keeps the units
// loaded (reference/systemd.md §1–§2, §5.3).
//
// Generate maps; Plan, Apply and WriteDir write the result into a unit
// directory atomically, never replacing a unit file supersede did not
// write. A generator, whose directory is fresh, writes each unit as soon
// as Generate makes it (Options.Emit, FreshWriter), from a second
// goroutine. UnitName is the only place unit names are made: ctl and the
// generator name units through it too.
//
// Each program's unit carries in its header the digest of the program's
// Supervisor configuration, and each group's target and socket the
// group's (digest.go): `supersede ctl update` compares those, not the
// units' text, to tell a changed program from one mapped otherwise.
//
// What cannot be mapped exactly comes back as a Warning naming the
// file:line of the setting; what cannot be written at all (a newline in
// an environment value, say) is a *translate.Error, and then nothing is
// returned.
//
// The package reads no files but the executables' metadata (to find a
// command on PATH, as Supervisor does), starts nothing and speaks no
// D-Bus: the generator links it.
package unitgen
