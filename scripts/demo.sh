#!/usr/bin/env bash
# The main job: a ResNeSt Faster R-CNN learns to detect shapes from scratch on the CPU.
#   1. generates the shapes dataset (1,500 train and 200 val images, no download),
#   2. trains configs/shapes/faster_rcnn_s18_fpn_shapes_demo.toml (3 epochs) and scores the val
#      split with COCO box AP at the end (pycocotools' table),
#   3. draws the detections on 8 validation images and the loss / lr / AP curves,
# and ends with one line: AP, AP50, the iterations and the minutes it took.
# Everything lands in build/demo/ (work/: logs, TensorBoard files, checkpoints; pictures/;
# work/curves.png). Usage: scripts/demo.sh [--threads N] [extra splat train options, e.g.
# --set schedule.epochs=1]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2
if [ "${1:-}" = --threads ]; then threads=$2; shift 2; fi
scripts/setup.sh
config=configs/shapes/faster_rcnn_s18_fpn_shapes_demo.toml
out=build/demo
start=$SECONDS
rm -rf "$out/work"
# The dataset is generated once and reused; splat regenerates it when the config's options change,
# which it tells from the stamp it leaves there (folders from before the stamp existed lack it).
[ -f "$out/shapes/generated_for_config.txt" ] || rm -rf "$out/shapes"
echo "== splat train: $config ($threads threads)"
build/train/splat --threads "$threads" train "$config" --data "$out/shapes" --work-dir "$out/work" \
  --log-interval 50 "$@" | tee "$out.log"
echo "== splat infer: detections on validation images -> $out/pictures"
build/train/splat --threads "$threads" infer "$config" "$(cat "$out/work/last_checkpoint")" \
  "$out"/shapes/val/00000[1-8].jpg --out "$out/pictures" --set "data.dataset.dir='$out/shapes'" | tail -1
/usr/bin/python3 scripts/plot_log.py "$out/work"
minutes=$(awk -v s=$((SECONDS - start)) 'BEGIN { printf "%.1f", s / 60 }')
iters=$(sed -n 's/^trained \([0-9]*\) iterations.*/\1/p' "$out.log")
ap=$(sed -n 's/^bbox AP \([0-9.]*\), AP50 \([0-9.]*\).*/AP \1, AP50 \2/p' "$out.log")
echo "demo: shapes-val box ${ap:-AP n/a}; $iters iterations in $minutes min on $threads threads (pictures in $out/pictures, curves in $out/work/curves.png)"
