// Package xmlrpc speaks Supervisor 4.2.5's XML-RPC protocol, so the real
// supervisorctl (and anything else written against supervisord) works
// with supersede run unchanged: the codec, the HTTP server (POST /RPC2,
// GET /logtail/NAME/CHANNEL and /mainlogtail, Basic auth; every other
// path goes to Options.UI, the web status page of internal/webui), every
// supervisor.* and system.* method, the unix and inet listeners, and a
// client for supersede ctl.
//
// Answers are Python's xmlrpc.client output byte for byte, sent with
// their Content-Length; a log read of more than 1 MiB (readLog,
// read/tailProcess*Log) is the same XML written as the file is read,
// chunked, so that no client's read makes the daemon hold a log file in
// memory (stream.go).
//
// The server serves a Backend, declared here, that supervises the
// processes; the package owns everything that is wire format: method
// names, fault codes, state codes, result structs, name resolution and
// the ordering of group operations. It must not supervise anything
// itself, and it imports only internal/status and translate of ours.
package xmlrpc
