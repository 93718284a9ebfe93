// Training checkpoints: everything a run needs to continue bit-exactly, in one safetensors file
// written atomically (core/atomic_file.h: an interrupted or failed write leaves the previous
// checkpoint as it was).
//
//   model.<key>          the model's state dict (parameters and buffers)
//   optimizer.<i>.<name> the optimizer's state (train/optim/optimizer.h)
//   __metadata__         format = "splat-training-checkpoint", epoch, iter, iter_in_epoch,
//                        rng.<name>.seed / rng.<name>.offset for every named Philox generator
//                        (the samplers', the default one), and any caller-given extras (the
//                        config path, the optimizer type)
#pragma once

#include "core/philox.h"
#include "nn/module.h"
#include "train/optim/optimizer.h"

#include <map>
#include <string>

namespace splat::train {

// Where the run stands: iter counts optimizer steps over the whole run, iter_in_epoch those of
// the current epoch (0 at an epoch boundary), epoch the 0-based epoch in progress.
struct TrainProgress {
  int64_t epoch = 0, iter = 0, iter_in_epoch = 0;
  friend bool operator==(const TrainProgress&, const TrainProgress&) = default;
};

struct CheckpointRngs {
  std::map<std::string, Generator*> generators; // name -> generator, saved and restored in place
};

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const TrainProgress& progress, const CheckpointRngs& rngs,
                     const std::map<std::string, std::string>& extra = {});

struct LoadedCheckpoint {
  TrainProgress progress;
  std::map<std::string, std::string> metadata;
};

// Loads into model (strict), optimizer and every named generator; errors name the file and what
// does not fit (a key of another model, a generator the file does not have, a file that is not
// a training checkpoint). After an error the model or the optimizer may hold part of the file:
// resuming stops there.
LoadedCheckpoint load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer,
                                 const CheckpointRngs& rngs);

} // namespace splat::train
