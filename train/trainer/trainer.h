// `splat train`: a detector trained as its config says (train/config/), in one process or as one
// rank of a data-parallel job (`mpirun -np N splat train`, design.md section 6). Epochs over
// the config's sampler and loader; per iteration the learning rate of the schedule, the
// detector's losses, backward, optional gradient clipping and the optimizer step. Every
// log_interval iterations one line in MMDetection's form (train/log/log_line.h), to stdout and
// WORK_DIR/train.log, the same numbers to WORK_DIR/log.jsonl and to TensorBoard
// (WORK_DIR/tensorboard/). A checkpoint (train/checkpoint/) after every checkpoint_interval
// epochs and when max_iters stops the run; WORK_DIR/last_checkpoint names the newest. After
// every eval_interval epochs and the last, the model is scored on the val split
// (train/detection/evaluate.h): pycocotools' table and an Epoch(val) line with mmdet's
// coco/bbox_mAP... names (and coco/segm_mAP... for detectors with masks) go to the logs and
// TensorBoard.
//
// A run is a function of its config: the default generator restarts from the config's seed, so
// the same config trains the same weights in any process. Resuming continues bit-exactly: the
// checkpoint restores weights, optimizer state, the samplers' and the default generator's
// positions and where the epoch stood; the epoch's batches are the same (they depend on the seed
// and the epoch only) and the ones already done are skipped. A loss that is NaN or Inf stops the
// run with an error naming it and the iteration, before anything is written, so the last
// checkpoint stays the last good one.
//
// Under mpirun (train/distributed.h's communicator has world > 1) every rank runs this function:
// its device, random streams and SyncBN norms as train/trainer/rank_setup.h says; its shard of
// the epoch's global batch order (train/trainer/train_data.h); each step as
// train/trainer/train_step.h does it (gradients averaged by the reducer during backward, logged
// losses the means over ranks). The lr follows train/trainer/lr_rule.h (processes x batch_size
// against schedule.total_batch). Rank 0 alone prints, writes the logs, TensorBoard and the
// checkpoints; every rank waits until a checkpoint is written. A checkpoint stores the global
// sampler position and the number of processes, so `--resume` continues on the same or another
// number of processes (on another, the iteration counter is re-based to the new steps per epoch
// so the schedule's epochs stay where they were; the continuation is then no longer bit-exact).
// The epoch-end evaluation is distributed: each rank predicts its shard of the val split and rank
// 0 scores the gathered results (train/detection/evaluate.h). Every rank must read the same
// config, data and checkpoint paths (a shared file system across nodes).
#pragma once

#include "train/eval/coco_eval.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace splat::train {

struct TrainOptions {
  std::string config;
  std::vector<std::string> overrides; // key.path=value
  std::string data;                   // overrides the dataset folder (shapes: dir, COCO: root)
  std::string work_dir;               // default work_dirs/<config file stem>
  std::string resume;                 // a training checkpoint to continue from
  std::string device = "cpu";
  int64_t log_interval = 10;
  int64_t max_iters = 0; // stop (with a checkpoint) after this many iterations in all; 0: all epochs
  bool quiet = false;    // no log lines on stdout (the files are still written)
  bool validate = true;  // COCO evaluation on the val split every eval_interval epochs and at the end
};

struct TrainSummary {
  int64_t iterations = 0;          // done in all, including those before a resume
  std::vector<double> losses;      // the total loss of every iteration this call ran
  std::string last_checkpoint;
  std::optional<CocoEvalResult> evaluation; // the last epoch-end evaluation (bbox), if any ran
  std::optional<CocoEvalResult> segm_evaluation; // its segm scores, for detectors with masks
  double seconds = 0;
};

TrainSummary run_training(const TrainOptions& options);

} // namespace splat::train
