#!/usr/bin/env bash
# bench/parse.sh: time Supervisor 4.2.5's own parser (the oracle script) and
# `supersede show --json` on the same generated configuration, in one run on
# one machine, check that both understood the same, and print a markdown
# table row for docs/PERFORMANCE.md. `make bench` builds bin/supersede first.
#
# Environment: PROGRAMS (default 5000), RUNS per command (default 5),
# SUPERSEDE (default bin/supersede),
# SUPERSEDE_SHARED (default ../shared beside the repository),
# BENCH_ALLOW_DIFF=1 to time even when the two outputs differ.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SUPERSEDE_SHARED:-$root/../shared}
oracle=$shared/oracle/supervisor-parse.py
python=/usr/bin/python3
supersede=${SUPERSEDE:-$root/bin/supersede}
programs=${PROGRAMS:-5000}
runs=${RUNS:-5}

die() { echo "bench/parse.sh: $*" >&2; exit 1; }
[ -f "$oracle" ] || die "no oracle at $oracle (set SUPERSEDE_SHARED)"
[ -x "$python" ] || die "no $python (make deps installs supervisor, which brings it)"
[ -x "$supersede" ] || die "no $supersede (run make build)"

work=$(mktemp -d "${TMPDIR:-/tmp}/supersede-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && go run ./bench/genconf -programs "$programs" "$work")
conf=$work/supervisord.conf
cd "$work"

oracle_cmd=("$python" "$oracle" --no-exec "$conf")
supersede_cmd=("$supersede" show --json --no-exec -c "$conf")

# What each understood: both must succeed and agree (exec dropped).
"${oracle_cmd[@]}" >oracle.json || die "oracle failed (exit $?): $(head -c 500 oracle.json)"
"${supersede_cmd[@]}" >supersede.json || die "supersede show failed (exit $?)"
same=yes
"$python" - oracle.json supersede.json <<'PY' || same=no
import json, sys

def load(name):
    with open(name) as f:
        return drop_exec(json.load(f))

def drop_exec(v):
    if isinstance(v, dict):
        return {k: drop_exec(x) for k, x in v.items() if k != "exec"}
    if isinstance(v, list):
        return [drop_exec(x) for x in v]
    return v

diffs = []
def walk(a, b, path):
    if len(diffs) >= 20:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                diffs.append("%s.%s: only in %s" % (path, k, "oracle" if k in a else "supersede"))
            else:
                walk(a[k], b[k], "%s.%s" % (path, k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, "%s[%d]" % (path, i))
    elif a != b:
        diffs.append("%s: oracle %s, supersede %s" % (path, json.dumps(a)[:120], json.dumps(b)[:120]))

walk(load(sys.argv[1]), load(sys.argv[2]), "$")
if diffs:
    print("outputs differ (first %d differences):" % len(diffs), file=sys.stderr)
    for d in diffs:
        print("  " + d, file=sys.stderr)
    sys.exit(1)
PY
if [ "$same" = no ] && [ "${BENCH_ALLOW_DIFF:-}" != 1 ]; then
	die "supersede and Supervisor disagree; not timing (BENCH_ALLOW_DIFF=1 times anyway)"
fi

# Wall times in nanoseconds, one per line, in o.ns and s.ns.
if command -v hyperfine >/dev/null; then
	hyperfine --runs "$runs" --warmup 1 --shell=none --export-json hyperfine.json \
		-n supervisor "$(printf '%q ' "${oracle_cmd[@]}")" \
		-n supersede "$(printf '%q ' "${supersede_cmd[@]}")" >&2
	"$python" -c '
import json, sys
r = json.load(open("hyperfine.json"))["results"]
for res, out in zip(r, ("o.ns", "s.ns")):
    open(out, "w").write("".join("%d\n" % round(t * 1e9) for t in res["times"]))
'
	timer="hyperfine, $runs runs after 1 warm-up"
else
	: >o.ns
	: >s.ns
	for ((i = 0; i < runs; i++)); do # interleaved, so both see the same machine
		t0=$(date +%s%N)
		"${oracle_cmd[@]}" >/dev/null
		t1=$(date +%s%N)
		"${supersede_cmd[@]}" >/dev/null
		t2=$(date +%s%N)
		echo $((t1 - t0)) >>o.ns
		echo $((t2 - t1)) >>s.ns
	done
	timer="date +%s%N loop, $runs interleaved runs"
fi

# Peak RSS in KiB, from one more run of each.
o_rss=''
s_rss=''
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f %M -o o.rss "${oracle_cmd[@]}" >/dev/null && o_rss=$(tail -n 1 o.rss)
	/usr/bin/time -f %M -o s.rss "${supersede_cmd[@]}" >/dev/null && s_rss=$(tail -n 1 s.rss)
fi

"$python" - "$programs" "$same" "$timer" "$o_rss" "$s_rss" "$(uname -m)" "$(nproc)" <<'PY'
import json, re, statistics, sys
programs, same, timer, o_rss, s_rss, arch, cores = sys.argv[1:]
doc = json.load(open("oracle.json"))
processes = sum(len(g["processes"]) for g in doc["groups"])
files = 1 + sum(1 for m in doc["infos"] if m.startswith("Included extra file"))
o = statistics.median(int(x) for x in open("o.ns")) / 1e6
s = statistics.median(int(x) for x in open("s.ns")) / 1e6
def ms(v):
    return "%.0f ms" % v if v >= 100 else "%.1f ms" % v if v >= 10 else "%.2f ms" % v
mib = lambda kib: "%.0f MiB" % (int(kib) / 1024) if kib else "n/a"
cpu = "unknown CPU"
try:
    cpu = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(), re.M).group(1)
except Exception:
    pass
size = "%s programs, %d processes, %d files" % (programs, processes, files)
print("config:    %s" % size)
print("machine:   %s, %s cores, %s" % (cpu, cores, arch))
print("timing:    %s" % timer)
print("Supervisor 4.2.5 (oracle --no-exec):   median %s, peak RSS %s" % (ms(o), mib(o_rss)))
print("supersede show --json --no-exec:       median %s, peak RSS %s" % (ms(s), mib(s_rss)))
print("outputs:   %s" % ("equal (exec dropped)" if same == "yes" else "DIFFERENT (BENCH_ALLOW_DIFF=1)"))
print()
print("| config | Supervisor 4.2.5 median | supersede median | ratio (Supervisor / supersede) | peak RSS Supervisor | peak RSS supersede |")
print("|---|---|---|---|---|---|")
note = "" if same == "yes" else " (outputs differ)"
print("| %s%s | %s | %s | %.1f× | %s | %s |" % (size, note, ms(o), ms(s), o / s if s else float("inf"), mib(o_rss), mib(s_rss)))
PY
