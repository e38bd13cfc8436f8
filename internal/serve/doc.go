// Package serve is `supersede serve`: Supervisor's XML-RPC API (POST
// /RPC2 with system.multicall, GET /logtail and /mainlogtail) served for
// the units of one supervisord.conf, on the listeners of its
// [unix_http_server] and [inet_http_server] sections, so that programs
// written against supervisord (the real supervisorctl, Python's
// xmlrpc.client, Ansible's supervisorctl module, dashboards) keep working
// after the move to systemd.
//
// It owns the daemon's life, not the protocol or the systemd side: the
// API's rules are internal/xmlrpc's (a Server over a Backend), the
// Backend is internal/sysd's Manager, and the listeners come from the
// caller (cmd/supersede: inherited from systemd's socket activation, or
// opened with the sections' chmod and chown by internal/daemon, the
// skeleton supersede run uses too). What it adds:
//
//   - it follows the manager: after every daemon-reload (which reruns
//     the generator on the same configuration) it reads the
//     configuration again and serves its units from then on; a
//     configuration with errors leaves the last good one in place;
//   - a process whose output goes to the journal (the default of the
//     units) has its output read from there (xmlrpc.OutputKeeper), and
//     readLog reads the manager's own messages, as supersede ctl does;
//   - it idles at no cost: nothing polls, every wake-up is a request or
//     a signal from the manager.
//
// Who may control the programs is decided by the listeners alone, as
// under supervisord: the unix socket's owner and mode (chmod=, chown=)
// and the sections' username and password. serve runs with the
// credentials of its manager's client (root for the system manager,
// the user for a user manager) and grants nothing beyond what reaching
// the socket grants.
//
// It must not speak D-Bus itself (internal/sysd does) nor parse
// XML-RPC (internal/xmlrpc does).
package serve
