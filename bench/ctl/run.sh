#!/usr/bin/env bash
# bench/ctl/run.sh: `supersede ctl status` and `restart` over a real
# systemd user manager, side by side in one run with `systemctl --user`
# on the same manager and with the real `supervisorctl` under the real
# supervisord 4.2.5, for the same 1, 100 and 1000 programs (issue 4:
# ctl status over 1000 units ≤ 30 ms median). Prints markdown tables.
# The driver is bench/ctl/ctlbench (its doc comment says what is timed).
#
# Needs root (the manager runs in a private mount namespace and cgroup,
# internal/sdtest), systemd, /usr/bin/supervisord and hyperfine.
#
# Environment: SUPERSEDE (default: built from this tree into the work
# directory), COUNTS ("1 100 1000"), RUNS (20), RESTART_RUNS (10),
# WARMUP (2), STARTSECS (1), JSON=DIR to keep hyperfine's raw exports,
# STRACE=1 to log strace -c -f of the status commands once per count,
# SUPERVISORD=0 to leave supervisord's columns empty (quicker),
# RT=1 to time under SCHED_FIFO (on a machine busy with other work: the
# commands and the daemons answering them then run as on an idle one).
# SUPERSEDE_BEFORE=BIN to time BIN's ctl status in the same hyperfine run
# (an earlier build: before and after side by side), PERF=1 to add the
# CPU each status costs ctl and the manager (perf stat; steadier than
# elapsed time on a busy machine). STAGGER=N starts the units N at a
# time with systemctl before the target (as units systemd started over
# time; 0, the default, starts all at once, as at boot). Either way the
# units' exec steps record their runs (internal/sysd/record.go), which
# the "no cache of runs" status reads.
# About 3 minutes with the defaults, most of it supervisorctl at 1000.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "bench/ctl/run.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (a systemd user manager in its own mount namespace and cgroup)"
if [ ! -x /usr/bin/supervisord ] || [ ! -x /usr/bin/supervisorctl ]; then die "no /usr/bin/supervisord (make deps)"; fi
command -v hyperfine >/dev/null || die "needs hyperfine (apt-get install hyperfine)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ctlbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
supersede=${SUPERSEDE:-}
if [ -z "$supersede" ]; then
	supersede=$work/supersede
	(cd "$root" && CGO_ENABLED=0 go build -o "$supersede" ./cmd/supersede)
fi
[ -x "$supersede" ] || die "no executable $supersede"
supersede=$(realpath "$supersede") # the driver runs in the work directory
if [ -n "${SUPERSEDE_BEFORE:-}" ]; then
	SUPERSEDE_BEFORE=$(realpath "$SUPERSEDE_BEFORE")
	export SUPERSEDE_BEFORE
fi
(cd "$root" && go test -tags ctlbench -c -o "$work/ctlbench.test" ./bench/ctl/ctlbench)
if [ -n "${JSON:-}" ]; then
	mkdir -p "$JSON"
	CTL_BENCH_JSON=$(cd "$JSON" && pwd)
	export CTL_BENCH_JSON
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
# The test binary's temporary directories go into the work directory too.
(cd "$work" && TMPDIR=$work SUPERSEDE=$supersede CTL_BENCH_OUT=$work/table.md \
	./ctlbench.test -test.run '^TestCtlBench$' -test.v -test.timeout 60m >&2) ||
	die "the driver failed (its output is above)"
cat "$work/table.md"
