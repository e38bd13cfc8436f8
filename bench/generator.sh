#!/usr/bin/env bash
# bench/generator.sh: time supersede's systemd generator end to end (process
# start, reading the config and its includes, writing every unit and wants
# link into fresh directories) on a generated configuration of PROGRAMS
# programs (default 1000), with hyperfine. Target: < 50 ms at 1000.
# `make bench` builds bin/ first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=${GENERATOR:-$root/bin/supersede-generator}
programs=${PROGRAMS:-1000}
runs=${RUNS:-30}
[ -x "$gen" ] || { echo "bench/generator.sh: no $gen (run make build)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/generator.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/supersede-genbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && go run ./bench/genconf -programs "$programs" "$work/conf" >/dev/null)
# systemd gives a generator directories on a tmpfs (/run); /dev/shm is one
# everywhere, where /run may not be when systemd is not PID 1.
out=$(mktemp -d /dev/shm/supersede-genbench.XXXXXX 2>/dev/null || mktemp -d "$work/out.XXXXXX")
trap 'rm -rf "$work" "$out"' EXIT
export SUPERSEDE_CONFIG=$work/conf/supervisord.conf
"$gen" "$out/n" "$out/e" "$out/l" 2>/dev/null || true
units=$(find "$out/l" -maxdepth 1 -type f | wc -l)
links=$(find "$out/l" -type l | wc -l)
echo "config: $programs programs; generated $units units and $links wants links into $out"
hyperfine --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	--prepare "rm -rf $out/n $out/e $out/l; mkdir -p $out/n $out/e $out/l" \
	"$gen $out/n $out/e $out/l 2>/dev/null" >&2
python3 - "$work/h.json" "$programs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| generator, {sys.argv[2]} programs | {r['median']*1000:.1f} ms median | {r['min']*1000:.1f} ms min | {r['max']*1000:.1f} ms max |")
PY
