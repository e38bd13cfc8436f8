#!/usr/bin/env bash
# bench/serve/run.sh: supersede serve (socket-activated, over a real
# systemd user manager) next to the real supervisord 4.2.5 for the same N
# programs, in one run: getAllProcessInfo timed alternately on both
# (issue 14: at least 20x faster at 1000), then both left idle to count
# wake-ups, with RSS. Prints markdown. The driver is
# bench/serve/servebench (its doc comment says what is measured).
#
# Needs root (the manager runs in a private mount namespace and cgroup,
# internal/sdtest), systemd and /usr/bin/supervisord.
#
# Environment: SUPERSEDE (default: built from this tree), N (1000), RUNS
# (30), WARMUP (3), IDLE (20 seconds). About 2 minutes at 1000, most of
# it supervisord starting its programs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "bench/serve/run.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (a systemd user manager in its own mount namespace and cgroup)"
[ -x /usr/bin/supervisord ] || die "no /usr/bin/supervisord (make deps)"

work=$(mktemp -d "${TMPDIR:-/tmp}/servebench.XXXXXX")
trap 'rm -rf "$work"' EXIT
supersede=${SUPERSEDE:-}
if [ -z "$supersede" ]; then
	supersede=$work/supersede
	(cd "$root" && CGO_ENABLED=0 go build -o "$supersede" ./cmd/supersede)
fi
supersede=$(realpath "$supersede")
(cd "$root" && go test -tags servebench -c -o "$work/servebench.test" ./bench/serve/servebench)
(cd "$work" && TMPDIR=$work SUPERSEDE=$supersede SERVE_BENCH_OUT=$work/table.md \
	./servebench.test -test.run '^TestServeBench$' -test.v -test.timeout 30m >&2) ||
	die "the driver failed (its output is above)"
cat "$work/table.md"
