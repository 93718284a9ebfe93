#!/usr/bin/env bash
# A failure on rank 1 must end an `mpirun -np 2` job within seconds, with a non-zero status and
# the failing rank's error on stderr (rank 0 would otherwise wait in its all-reduce forever).
# Usage: check_rank_failure.sh MPIRUN RANK_FAILURE_BINARY
set -u
mpirun=$1 binary=$2
start=$SECONDS
out=$(timeout 60 "$mpirun" -np 2 --oversubscribe "$binary" 2>&1)
status=$?
elapsed=$((SECONDS - start))
echo "$out"
echo "exit status $status after $elapsed s"
[ "$status" -ne 0 ] || { echo "FAIL: the job exited successfully"; exit 1; }
[ "$status" -ne 124 ] || { echo "FAIL: the job hung (killed by the 60 s timeout)"; exit 1; }
[ "$elapsed" -le 20 ] || { echo "FAIL: the job took $elapsed s to stop"; exit 1; }
grep -q "splat: error (rank 1 of 2): deliberate failure for the test" <<< "$out" ||
  { echo "FAIL: rank 1's error is missing"; exit 1; }
echo "PASS"
