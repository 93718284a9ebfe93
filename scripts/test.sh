#!/usr/bin/env bash
# Installs what is missing, builds, runs every test suite and ends with
# "N passed, N failed, N skipped" (doctest test cases over all suites and builds). Exits
# non-zero on any failure.
#
# Builds: build/ is the default build (CUDA kernels run on the host emulator); build-cuda/ is
# the real nvcc build (sm_80, sm_90), always compiled and linked; its tests run too, and on a
# machine without a GPU its CUDA cases skip while the CPU cases run.
# build-asan/ runs the emulator and CUDA op tests under AddressSanitizer + UBSan.
# Usage: scripts/test.sh [meson test args, e.g. --suite ops]
#   SPLAT_SKIP_ASAN=1 / SPLAT_SKIP_CUDA_BUILD=1 leave out build-asan / build-cuda (local use).
set -uo pipefail
cd "$(dirname "$0")/.."

stage_start=$SECONDS
stage() {  # prints how long the previous stage took, so growth stays visible
  echo "== $1 (previous stage: $((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
}

stage "setup and build (emulated CUDA)"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

stage "tests (emulated CUDA)"
meson test -C build --num-processes 2 --print-errorlogs "$@"
rc=$?
logs=(build/meson-logs/testlog.txt)

if [ "${SPLAT_SKIP_ASAN:-0}" != 1 ]; then
  # The emulator and the CUDA op kernels under AddressSanitizer + UBSan: emulated device memory
  # is heap memory, so out-of-bounds kernel accesses are caught (design.md section 5b).
  stage "configure and build (ASan + UBSan, emulated CUDA)"
  if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined \
      -Db_lundef=false || { echo "0 passed, 1 failed"; exit 1; }
  fi
  ninja -C build-asan tests/test_core tests/test_ops || { echo "0 passed, 1 failed"; exit 1; }
  stage "tests (ASan + UBSan: core incl. emulator and allocator, CUDA ops)"
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  build-asan/tests/test_core 2>&1 | tee build-asan/test_core.log || rc=1
  build-asan/tests/test_ops -ts='cuda*' 2>&1 | tee build-asan/test_ops.log || rc=1
  logs+=(build-asan/test_core.log build-asan/test_ops.log)
fi

if [ "${SPLAT_SKIP_CUDA_BUILD:-0}" != 1 ]; then
  stage "configure and build (nvcc, sm_80 + sm_90)"
  if [ ! -f build-cuda/build.ninja ]; then
    meson setup build-cuda --buildtype=release -Dcuda=enabled || { echo "0 passed, 1 failed"; exit 1; }
  fi
  ninja -C build-cuda || { echo "0 passed, 1 failed"; exit 1; }
  stage "tests (nvcc build)"
  meson test -C build-cuda --num-processes 2 --print-errorlogs "$@" || rc=1
  logs+=(build-cuda/meson-logs/testlog.txt)
fi

stage "summary"
# Each doctest executable prints "[doctest] test cases: T | P passed | F failed | S skipped".
read -r passed failed skipped < <(awk -F'|' '/\[doctest\] test cases:/ {
    split($2, p, " "); split($3, f, " "); split($4, s, " "); P += p[1]; F += f[1]; S += s[1] }
  END { print P + 0, F + 0, S + 0 }' "${logs[@]}")
# A suite that crashed before printing its summary still counts as a failure.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
