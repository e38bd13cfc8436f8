// Package servebench is the driver of bench/serve/run.sh: supersede serve
// over a real systemd user manager (internal/sdtest) next to the real
// supervisord 4.2.5, for the same N programs (sleep infinity), in one
// run (build tag servebench).
//
// What it times: supervisor.getAllProcessInfo, the same request bytes
// POSTed over each one's unix socket by the same Go client, which reads
// the whole response and does not decode it, so that the client's cost
// is the same small constant on both sides. The calls alternate between
// the two servers (supervisord, serve, supervisord, ...), so that a load
// change on this shared machine hits both alike; each figure is the
// median, with the minimum and maximum, of RUNS calls after WARMUP
// untimed ones. serve's first call (socket activation: systemd starts
// it) is timed apart.
//
// What it counts at idle: the context switches of every thread of
// serve's process (and supervisord's, for comparison) over IDLE seconds
// with no client, from /proc/PID/task/*/status (voluntary and
// nonvoluntary), as wake-ups per second; and each one's VmRSS, after the
// timed calls and at the end of the idle window.
package servebench
