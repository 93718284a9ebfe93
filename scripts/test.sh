#!/usr/bin/env bash
# Installs what is missing, builds, runs every test suite and ends with "N passed, N failed"
# (doctest test cases over all suites). Exits non-zero on any failure.
# Usage: scripts/test.sh [meson test args, e.g. --suite ops]
set -uo pipefail
cd "$(dirname "$0")/.."

stage_start=$SECONDS
stage() {  # prints how long the previous stage took, so growth stays visible
  echo "== $1 (previous stage: $((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
}

stage "setup and build"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

stage "tests"
meson test -C build --num-processes 2 --print-errorlogs "$@"
meson_rc=$?

stage "summary"
# Each doctest executable prints "[doctest] test cases: T | P passed | F failed | S skipped".
read -r passed failed < <(awk -F'|' '/\[doctest\] test cases:/ {
    split($2, p, " "); split($3, f, " "); P += p[1]; F += f[1] }
  END { print P + 0, F + 0 }' build/meson-logs/testlog.txt)
# A suite that crashed before printing its summary still counts as a failure.
if [ "$meson_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[ "$meson_rc" -eq 0 ] && [ "$failed" -eq 0 ]
