#!/usr/bin/env bash
# Smoke test of the `splat` subcommands that work on files: each must succeed on good input,
# produce its output, and fail with a one-line error (non-zero status) on bad input.
# Usage: check_commands.sh SPLAT SOURCE_DIR
set -u
splat=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$splat" convert "$src/tests/fixtures/pth/tiny_resnest.pth" "$tmp/tiny.safetensors" || fail "convert"
[ -s "$tmp/tiny.safetensors" ] || fail "convert wrote nothing"
"$splat" convert "$src/tests/fixtures/pth/legacy_state_dict.pth" "$tmp/legacy.safetensors" --map mmdet || fail "convert legacy"
out=$("$splat" convert "$src/tests/fixtures/pth/bad_complex.pth" "$tmp/bad.safetensors" 2>&1) && fail "convert accepted a complex checkpoint"
grep -q "^splat: error: .*unsupported storage type torch.ComplexFloatStorage" <<< "$out" || fail "convert error: $out"

"$splat" make-shapes "$tmp/shapes" --train 3 --val 1 --seed 5 || fail "make-shapes"
[ -s "$tmp/shapes/annotations/instances_train.json" ] || fail "make-shapes: no train annotations"
[ "$(ls "$tmp/shapes/train" | wc -l)" -eq 3 ] || fail "make-shapes: expected 3 train images"
"$splat" browse-dataset --data "$tmp/shapes" --out "$tmp/browse" --num 2 || fail "browse-dataset"
[ "$(ls "$tmp/browse"/*.png | wc -l)" -eq 2 ] || fail "browse-dataset: expected 2 PNGs"
out=$("$splat" browse-dataset --data "$tmp/nowhere" --out "$tmp/b2" 2>&1) && fail "browse-dataset accepted a missing dataset"
grep -q "^splat: error: " <<< "$out" || fail "browse-dataset error: $out"

