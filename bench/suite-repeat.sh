#!/bin/sh
# The lab must never flake: run the README's whole test command N times in a row (default 3)
# and print one line per run (exit status, wall time, pytest's closing line), then a verdict.
# Exits non-zero when any run failed; a failed run's whole log is kept (its path is printed).
# Usage: sh bench/suite-repeat.sh [N]
set -u
cd "$(dirname "$0")/.."
runs=${1:-3}
failed=0
i=1
while [ "$i" -le "$runs" ]; do
    log=$(mktemp)
    started=$(date +%s)
    sh scripts/test.sh -q -p no:cacheprovider </dev/null >"$log" 2>&1
    status=$?
    ended=$(date +%s)
    summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed).* =+$' "$log" | tail -n 1)
    echo "run $i/$runs: exit $status in $((ended - started)) s: $summary"
    if [ "$status" -ne 0 ]; then
        failed=$((failed + 1))
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
        echo "    whole log: $log"
    else
        rm -f "$log"
    fi
    i=$((i + 1))
done
echo "$((runs - failed)) of $runs full-suite runs passed"
[ "$failed" -eq 0 ]
