#!/bin/sh
# Regenerate the regress/*.json goldens from regress/*.conf with the
# installed Supervisor, as shared/oracle/regen-cases.sh does for the cases:
# strict, --portable, a fixed minimal environment, cwd = this directory.
# NAME.lenient.conf is run with --lenient --no-exec instead (for
# divergences only lenient mode shows).
#   ./regen.sh          rewrite the golden files
#   ./regen.sh --check  only compare; exit 1 if any differs
# SUPERSEDE_SHARED overrides where shared/ is (default: ../shared beside
# the repository).
set -u
check=0
[ "${1:-}" = "--check" ] && check=1
cd "$(dirname "$0")" || exit 1
shared=${SUPERSEDE_SHARED:-$(cd ../../../../.. && pwd)/shared}
script=$shared/oracle/supervisor-parse.py
[ -f "$script" ] || { echo "no $script (set SUPERSEDE_SHARED)" >&2; exit 1; }
status=0
for conf in *.conf; do
    name=${conf%.conf}
    mode=
    case $conf in *.lenient.conf) mode="--lenient --no-exec" ;; esac
    # shellcheck disable=SC2086
    out=$(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/oracle \
            LANG=C.UTF-8 ORACLE_GREETING=hello ORACLE_PRIO=42 \
            /usr/bin/python3 "$script" --portable $mode "$conf")
    rc=$?
    if [ $check -eq 1 ]; then
        if [ "$out" = "$(cat "$name.json")" ]; then
            echo "$name: ok (exit $rc)"
        else
            echo "$name: DIFFERS"; status=1
        fi
    else
        printf '%s\n' "$out" > "$name.json"
        echo "$name: exit $rc"
    fi
done
exit $status