# browse-dataset CONFIG draws what training sees: the config's dataset (generated, as it is
# absent) through its own pipelines. The shapes config's train scales are [[480, 256],
# [480, 320]], its test scale [480, 288], both padded to multiples of 32; the default pipeline
# (the --data form) would make short sides of 640-800.
shapes_cfg="$src/configs/shapes/faster_rcnn_s18_fpn_shapes.toml"
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4, $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'; }
check_sizes() { # DIR COUNT MAX_SHORT_SIDE: COUNT PNGs, each padded to 32 with sides <= 480 and <= MAX_SHORT_SIDE
  [ "$(ls "$1"/*.png | wc -l)" -eq "$2" ] || fail "browse-dataset: expected $2 PNGs in $1"
  for png in "$1"/*.png; do
    read -r w h <<< "$(png_size "$png")"
    short=$((w < h ? w : h)) long=$((w < h ? h : w))
    [ $((w % 32)) -eq 0 ] && [ $((h % 32)) -eq 0 ] && [ "$long" -le 480 ] && [ "$short" -le "$3" ] ||
      fail "browse-dataset: $png is ${w}x${h}, not what the config's pipeline makes"
  done
}
cfg_set=(--set "data.dataset.dir=$tmp/cfg_shapes" --set data.dataset.train=4 --set data.dataset.val=2)
out=$("$splat" browse-dataset "$shapes_cfg" "${cfg_set[@]}" --out "$tmp/browse_cfg" --num 3) || fail "browse-dataset CONFIG"
grep -q "^generating the shapes dataset in $tmp/cfg_shapes (4 train, 2 val images)" <<< "$out" ||
  fail "browse-dataset CONFIG did not generate the dataset: $out"
check_sizes "$tmp/browse_cfg" 3 320
"$splat" browse-dataset "$shapes_cfg" "${cfg_set[@]}" --split val --out "$tmp/browse_val" --num 5 > /dev/null ||
  fail "browse-dataset CONFIG --split val"
check_sizes "$tmp/browse_val" 2 288
# --data replaces the config's dataset folder: the 3 training images of make-shapes above.
"$splat" browse-dataset "$shapes_cfg" --data "$tmp/shapes" --out "$tmp/browse_data" --num 8 > /dev/null ||
  fail "browse-dataset CONFIG --data"
check_sizes "$tmp/browse_data" 3 320
out=$("$splat" browse-dataset "$tmp/none.toml" --out "$tmp/b3" 2>&1) && fail "browse-dataset accepted a missing config"
[ "$out" = "splat: error: $tmp/none.toml: cannot read config file: No such file or directory" ] ||
  fail "browse-dataset missing config error: $out"
coco_cfg="$src/configs/resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml"
out=$("$splat" browse-dataset "$coco_cfg" --data "$tmp/nowhere" --out "$tmp/b4" 2>&1) && fail "browse-dataset accepted a missing COCO dataset"
grep -q "^splat: error: $tmp/nowhere/annotations/instances_train2017.json: no such annotation file" <<< "$out" ||
  fail "browse-dataset missing COCO dataset error: $out"
[ "$(wc -l <<< "$out")" -eq 1 ] || fail "browse-dataset error is not one line: $out"

# The detector commands (run_infer itself is tested in tests/train/test_infer.cpp, with weights).
img=$(ls "$tmp/shapes/val"/* | head -1)
out=$("$splat" infer "$shapes_cfg" "$tmp/none.safetensors" "$img" --out "$tmp/infer" 2>&1) && fail "infer accepted a missing checkpoint"
grep -q "^splat: error: .*none.safetensors: no such checkpoint file$" <<< "$out" || fail "infer checkpoint error: $out"
out=$("$splat" infer "$shapes_cfg" "$tmp/none.safetensors" "$tmp/none.jpg" --out "$tmp/infer" 2>&1) && fail "infer accepted a missing image"
grep -q "^splat: error: .*none.jpg: no such image file$" <<< "$out" || fail "infer image error: $out"
out=$("$splat" bench detector --config "$shapes_cfg" --batch 2 --size 64 --iters 1 --json) || fail "bench detector"
grep -q '"train_images_per_s": [0-9.]*, "inference_images_per_s": [0-9.]*, "peak_memory_bytes": [1-9]' <<< "$out" ||
  fail "bench detector output: $out"
"$splat" bench detector --config "$shapes_cfg" --batch 1 > /dev/null 2>&1 && fail "bench detector trained on 1 image"
# splat eval prints what pycocotools' summarize() prints (fixtures from scripts/fixtures/coco_eval.py).
ev="$src/tests/fixtures/coco_eval"
for name in hand random; do
  for type in bbox segm; do
    out=$("$splat" eval "$ev/$name.gt.json" "$ev/$name.$type.json" --iou-type $type) || fail "eval $name $type"
    [ "$out" = "$(cat "$ev/$name.$type.summary.txt")" ] || fail "eval $name $type printed: $out"
  done
done
out=$("$splat" eval "$ev/hand.gt.json" "$ev/hand.bbox.json" --json) || fail "eval --json"
grep -q '^{"iou_type": "bbox", "AP": 0.34[0-9]*, "AP50": .*"per_category": \[{"id": 1, "name": "square", "AP": ' <<< "$out" ||
  fail "eval --json output: $out"
out=$("$splat" eval "$ev/hand.gt.json" "$tmp/none.json" 2>&1) && fail "eval accepted a missing results file"
grep -q "^splat: error: .*none.json: cannot open the file" <<< "$out" || fail "eval missing file error: $out"
echo '[{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]' > "$tmp/bad_image.json"
out=$("$splat" eval "$ev/hand.gt.json" "$tmp/bad_image.json" 2>&1) && fail "eval accepted an unknown image"
[ "$out" = "splat: error: $tmp/bad_image.json: results[0].image_id: image id 999 is not an image of $ev/hand.gt.json" ] ||
  fail "eval unknown image error: $out"
echo '[{"image_id": 10,' > "$tmp/malformed.json"
out=$("$splat" eval "$ev/hand.gt.json" "$tmp/malformed.json" 2>&1) && fail "eval accepted malformed JSON"
grep -q "^splat: error: $tmp/malformed.json: .*" <<< "$out" || fail "eval malformed error: $out"
[ "$(wc -l <<< "$out")" -eq 1 ] || fail "eval error is not one line: $out"
"$splat" bench eval --images 20 --detections 5 --categories 3 | grep -q "^eval iou_type=bbox images=20 .*evaluate_s=" ||
  fail "bench eval"

echo "PASS"
