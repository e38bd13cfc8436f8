// Package webui is Supervisor 4.2.5's web status page (supervisor/web.py
// and ui/status.html), served by internal/xmlrpc's HTTP server beside the
// XML-RPC API, behind the same Basic authentication, for any Backend: it
// reaches the processes only through the API (xmlrpc.Local), so the
// fallback daemon and a systemd-backed server get the same page.
//
// It keeps Supervisor's URL layout: / and /index.html (the status table;
// action= and processname= act, message= shows a message), /tail.html
// (the last bytes of a process's stdout) and /ok.html; /logtail/NAME is
// the API server's own stream. It keeps Supervisor's texts ("Process web
// started", "ERROR: Process web: spawn error", "All stopped at ...",
// "No programs to manage") and which actions each state offers.
//
// What it adds, without needing JavaScript for any of it: POST actions
// with a CSRF token (a GET with action= asks for confirmation instead of
// acting), group headers with group actions, a filter, state counts, a
// layout for 1000 programs and for a phone's width. With JavaScript on,
// the table follows state changes (a poll of status.json) and tail.html
// follows the log (a poll of tail.json). Everything it serves is
// embedded in the binary.
//
// It imports internal/xmlrpc (for the API's fault codes) and nothing
// that supervises: xmlrpc must not import it (the hook is
// xmlrpc.Options.UI, wired in cmd/).
package webui
