#!/bin/sh
# bench/shim.sh: the cost of the compatibility step per start of a unit
# (docs/MAPPING.md): one `supersede shim backoff --locale` and one
# `supersede shim startsecs` (startsecs=0, so only the process itself is
# measured), and per death one `supersede shim exited`, side by side with
# exec of /bin/true, N times each, in one run.
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
	while [ $i -lt "$N" ]; do rm -f "$tmp/state/failures" "$tmp/state/locale"; "$@" >/dev/null; i=$((i + 1)); done
	end=$(date +%s%N)
	echo $(((end - start) / N / 1000))
}
t=$(run /bin/true)
b=$(run "$tmp/supersede" shim backoff "$tmp/state" 3 --locale)
s=$(MAINPID=$$ run "$tmp/supersede" shim startsecs "$tmp/state" 0)
x=$(run "$tmp/supersede" shim exited "$tmp/state")
echo "µs (each with an rm before it): /bin/true $t, shim backoff $b, shim startsecs $s, shim exited $x"
echo "the step adds $((b + s - 2 * t)) µs per start over two execs of /bin/true, and $((x - t)) µs per death over one (${N} runs each)"
