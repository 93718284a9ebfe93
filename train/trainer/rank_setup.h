// What differs between the processes of a data-parallel run (design.md section 6), and what must
// not: every rank builds the same model from the same seed, then
// - runs on its own device: the CPU, or the GPU of its local rank (the NCCL communicator has
//   already made it current; here it is checked against the node's devices);
// - has its own random streams for what it draws during training (the anchor and RoI samplers'
//   picks, the default generator's ops): Philox keyed by rank_seed(seed, rank), rank 0's key being
//   the seed itself, so a one-process run is exactly the run it was before any of this. The data
//   pipeline's augmentation (multiscale resizing, flips) needs no per-rank stream: it is keyed by
//   (seed, epoch, dataset index) (data/loader.h), so disjoint shards draw disjoint streams and an
//   image is augmented the same whichever rank or loader worker loads it;
// - synchronises the batch statistics of the norms its config calls "SyncBN" over the job's
//   communicator (a norm set to "BN" stays per process, as in MMDetection).
#pragma once

#include "core/communicator.h"
#include "core/device.h"
#include "train/config/model_config.h"

#include <cstdint>
#include <memory>
#include <string_view>

namespace splat::train {

// device: "cpu" or "cuda".
Device rank_device(std::string_view device, const Communicator& comm);

uint64_t rank_seed(uint64_t seed, int rank);

// Gives every sync_batch NormConfig of the model config (backbone, box heads of every stage,
// mask head) the communicator; build_detector then builds those layers as SyncBatchNorm.
void synchronize_norms(config::ModelConfig& model, const std::shared_ptr<Communicator>& comm);

} // namespace splat::train
