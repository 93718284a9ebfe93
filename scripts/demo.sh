#!/usr/bin/env bash
# The main job. Until the detectors exist (design.md section 10) it runs the most meaningful
# end-to-end thing splat can do so far; it grows with each roadmap step.
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== splat demo: autograd + SGD training, safetensors checkpoint round trip"
build/train/splat demo --checkpoint build/demo_mlp.safetensors
echo "== splat bench matmul: f32 GEMM throughput of the CPU backend"
build/train/splat bench matmul --sizes 256 512 1024 --min-seconds 0.3
