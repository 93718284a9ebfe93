// One optimisation step of `splat train`, as every rank of a data-parallel run does it, in the
// same order on every rank: the detector's losses on this rank's batch; a check of their values
// (the caller stops there, before anything changed, on a NaN loss); backward, during which the
// reducer (train/reducer.h) all-reduces the gradients bucket by bucket as they become ready;
// the wait for the last buckets; optional clipping of the averaged gradients; the optimizer
// step. With one process there is no reducer and the step is the plain one.
//
// The values returned (and checked) are means over the ranks (one all_reduce of a few doubles),
// so rank 0 logs the job's losses, and a NaN on any rank stops every rank at the same step.
#pragma once

#include "core/communicator.h"
#include "core/philox.h"
#include "models/detection/two_stage_detector.h"
#include "train/optim/optimizer.h"
#include "train/reducer.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace splat::train {

// (name, value): the total loss first, then the detector's losses and metrics in MMDetection's
// log order.
using LogValues = std::vector<std::pair<std::string, double>>;

struct StepParts {
  models::TwoStageDetector& model;
  Optimizer& optimizer;
  Communicator& comm;
  Reducer* reducer = nullptr; // nullptr: one process
  double grad_clip = 0;       // max gradient norm; 0: none
  Generator* sampler_gen = nullptr;
};

struct StepResult {
  LogValues values;                // means over ranks
  std::optional<double> grad_norm; // before clipping, when clipping
};

using CheckValues = std::function<void(const LogValues&)>;

StepResult train_step(const StepParts& parts, const models::DetectorInput& input, const CheckValues& check = {});

// values' means over the ranks of comm (every rank must log the same names: an Error otherwise).
LogValues mean_over_ranks(LogValues values, Communicator& comm);

} // namespace splat::train
