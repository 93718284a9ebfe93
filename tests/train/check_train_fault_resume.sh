#!/usr/bin/env bash
# `mpirun -np 2 splat train` on a tiny shapes set: a rank killed mid-epoch ends the whole job
# within seconds, naming the rank; the checkpoint last_checkpoint names is intact, and --resume
# from it on 2 processes ends bit for bit where an uninterrupted run ends (the final checkpoint
# files are byte-identical), and on 1 process runs to the end; a rank that throws (a train image
# corrupted under it) ends the job with "splat: error (rank R of 2)" and the reason; and
# `mpirun -np 2 splat test` writes the same results file and prints the same AP table as one process.
# Usage: check_train_fault_resume.sh MPIRUN SPLAT SOURCE_ROOT
set -u
mpirun=$1 splat=$2 root=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 8 images in batches of 2 on 2 processes (the config's total_batch of 4); linear lr scaling for
# the 1-process resume. 8 iterations: several epochs of 2 to 3 steps.
train() { # NP WORK_DIR [ARGS...]
  local np=$1 work=$2
  shift 2
  timeout 300 "$mpirun" -np "$np" --oversubscribe "$splat" --threads 1 train \
    "$root/configs/shapes/faster_rcnn_s18_fpn_shapes.toml" --data "$dir/shapes" --work-dir "$work" \
    --max-iters 8 --no-validate --log-interval 1 \
    --set data.dataset.train=8 --set data.dataset.val=4 --set data.dataset.min_size=64 \
    --set data.dataset.max_size=96 --set data.train.batch_size=2 --set "data.train.scales=[[128, 64], [128, 96]]" \
    --set data.workers=1 --set model.backbone.norm=\"SyncBN\" --set model.roi_head.bbox_head.norm=\"SyncBN\" \
    --set schedule.scale_lr=\"linear\" "$@"
}
last() { tr -d '\n' < "$1/last_checkpoint"; }
# splat test NP RESULTS CHECKPOINT: the val split (4 images here, one per batch) over NP processes.
evaluate() {
  timeout 300 "$mpirun" -np "$1" --oversubscribe "$splat" --threads 1 test \
    "$root/configs/shapes/faster_rcnn_s18_fpn_shapes.toml" "$3" --data "$dir/shapes" --out "$2" \
    --set data.dataset.train=8 --set data.dataset.val=4 --set data.dataset.min_size=64 \
    --set data.dataset.max_size=96 --set data.test.batch_size=1 --set "data.test.scale=[128, 96]"
}

train 2 "$dir/straight" > "$dir/straight.log" 2>&1 || { cat "$dir/straight.log"; fail "the uninterrupted run failed"; }
echo "uninterrupted: $(tail -n 1 "$dir/straight.log")"

# The same run, rank 1 killed once the first checkpoint is written.
train 2 "$dir/killed" > "$dir/killed.log" 2>&1 &
job=$!
for _ in $(seq 600); do [ -f "$dir/killed/last_checkpoint" ] && break; sleep 0.2; done
[ -f "$dir/killed/last_checkpoint" ] || { kill "$job"; cat "$dir/killed.log"; fail "no checkpoint appeared"; }
sleep 1
victim=
for p in $(pgrep -f -- "--work-dir $dir/killed"); do
  [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$splat")" ] &&
    grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$p/environ" 2> /dev/null && victim=$p
done
[ -n "$victim" ] || { kill "$job"; cat "$dir/killed.log"; fail "rank 1's process not found"; }
start=$SECONDS
kill -9 "$victim"
wait "$job"
status=$? elapsed=$((SECONDS - start))
echo "killed rank 1 (pid $victim): the job exited with status $status after $elapsed s"
[ "$status" -ne 0 ] || fail "the job exited successfully"
[ "$status" -ne 124 ] || fail "the job hung (killed by the timeout)"
[ "$elapsed" -le 20 ] || fail "the job took $elapsed s to stop"
grep -q "process rank 1 with PID .* exited on signal 9" "$dir/killed.log" || { cat "$dir/killed.log"; fail "the rank and the signal are not named"; }
checkpoint=$(last "$dir/killed")
[ -f "$checkpoint" ] || fail "last_checkpoint names $checkpoint, which is missing"
echo "last checkpoint: $checkpoint"

# Resume on 2 processes: the same end as the uninterrupted run, byte for byte.
train 2 "$dir/killed" --resume "$checkpoint" > "$dir/resume2.log" 2>&1 || { cat "$dir/resume2.log"; fail "resuming on 2 processes failed"; }
cmp "$(last "$dir/straight")" "$(last "$dir/killed")" || fail "resumed on 2 processes, the final checkpoint differs from the uninterrupted run's"
echo "resumed on 2 processes: $(tail -n 1 "$dir/resume2.log"), identical to the uninterrupted run"

# Resume on 1 process (lr scaled to its batch of 2): it runs to the end.
train 1 "$dir/one" --resume "$checkpoint" > "$dir/resume1.log" 2>&1 || { cat "$dir/resume1.log"; fail "resuming on 1 process failed"; }
grep -q "saved by 2 processes" "$dir/resume1.log" || fail "the 1-process resume does not say it continues a 2-process run"
grep -q "^trained 8 iterations" "$dir/resume1.log" || { cat "$dir/resume1.log"; fail "the 1-process resume did not reach iteration 8"; }
echo "resumed on 1 process: $(tail -n 1 "$dir/resume1.log")"

# Evaluation over 2 processes: rank 0 gathers the other's detections into the same file.
evaluate 1 "$dir/results1.json" "$(last "$dir/straight")" > "$dir/test1.log" 2>&1 || { cat "$dir/test1.log"; fail "splat test on 1 process failed"; }
evaluate 2 "$dir/results2.json" "$(last "$dir/straight")" > "$dir/test2.log" 2>&1 || { cat "$dir/test2.log"; fail "splat test on 2 processes failed"; }
cmp "$dir/results1.json" "$dir/results2.json" || fail "splat test on 2 processes wrote other results than on 1"
[ -s "$dir/results1.json" ] || fail "no results written"
diff <(grep "Average" "$dir/test1.log") <(grep "Average" "$dir/test2.log") || fail "the AP tables differ"
[ "$(grep -c "Average" "$dir/test2.log")" -eq 12 ] || { cat "$dir/test2.log"; fail "the 2-process run did not print the 12 numbers once"; }
echo "splat test on 2 processes: $(tail -n 1 "$dir/test2.log"), the same results as 1 process"

# A rank that throws: every train image corrupted, resumed from the checkpoint.
for f in "$dir"/shapes/train/*; do printf 'not an image' > "$f"; done
start=$SECONDS
train 2 "$dir/killed" --resume "$checkpoint" > "$dir/throw.log" 2>&1
status=$? elapsed=$((SECONDS - start))
echo "corrupt images: the job exited with status $status after $elapsed s"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || { cat "$dir/throw.log"; fail "the job did not fail cleanly"; }
grep -q "splat: error (rank [01] of 2): .*shapes/train/" "$dir/throw.log" || { cat "$dir/throw.log"; fail "the rank and the image are not named"; }
[ -f "$checkpoint" ] || fail "the checkpoint is gone"
echo "PASS"
