#!/usr/bin/env bash
# Installs what is missing, builds, runs every test suite and ends with
# "N passed, N failed, N skipped" (doctest test cases over all suites and builds). Exits
# non-zero on any failure.
#
# Builds: build/ is the default build (CUDA kernels run on the host emulator); build-cuda/ is
# the real nvcc build (sm_80 here), always compiled and linked; its tests run too, and on a
# machine without a GPU its CUDA cases skip while the CPU cases run.
# build-asan/ runs the emulator and CUDA op tests under AddressSanitizer + UBSan.
# Usage: scripts/test.sh [meson test args, e.g. --suite ops]
#   SPLAT_SKIP_ASAN=1 / SPLAT_SKIP_CUDA_BUILD=1 leave out build-asan / build-cuda (local use).
set -uo pipefail
cd "$(dirname "$0")/.."
# Test processes run side by side on few cores: idle OpenMP threads sleep instead of spinning
# (spinning workers starve the emulator's fibers of the other process).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

stage_start=$SECONDS
stage() {  # prints how long the previous stage took, so growth stays visible
  echo "== $1 (previous stage: $((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
}

stage "setup and build (emulated CUDA)"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

# What was tested: the compiler, the host code's instruction-set flags and this CPU's features
# (issue 13: a compiler bug that only AVX-512 code generation exposes).
echo "== what is tested (splat info)"
build/train/splat info | sed 's/^/   /'

stage "tests (emulated CUDA)"
meson test -C build --num-processes 2 --print-errorlogs "$@"
rc=$?
[ -x build/tests/test_ops ] || { echo "0 passed, 1 failed"; exit 1; }
logs=(build/meson-logs/testlog.txt)

# The emulator resumes threads and blocks in random order (seed 0) by default; rerun the kernel
# tests under three more schedules so a missing barrier cannot hide behind one lucky order.
stage "tests (emulated CUDA kernels under more schedules)"
for schedule in "inorder 0" "reverse 0" "random 12345"; do
  read -r order seed <<< "$schedule"
  SPLAT_EMU_ORDER=$order SPLAT_EMU_SEED=$seed build/tests/test_ops -ts='cuda*' \
    > "build/test_ops_${order}_${seed}.log" 2>&1 || { rc=1; tail -40 "build/test_ops_${order}_${seed}.log"; }
  logs+=("build/test_ops_${order}_${seed}.log")
done

if [ "${SPLAT_SKIP_ASAN:-0}" != 1 ]; then
  # The emulator and the CUDA op kernels under AddressSanitizer + UBSan: emulated device memory
  # is heap memory, so out-of-bounds kernel accesses are caught (design.md section 5b).
  stage "configure and build (ASan + UBSan, emulated CUDA)"
  if [ ! -f build-asan/build.ninja ]; then
    # -O1 with line tables only: what ASan reports need, at half the compile time of -O2 -g.
    meson setup build-asan --buildtype=plain -Db_sanitize=address,undefined -Db_lundef=false \
      -Dcpp_args='-O1 -g1 -fno-omit-frame-pointer' || { echo "0 passed, 1 failed"; exit 1; }
  fi
  ninja -C build-asan tests/test_core tests/test_ops tests/test_nn tests/test_data ||
    { echo "0 passed, 1 failed"; exit 1; }
  stage "tests (ASan + UBSan: core incl. emulator and allocator, CUDA ops, file parsers)"
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  build-asan/tests/test_core 2>&1 | tee build-asan/test_core.log || rc=1
  build-asan/tests/test_ops -ts='cuda*' 2>&1 | tee build-asan/test_ops.log || rc=1
  # The .pth importer (with its corruption test), image codecs, COCO reader and mask codecs read
  # untrusted files: out-of-bounds reads must show here.
  build-asan/tests/test_nn 2>&1 | tee build-asan/test_nn.log || rc=1
  build-asan/tests/test_data 2>&1 | tee build-asan/test_data.log || rc=1
  logs+=(build-asan/test_core.log build-asan/test_ops.log build-asan/test_nn.log build-asan/test_data.log)
fi

if [ "${SPLAT_SKIP_CUDA_BUILD:-0}" != 1 ]; then
  stage "configure and build (nvcc, sm_80)"
  if [ ! -f build-cuda/build.ninja ]; then
    # One architecture is enough to prove the kernels compile and link (the code has no
    # architecture-specific paths); a build for GPUs keeps the default sm_80 + sm_90.
    meson setup build-cuda --buildtype=release -Dcuda=enabled -Dgpu_archs=80 ||
      { echo "0 passed, 1 failed"; exit 1; }
  fi
  ninja -C build-cuda || { echo "0 passed, 1 failed"; exit 1; }
  stage "tests (nvcc build)"
  # The suites with CUDA cases (they skip without a GPU); the others run the same host code as
  # the emulated build.
  meson test -C build-cuda --num-processes 2 --print-errorlogs --suite core --suite ops \
    --suite autograd --suite models --suite distributed "$@" || rc=1
  logs+=(build-cuda/meson-logs/testlog.txt)
  cuda_log=build-cuda/meson-logs/testlog.txt
fi

stage "summary"
# Each doctest executable prints "[doctest] test cases: T | P passed | F failed | S skipped".
# Filtered reruns (schedules, ASan) count as skipped what their filter left out, so skipped
# cases are counted from the full meson runs only.
count() {  # field (2 passed, 3 failed, 4 skipped) summed over the given logs
  awk -F'|' -v f="$1" '/\[doctest\] test cases:/ { split($f, a, " "); n += a[1] } END { print n + 0 }' "${@:2}"
}
passed=$(count 2 "${logs[@]}")
failed=$(count 3 "${logs[@]}")
skipped=$(count 4 build/meson-logs/testlog.txt ${cuda_log:-})
# A suite that crashed before printing its summary still counts as a failure.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
