// Package ctl is supervisorctl 4.2.5, ported: its options and config
// file reading (ClientOptions), its shell (cmd.Cmd with readline's line
// editing, history and completion) and every command of its default
// plugin, with supervisorctl's texts and exit statuses.
//
// It talks to a server only through Conn, so the same client logic runs
// over XML-RPC (xmlrpc.Client, against supervisord or supersede run) and
// over the systemd transport (xmlrpc.Local around internal/sysd). Names
// and states shown come from the server's answers, never computed here.
//
// It must not know about any transport beyond Conn's errors, nor about
// processes or units: what a name means is the server's business.
package ctl
