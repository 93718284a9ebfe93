#!/usr/bin/env bash
# The main job. Until the detectors exist (design.md section 10) it runs the most meaningful
# end-to-end things splat can do so far; it grows with each roadmap step. Everything it uses is
# generated here (no download).
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== splat demo: autograd + SGD training, safetensors checkpoint round trip"
build/train/splat demo --checkpoint build/demo_mlp.safetensors
echo "== splat make-shapes: the synthetic COCO-format dataset the detectors will train on"
build/train/splat make-shapes build/demo_shapes --train 16 --val 4
echo "== splat browse-dataset: augmented training samples with boxes, labels and masks drawn"
build/train/splat browse-dataset --data build/demo_shapes --out build/demo_browse --num 4
echo "== splat bench model: a ResNeSt-50 training step and inference on the CPU"
build/train/splat bench model --model resnest50 --batch 2 --size 128 --iters 1
echo "== splat bench conv: the convolutions of ResNeSt-50 (forward)"
build/train/splat bench conv --batch 2 --min-seconds 0.05 | tail -1
