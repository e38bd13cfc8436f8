// Package status holds the runtime words both backends share: the
// Supervisor process states and one process's status as supervisorctl
// shows it. supersede ctl prints these whether they come from systemd
// (internal/sysd) or from supersede run (fallback, over internal/xmlrpc).
//
// It imports only the standard library. Wire codes (0, 10, 20, ...) and
// XML-RPC structures belong to internal/xmlrpc, not here.
package status
