#!/usr/bin/env bash
# `splat bench detector` on every seed config under configs/resnest/ (the eight rows: Faster,
# Mask, Cascade and Cascade Mask R-CNN, S-50 and S-101) at a tiny size: each builds, runs a
# training step and inference, and prints the benchmark's JSON line.
# Usage: check_seed_configs_bench.sh SPLAT SOURCE_ROOT
set -u
splat=$1 root=$2
n=0
for config in "$root"/configs/resnest/*.toml; do
  out=$("$splat" --threads 1 bench detector --config "$config" --batch 2 --size 64 --iters 1 --json 2>&1 | tail -1)
  grep -q '"train_images_per_s": [0-9.]*, "inference_images_per_s": [0-9.]*, "peak_memory_bytes": [1-9]' <<< "$out" ||
    { echo "FAIL: bench detector on $config: $out"; exit 1; }
  echo "$(basename "$config"): $out"
  n=$((n + 1))
done
[ "$n" -eq 8 ] || { echo "FAIL: expected the 8 seed configs, found $n"; exit 1; }
echo PASS
