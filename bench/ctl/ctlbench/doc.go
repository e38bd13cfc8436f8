// Package ctlbench is the driver of bench/ctl/run.sh, the side-by-side
// benchmark of issue 4: `supersede ctl status` and `restart` over a real
// systemd user manager, next to `systemctl --user` on the same manager and
// to the real `supervisorctl` under the real supervisord 4.2.5, for the
// same 1, 100 and 1000 programs, in one run.
//
// The driver is a test function (TestCtlBench in ctlbench_test.go)
// because internal/sdtest, which runs the systemd user manager in a
// private mount namespace and cgroup, works through testing.TB. It is not
// a test: it is built only with the ctlbench tag, which run.sh gives, so
// `go test ./...` neither runs nor skips it.
//
// For each count N it
//
//  1. writes a supervisord.conf of N programs prog_0001 … prog_N, each
//     /bin/sleep infinity (they stay up: every process is RUNNING in both
//     worlds), startsecs=STARTSECS (default 1, Supervisor's default)
//     except the restart target prog_0001, which has startsecs=0 so that
//     a restart measures the tools and not a configured wait;
//  2. starts /usr/bin/supervisord -n on it, waits (XML-RPC) until all N
//     are RUNNING, checks that `supervisorctl status` lists N RUNNING
//     lines, and times with hyperfine `supervisorctl -c CONF status` and
//     `supervisorctl -c CONF restart prog_0001` (and the same through
//     `supersede ctl -s unix://SOCK`, once ctl exists); then shuts
//     supervisord down and kills, by PID, anything left in its session;
//  3. starts a systemd user manager (sdtest.Start), converts the config
//     with `supersede convert --user -o UNITDIR`, daemon-reloads, starts
//     supersede.target, waits until the N services are active, checks
//     each command's output, and runs hyperfine inside the manager's mount
//     namespace on `systemctl --user list-units --all 'prog_*'`, plain
//     `systemctl --user list-units`, `supersede ctl --user -c CONF
//     status`, then `systemctl --user restart prog_0001.service` and
//     `supersede ctl --user -c CONF restart prog_0001` (each run prepared,
//     untimed, by `systemctl --user reset-failed`: the units carry
//     startretries as a start limit that counts every start); then, untimed,
//     restarts with ctl six times back to back, as supervisorctl allows, and
//     notes under the table if one fails; then stops the manager (sdtest's
//     teardown removes its cgroups and directory).
//
// With SUPERSEDE_BEFORE=BIN the same hyperfine run of step 3 also times
// `BIN ctl --user -c CONF status` (an earlier build, say), and a table of
// the two side by side follows: a change is measured against its
// predecessor on the same manager, in one run, not across runs. With
// PERF=1, each status command also runs RUNS times under perf stat, and
// a table gives its CPU time (all threads), page faults and context
// switches per run, with the manager's own CPU time per run over the same
// runs (/proc/PID/stat, 10 ms ticks): on a machine busy with other work
// these stay put where elapsed times scatter.
//
// The supervisord restarts are each prepared by an untimed 0.1 s pause:
// with startsecs=0 supervisord reports RUNNING before its child has
// exec'd, and a SIGTERM in that window is lost (the child still has
// supervisord's handler), so a quick client's next restart would wait
// stopwaitsecs and SIGKILL.
//
// It writes the markdown tables to $CTL_BENCH_OUT (and the test log), and
// the raw hyperfine JSON next to it when $CTL_BENCH_JSON names a directory.
// Knobs (environment): SUPERSEDE (the binary, required), COUNTS ("1 100
// 1000"), RUNS (20), RESTART_RUNS (10), WARMUP (2), STARTSECS (1).
package ctlbench
