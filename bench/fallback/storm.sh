#!/usr/bin/env bash
# bench/fallback/storm.sh: a crash storm under the real supervisord 4.2.5
# and under `supersede run`, one after the other in one run, and a
# markdown table of both (issue 15's "Must show"). STORM_PROGRAMS (300)
# programs of /bin/false with autorestart=true and startsecs=0 crash and
# are restarted for STORM_SECONDS (20); a client calls getAllProcessInfo
# over the unix socket through the storm; then SIGTERM. The measurement
# is bench/fallback/fbbench's storm (see bench/fallback/fbbench/storm.go).
#
# Environment: SUPERSEDE (default: built from this tree into the work
# directory), DAEMONS (default "supervisord supersede"), STORM_PROGRAMS,
# STORM_SECONDS, STORM_COMMAND (default /bin/false; "sleep 1000" measures
# the same client without a storm).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
daemons=${DAEMONS:-supervisord supersede}

die() { echo "bench/fallback/storm.sh: $*" >&2; exit 1; }
[ -x /usr/bin/supervisord ] || die "no /usr/bin/supervisord (make deps)"

work=$(mktemp -d "${TMPDIR:-/tmp}/storm.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$work/fbbench" ./bench/fallback/fbbench)
supersede=${SUPERSEDE:-}
if [ -z "$supersede" ]; then
	supersede=$work/supersede
	(cd "$root" && CGO_ENABLED=0 go build -o "$supersede" ./cmd/supersede)
fi

for d in $daemons; do
	echo "measuring $d ..." >&2
	if ! "$work/fbbench" measure -daemon "$d" -supersede "$supersede" -only storm "$work" >"$work/$d.txt"; then
		echo "bench/fallback/storm.sh: measuring $d failed; its column is partial" >&2
	fi
done

python3 - "$work" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
work, cores, load = sys.argv[1:]
def load_results(name):
    out = {}
    try:
        for line in open("%s/%s.txt" % (work, name)):
            k, v, unit = line.split()
            out[k] = (float(v), unit)
    except FileNotFoundError:
        pass
    return out
sv, ss = load_results("supervisord"), load_results("supersede")
n = int((sv.get("storm_programs") or ss.get("storm_programs") or (300,))[0])
secs = int((sv.get("storm_seconds") or ss.get("storm_seconds") or (20,))[0])

def fmt(r, key):
    if key not in r:
        return "–" if key != "storm_first_answer" or not r else "none"
    v, unit = r[key]
    if key == "storm_exit" and v < 0:
        return "not within 40 s (SIGKILL)"
    if unit == "ms":
        if v >= 10000:
            return "≥ 10 s (timeout)"
        return "%.0f ms" % v if v >= 10 else "%.1f ms" % v
    if unit == "s":
        return "%.0f ms" % (v * 1000) if v < 1 else "%.2f s" % v
    if unit == "MiB":
        return "%.1f MiB" % v
    if unit == "/s":
        return "%.0f/s" % v
    return "%d" % v

rows = [
    ("getAllProcessInfo calls during the storm", "storm_calls", ""),
    ("… not answered within 10 s", "storm_timeouts", ""),
    ("exec → first answer", "storm_first_answer", ""),
    ("getAllProcessInfo p50", "storm_p50", ""),
    ("getAllProcessInfo p99", "storm_p99", "≤ 100 ms"),
    ("getAllProcessInfo slowest", "storm_max", ""),
    ("daemon RSS 2 s after exec", "storm_rss_base", ""),
    ("RSS growth from then to the end of the storm", "storm_rss_growth", "≤ 20 MiB"),
    ("peak RSS (VmHWM) growth", "storm_peak_growth", ""),
    ("restarts (`spawned:` lines) per second", "storm_spawns_per_s", ""),
    ("SIGTERM → daemon exited", "storm_exit", "≤ stopwaitsecs (10 s)"),
    ("SIGTERM → every program gone too", "storm_all_gone", "≤ stopwaitsecs (10 s)"),
]
import os
print("machine: %s cores, load average %s at the end; %d programs of %s, autorestart=true, startsecs=0, %d s" % (cores, load, n, os.environ.get("STORM_COMMAND") or "/bin/false", secs))
print()
print("| measurement | supervisord 4.2.5 | supersede run | target |")
print("|---|---|---|---|")
for label, key, target in rows:
    print("| %s | %s | %s | %s |" % (label, fmt(sv, key), fmt(ss, key), target))
PY
