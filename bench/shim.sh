#!/bin/sh
# bench/shim.sh: the cost of the compatibility step per start of a unit
# (docs/MAPPING.md): one `supersede shim backoff` and one `supersede shim
# startsecs` (startsecs=0, so only the process itself is measured), side
# by side with exec of /bin/true, N times each, in one run.
set -eu
N=${N:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$tmp/supersede" ./cmd/supersede
mkdir "$tmp/state"
# Each run first removes the count (a fresh start: backoff does not
# sleep), the same in every column.
run() {
	start=$(date +%s%N)
	i=0
	while [ $i -lt "$N" ]; do rm -f "$tmp/state/failures"; "$@" >/dev/null; i=$((i + 1)); done
	end=$(date +%s%N)
	echo $(((end - start) / N / 1000))
}
t=$(run /bin/true)
b=$(run "$tmp/supersede" shim backoff "$tmp/state" 3)
s=$(MAINPID=$$ run "$tmp/supersede" shim startsecs "$tmp/state" 0)
echo "per start, µs (each with an rm before it): /bin/true $t, shim backoff $b, shim startsecs $s; the step adds $((b + s - 2 * t)) µs over two execs of /bin/true (${N} runs each)"
