// Package sysd drives the units of one supervisord.conf through a systemd
// manager over D-Bus: it is the only package that speaks D-Bus
// (go-systemd/v22/dbus for jobs, reloads and single properties, and a
// small pipelined client of its own, wire.go, for the batched status
// reads, over a socket read in paced gulps rather than one wake-up per
// reply, paced.go).
//
// A Manager is Supervisor's API in Go words (it satisfies
// xmlrpc.Backend, and xmlrpc.GroupReader), so `supersede ctl` runs the
// XML-RPC server's own rules in process on top of it (xmlrpc.Local) and
// prints exactly what supervisorctl prints for supervisord. Process names
// map to units through unitgen.ServiceName, from the same configuration
// the units were converted from; no name is guessed from unit files.
// Supervisor's states are derived from the units' (state.go), a running
// unit's pid and start time are kept from one read to the next under
// its invocation ID (runs.go) or read from the record the unit's exec
// step wrote of its run (record.go), and a process's output is read
// from the journal with journalctl (journal.go), or from its log file
// when the units keep log files.
//
// It must not be imported by translate, unitgen, internal/status,
// internal/xmlrpc, internal/ctl or fallback (internal/depcheck), and the
// generator never links it.
package sysd
