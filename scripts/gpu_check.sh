#!/usr/bin/env bash
# The CUDA half of splat on a real GPU, in one command: configures the nvcc build (build-gpu/)
# for the GPU nvidia-smi reports, builds what the check needs, runs every test case of the test
# files that touch the CUDA device, then `splat bench model` and `splat bench detector` (Faster
# S-50, 2 images of 1333x800) on the GPU, printing images/s and peak memory. Ends with
# "N passed, N failed" (doctest test cases, plus one per build and benchmark step); exits
# non-zero on any failure. Budget: under 8 minutes on one H100-class GPU with 16 cores (the
# build dominates; ccache makes reruns cheap).
#
# Without a GPU (nvidia-smi missing or failing) it says so and exits 0 without running anything.
#
# Usage: scripts/gpu_check.sh
#   SPLAT_GPU_CHECK_NVIDIA_SMI  the nvidia-smi to ask (default: nvidia-smi), for testing
#   SPLAT_GPU_CHECK_BUILD_DIR   the build directory (default: build-gpu)
set -uo pipefail
cd "$(dirname "$0")/.."

smi=${SPLAT_GPU_CHECK_NVIDIA_SMI:-nvidia-smi}
if ! command -v "$smi" > /dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU here ($smi not found); nothing to check"
  exit 0
fi
if ! gpus=$("$smi" --query-gpu=name,compute_cap,memory.total --format=csv,noheader 2>&1) ||
   [ -z "$gpus" ]; then
  echo "gpu_check: no NVIDIA GPU here ($smi failed: $(head -1 <<< "$gpus")); nothing to check"
  exit 0
fi
gpu=$(head -1 <<< "$gpus")
cap=$(cut -d, -f2 <<< "$gpu" | tr -d ' .')
if ! [[ $cap =~ ^[0-9]+$ ]]; then
  echo "gpu_check: cannot read the compute capability from '$gpu'"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "== GPU: $gpu (sm_$cap); $(nproc) cores"

passed=0
failed=0
stage_start=$SECONDS
stage() {  # prints how long the previous stage took
  echo "== $1 (previous stage: $((SECONDS - stage_start)) s)"
  stage_start=$SECONDS
}
fail_step() {
  echo "FAILED: $*"
  failed=$((failed + 1))
}

build=${SPLAT_GPU_CHECK_BUILD_DIR:-build-gpu}
stage "configure $build (nvcc, sm_$cap)"
export CCACHE_BASEDIR=$PWD
# meson puts ccache in front of the host compilers itself; nvcc needs it named.
command -v ccache > /dev/null && export NVCC="ccache ${NVCC:-nvcc}"
if [ -f "$build/build.ninja" ]; then
  meson configure "$build" -Dcuda=enabled "-Dgpu_archs=$cap" -Dbuildtype=release > /dev/null
else
  meson setup "$build" --buildtype=release -Dcuda=enabled "-Dgpu_archs=$cap" > "$build.setup.log" 2>&1 ||
    { tail -30 "$build.setup.log"; }
fi
[ -f "$build/build.ninja" ] || { fail_step "meson setup (see $build.setup.log)"; echo "$passed passed, $failed failed"; exit 1; }

# The test binaries with CUDA cases and the splat command; not the slow suites.
binaries=(test_core test_ops test_autograd test_nn test_data test_models test_train)
stage "build (ninja -j$(nproc))"
if ninja -C "$build" -j"$(nproc)" train/splat "${binaries[@]/#/tests/}"; then
  passed=$((passed + 1))
else
  fail_step "build"
  echo "$passed passed, $failed failed"
  exit 1
fi

# Every test file that touches the CUDA device, found afresh each run so new files are included;
# all their cases run (their CPU halves are quick). doctest selects a binary's own files.
stage "CUDA test cases"
files=$(grep -rlE 'no_cuda_device|cpu_and_cuda|Device::cuda|kCuda' tests --include='*.cpp' |
        xargs -n1 basename | sed 's/^/*/' | paste -sd, -)
count() {  # field of doctest's summary: 2 passed, 3 failed
  awk -F'|' -v f="$1" '/\[doctest\] test cases:/ { split($f, a, " "); n += a[1] } END { print n + 0 }' "$2"
}
for b in "${binaries[@]}"; do
  log="$build/gpu_check_$b.log"
  "$build/tests/$b" -sf="$files" > "$log" 2>&1
  rc=$?
  p=$(count 2 "$log") f=$(count 3 "$log")
  # A binary that crashed before its summary still counts as a failure.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "$b: $p passed, $f failed"
  [ "$f" -eq 0 ] || grep -B2 -A12 -E 'ERROR|FATAL|splat::Error|failed' "$log" | head -60
done
echo "(the distributed suite needs two GPUs: NCCL refuses two ranks on one device)"

# Reads a number field of the benchmarks' one-line JSON.
field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" <<< "$2"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
# report NAME JSON INFERENCE_KEY NOTE: the benchmark's speeds and peak memory, or a failure.
report() {
  if [ -n "$(field train_images_per_s "$2")" ]; then
    echo "$1: train $(field train_images_per_s "$2") images/s, inference $(field "$3" "$2") images/s," \
         "peak memory $(mib "$(field peak_memory_bytes "$2")") (reserved $(mib "$(field peak_reserved_bytes "$2")"))$4"
    passed=$((passed + 1))
  else
    fail_step "$1: $2"
  fi
}

stage "splat bench model (ResNeSt-50, batch 8, 224x224)"
out=$("$build/train/splat" bench model --device cuda --iters 5 --json 2>&1 | tail -1)
report "bench model" "$out" infer_images_per_s ""

stage "splat bench detector (Faster S-50, 2 images of 1333x800)"
config=configs/resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml
out=$("$build/train/splat" bench detector --config "$config" --device cuda --batch 2 --size 800 \
        --width 1333 --iters 5 --json 2>&1 | tail -1)
report "bench detector" "$out" inference_images_per_s "; MMDetection reports 4.8 GB"

stage "summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
