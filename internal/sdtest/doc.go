// Package sdtest runs a real systemd user manager (`systemd --user`) for
// tests, with its own systemd-journald, on a host where PID 1 need not be
// systemd. It follows reference/systemd.md §6: the manager and journald
// live in a private mount namespace (a tmpfs over /run, another over
// /var/log/journal when it exists), so nothing appears under the host's
// /run, and in a cgroup of their own, sdtest_PID_N.slice/{journald.scope,
// user@0.service}, in every cgroup hierarchy the host has (hybrid: the v1
// name=systemd one and the unified one; pure cgroup v2: the one).
//
//	m := sdtest.Start(t, sdtest.Options{})
//	m.WriteUnit("x.service", "[Service]\nExecStart=/bin/sleep 100\n")
//	m.DaemonReload()
//	m.Systemctl("start", "x.service")
//	m.WaitFor("x.service", "ActiveState", "active", 10*time.Second)
//	out := m.Journal("--user-unit", "x.service", "-o", "cat")
//
// Units go into m.UnitDir ($XDG_CONFIG_HOME/systemd/user). Systemctl and
// Journal run systemctl --user and journalctl inside the namespace (through
// nsenter), where /run/systemd/system exists: outside it, systemctl --user
// enable would fall back to client-side file operations in the caller's own
// home (systemd.md §0.13). A program under test that talks to the manager
// gets m.Env() (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS when the host has
// a session bus daemon for dbus.socket to activate, ...) and runs through
// m.Command when it must see the namespace's /run (the journal, or
// /run/systemd/system). Without a bus daemon, m.PrivateSocket is the
// manager's own D-Bus socket (systemd.md §5.2).
//
// WaitFor and WaitUntil poll unit properties with a deadline (never a
// fixed sleep). Analyze runs systemd-analyze (verify) hermetically, in a
// throwaway mount namespace with an empty /run, so that it neither sees
// nor touches the host's /run/systemd.
//
// Launch is Start for a program that is not a test (internal/demo, make
// demo): it returns an error instead of skipping, and its caller calls Stop.
//
// Start registers the teardown with t.Cleanup; Stop runs it early. It stops
// the manager by PID (SIGTERM: the manager stops its units and exits), then
// journald by PID, kills by PID whatever is left in the cgroups, removes
// the cgroups depth-first and the temporary directory, and reports anything
// that survived (a process, a cgroup, a command still running in the
// namespace) as a test error. It signals only processes it started or
// that live in its own cgroups. Start takes about 0.1–0.2 s and teardown
// 20–80 ms here; managers of parallel tests run side by side.
//
// Start needs root, systemd (/lib/systemd/systemd and systemd-journald),
// systemctl, journalctl, nsenter, writable cgroups and the right to create
// a mount namespace; without them Require skips the test with the reason,
// or fails it under CI=true (internal/testreal).
//
// This package must not import the code under test (unitgen, internal/sysd,
// cmd/...): it runs systemd, and tests drive it from outside.
package sdtest
