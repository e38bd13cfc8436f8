#!/usr/bin/env bash
# bench/fallback/run.sh: measure the real supervisord 4.2.5 and
# `supersede run` side by side, in one run on one machine, and print a
# markdown table (issue 5's targets, with Supervisor's reference figures).
# The measurements are made by bench/fallback/fbbench (see its doc
# comment for what each one is).
#
# Environment: SUPERSEDE (default: built from this tree into the work
# directory), DAEMONS (default "supervisord supersede"), ONLY (default
# "restart,scale,idle,log"), VICTIM (the program the restart measurement
# kills: default bench/fallback/stamp; "fbbench" for fbbench's own stamp
# command, a 9 MB program that takes longer to die and to start), and
# fbbench's knobs: RESTARTS (15), PROGRAMS (1000), STATUS_RUNS (10),
# IDLE_PROGRAMS (100), IDLE_SECONDS (10), LOG_MB (500).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
daemons=${DAEMONS:-supervisord supersede}
only=${ONLY:-restart,scale,idle,log}

die() { echo "bench/fallback/run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/supervisord ] && [ -x /usr/bin/supervisorctl ] || die "no /usr/bin/supervisord (make deps)"
command -v hyperfine >/dev/null || echo "bench/fallback/run.sh: no hyperfine; status is timed once" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/fbbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$work/fbbench" ./bench/fallback/fbbench)
(cd "$root" && CGO_ENABLED=0 go build -o "$work/stamp" ./bench/fallback/stamp)
supersede=${SUPERSEDE:-}
if [ -z "$supersede" ]; then
	supersede=$work/supersede
	(cd "$root" && CGO_ENABLED=0 go build -o "$supersede" ./cmd/supersede)
fi

victim=(-victim "$work/stamp")
[ "${VICTIM:-}" = fbbench ] && victim=()

for d in $daemons; do
	echo "measuring $d ..." >&2
	if [ "$d" = supersede ] && [[ $("$supersede" help 2>&1) != *$'\n  run '* ]]; then
		echo "bench/fallback/run.sh: $supersede has no run command yet; its column stays empty" >&2
		: >"$work/$d.txt"
		continue
	fi
	if ! "$work/fbbench" measure -daemon "$d" -supersede "$supersede" "${victim[@]}" -only "$only" "$work" >"$work/$d.txt"; then
		echo "bench/fallback/run.sh: measuring $d failed; its column is partial" >&2
	fi
done

python3 - "$work" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import re, sys
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
n = next((k.split("_")[1] for k in list(sv) + list(ss) if k.startswith("start_")), "1000")

def fmt(r, key):
    if key not in r:
        return "–"
    v, unit = r[key]
    if unit == "bytes":
        return "%d bytes" % v
    if unit == "s" and v < 1:
        return "%.0f ms" % (v * 1000) if v >= 0.01 else "%.1f ms" % (v * 1000)
    if unit == "ms" and v >= 1000:
        return "%.2f s" % (v / 1000)
    if v >= 100:
        return "%.0f %s" % (v, unit)
    return "%.3g %s" % (v, unit)

rows = [
    ("restart after SIGKILL, p50: kill → new process runs", "restart_p50", "≤ 2 ms", "1009 ms"),
    ("　… p90", "restart_p90", "", ""),
    ("　… of which the old process's own exit (kill → reaped by a direct parent)", "victim_exit_p50", "", ""),
    ("　… of which the new process's own start (direct exec → runs)", "exec_baseline_p50", "", ""),
    ("restart after SIGKILL, p50: kill → \"spawned:\" in the main log (ms clock, ±0.5 ms)", "spawned_after_kill_p50", "", ""),
    ("restart after SIGKILL, p50: kill → RUNNING in the main log (startsecs=0; ±0.5 ms)", "running_after_kill_p50", "", ""),
    ("daemon RSS (VmRSS), %s programs RUNNING" % n, "rss_" + n, "≤ 8 MB", "48.6 MB"),
    ("　… anonymous (RssAnon: heap, stacks, runtime)", "rss_anon_" + n, "", ""),
    ("　… file-backed (RssFile: the executable's pages, shared)", "rss_file_" + n, "", ""),
    ("daemon peak RSS (VmHWM), %s programs" % n, "hwm_" + n, "", ""),
    ("%s programs to RUNNING, startsecs=1 (daemon exec → last RUNNING)" % n, "start_" + n, "≤ 1.5 s", "13.3 s"),
    ("stop %s: stopAllProcesses → last one reaped" % n, "stop_" + n, "≤ 0.5 s", "4.3 s"),
    ("　… until the stopAllProcesses call returned", "stop_call_" + n, "", ""),
    ("`supervisorctl status`, %s programs (median)" % n, "status_" + n, "", ""),
    ("idle wake-ups, 100 programs (context switches/s, all threads)", "idle_wakeups", "0/s", ""),
    ("log capture 500 MB: throughput", "log_mbps", "≥ 2 GB/s", "872 MB/s"),
    ("log capture 500 MB: daemon CPU (utime+stime)", "log_cpu", "≤ 0.2 s", "0.6 s"),
    ("log capture 500 MB: bytes lost or wrong", "log_lost", "0", ""),
]
print("machine: %s cores, load average %s at the end" % (cores, load))
print()
print("| measurement | supervisord 4.2.5 | supersede run | target | Supervisor (issue 5) |")
print("|---|---|---|---|---|")
for label, key, target, ref in rows:
    print("| %s | %s | %s | %s | %s |" % (label, fmt(sv, key), fmt(ss, key), target, ref))
PY
