#include "train/trainer/rank_setup.h"

#include "core/cuda/runtime.h"
#include "core/error.h"
#include "core/philox.h"

namespace splat::train {

Device rank_device(std::string_view device, const Communicator& comm) {
  if (device == "cpu") return Device::cpu();
  SPLAT_CHECK(device == "cuda", "unknown device '", device, "' (cpu or cuda)");
  const int devices = cuda::device_count();
  SPLAT_CHECK(comm.local_rank() < devices, "rank ", comm.rank(), " has local rank ", comm.local_rank(),
              " but this node has ", devices, " CUDA devices: start at most ", devices,
              " processes per node (mpirun -H host:", devices, ")");
  return Device::cuda(comm.local_rank());
}

uint64_t rank_seed(uint64_t seed, int rank) {
  if (rank == 0) return seed;
  // A Philox block keyed by the seed at a counter no Generator of this seed reaches in practice
  // (the top of the counter space), one per rank: independent 64-bit keys.
  const PhiloxBlock b = philox_block(seed, ~uint64_t{0} - static_cast<uint64_t>(rank));
  return philox_u64(b.w[0], b.w[1]);
}

void synchronize_norms(config::ModelConfig& model, const std::shared_ptr<Communicator>& comm) {
  const auto give = [&](nn::NormConfig& n) {
    if (n.kind == nn::NormKind::sync_batch) n.communicator = comm;
  };
  const auto give_opt = [&](std::optional<nn::NormConfig>& n) {
    if (n) give(*n);
  };
  give(model.two_stage.backbone.norm);
  give_opt(model.roi_head.bbox_head.norm);
  if (model.mask) give_opt(model.mask->head.norm);
  for (models::CascadeStageConfig& stage : model.cascade_roi_head.stages) give_opt(stage.bbox_head.norm);
}

} // namespace splat::train
