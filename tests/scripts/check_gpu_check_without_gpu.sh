#!/usr/bin/env bash
# scripts/gpu_check.sh on a machine without a usable GPU: nvidia-smi missing or failing means
# "no GPU here", exit 0, nothing configured or built; an unreadable compute capability is a
# failure that says so. Fake nvidia-smi commands stand in for the real one.
# Usage: check_gpu_check_without_gpu.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run() {  # gpu_check.sh with the given nvidia-smi, building (if it wrongly did) under $tmp
  SPLAT_GPU_CHECK_NVIDIA_SMI=$1 SPLAT_GPU_CHECK_BUILD_DIR="$tmp/build-gpu" "$src/scripts/gpu_check.sh" 2>&1
}

out=$(run "$tmp/no-such-nvidia-smi") || fail "missing nvidia-smi: exit status $?: $out"
grep -q "^gpu_check: no NVIDIA GPU here (.*no-such-nvidia-smi not found); nothing to check$" <<< "$out" ||
  fail "missing nvidia-smi: $out"

printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver."\nexit 9\n' > "$tmp/broken-smi"
chmod +x "$tmp/broken-smi"
out=$(run "$tmp/broken-smi") || fail "failing nvidia-smi: exit status $?: $out"
grep -q "^gpu_check: no NVIDIA GPU here (.*failed: NVIDIA-SMI has failed because" <<< "$out" ||
  fail "failing nvidia-smi: $out"

printf '#!/bin/sh\necho "Some GPU, [N/A], 81559 MiB"\n' > "$tmp/odd-smi"
chmod +x "$tmp/odd-smi"
out=$(run "$tmp/odd-smi") && fail "an unreadable compute capability passed: $out"
grep -q "cannot read the compute capability from 'Some GPU, \[N/A\], 81559 MiB'" <<< "$out" ||
  fail "unreadable compute capability: $out"
[ "$(tail -1 <<< "$out")" = "0 passed, 1 failed" ] || fail "no summary line: $out"

[ ! -e "$tmp/build-gpu" ] || fail "gpu_check configured a build without a GPU"
echo "gpu_check.sh without a GPU: ok"
