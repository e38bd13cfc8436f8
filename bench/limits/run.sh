#!/usr/bin/env bash
# bench/limits/run.sh: the control API under hostile clients (issue 15),
# supervisord 4.2.5 and `supersede run` side by side, in one run: a 101 KB
# entity-expansion request, 2000 idle connections while a program
# restarts, ten concurrent 60 MB requests. Each daemon runs under
# `ulimit -n 1024`. The measurements are bench/limits/limitsbench's (see
# its doc comment); this prints them as a markdown table.
#
# Environment: SUPERSEDE (default: built from this tree), BEFORE (another
# supersede binary, e.g. built from an older commit, for a third column),
# ONLY (default "entity,idle,bodies"; bodies takes supervisord minutes).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
only=${ONLY:-entity,idle,bodies}
die() { echo "bench/limits/run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/supervisord ] && [ -x /usr/bin/supervisorctl ] || die "no /usr/bin/supervisord (make deps)"

work=$(mktemp -d "${TMPDIR:-/tmp}/limits.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -o "$work/limitsbench" ./bench/limits/limitsbench)
supersede=${SUPERSEDE:-}
if [ -z "$supersede" ]; then
	supersede=$work/supersede
	(cd "$root" && CGO_ENABLED=0 go build -o "$supersede" ./cmd/supersede)
fi

cols=(supervisord supersede)
[ -n "${BEFORE:-}" ] && cols+=(before)
for c in "${cols[@]}"; do
	echo "measuring $c ..." >&2
	case $c in
	supervisord) args=(-daemon supervisord) ;;
	supersede) args=(-daemon supersede -bin "$supersede") ;;
	before) args=(-daemon supersede -bin "$BEFORE") ;;
	esac
	"$work/limitsbench" "${args[@]}" -only "$only" "$work" >"$work/$c.txt" || echo "bench/limits/run.sh: $c failed; its column is partial" >&2
done

python3 - "$work" "$(cut -d' ' -f1-3 /proc/loadavg)" "${cols[@]}" <<'PY'
import sys
work, load, cols = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {}
for c in cols:
    d = {}
    for line in open(f"{work}/{c}.txt"):
        k, _, v = line.strip().partition(" ")
        d[k] = v
    res[c] = d
rows = [
    ("101 KB entity request: HTTP status", "entity_code", ""),
    ("… time to answer", "entity_ms", " ms"),
    ("… daemon peak RSS after it", "entity_hwm_mib", " MiB"),
    ("`supervisorctl status`, no load", "idle_ctl_base_ms", " ms"),
    ("2000 idle connections: getAllProcessInfo answered in 10 s", "idle_ok", ""),
    ("… failed (5 s timeout)", "idle_failed", ""),
    ("… latency p50", "idle_p50_ms", " ms"),
    ("… latency p99", "idle_p99_ms", " ms"),
    ("… latency max", "idle_max_ms", " ms"),
    ("… `supervisorctl status`", "idle_ctl_ms", " ms"),
    ("… its exit status (-1: killed after 30 s)", "idle_ctl_exit", ""),
    ("… a program restarting every 0.2 s, after", "idle_flap", ""),
    ("… main-log lines \"too many open files\"", "idle_emfile", ""),
    ("ten concurrent 60 MB requests: peak RSS", "bodies_hwm_mib", " MiB"),
    ("… all answered after", "bodies_s", " s"),
    ("… their statuses", "bodies_codes", ""),
]
print(f"load average at the end: {load}\n")
print("| measurement | " + " | ".join(cols) + " |")
print("|---|" + "---|" * len(cols))
for name, key, unit in rows:
    if not any(key in res[c] for c in cols):
        continue
    print(f"| {name} | " + " | ".join((res[c][key] + unit) if key in res[c] else "" for c in cols) + " |")
PY
