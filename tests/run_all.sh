#!/bin/sh
# Runs every cmocka suite given on the command line, keeps going past failures,
# and closes with one summary line.  Exit status: 0 only if nothing failed.
passed=0; failed=0; skipped=0; bad=""
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ $rc -ne 0 ]; then
        bad="$bad $(basename "$t")"
        [ "$f" -eq 0 ] && failed=$((failed + 1))   # crashed before reporting
    fi
done
[ -n "$bad" ] && echo "failing suites:$bad"
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "$bad" ]
