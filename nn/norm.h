// Normalisation layers over ops/norm.h, with PyTorch's state-dict names: weight, bias,
// running_mean, running_var, num_batches_tracked (spec section 7.1 `{bn}`).
//
// - BatchNorm2d: batch statistics in training mode (updating the running ones with `momentum`),
//   running statistics in eval mode. Given a communicator it is SyncBatchNorm: the batch
//   statistics are those of every rank's batch together (ops/sync_batch_norm.h); the tensors and
//   their names do not change, so converting a model is setting the communicator of its BNs.
// - FrozenBatchNorm2d: an affine map with fixed statistics; all five tensors are buffers (nothing
//   trains), so checkpoints of BatchNorm2d load into it key for key.
// make_norm builds the layer a NormConfig names; models take a NormConfig and pass it down, so one
// setting turns every norm of a backbone or head into BN, SyncBN or frozen BN.
#pragma once

#include "core/communicator.h"
#include "nn/layer.h"

namespace splat::nn {

class BatchNorm2d : public Layer {
public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       std::shared_ptr<Communicator> comm = nullptr);
  Tensor forward(const Tensor& x) override;
  // nullptr: plain BatchNorm; otherwise SyncBatchNorm over comm's processes.
  void set_communicator(std::shared_ptr<Communicator> comm) { comm_ = std::move(comm); }
  bool synchronized() const { return comm_ != nullptr; }

  Tensor weight, bias;  // undefined when !affine
  Tensor running_mean, running_var, num_batches_tracked;
  const double eps, momentum;

private:
  std::shared_ptr<Communicator> comm_;
};

class FrozenBatchNorm2d : public Layer {
public:
  explicit FrozenBatchNorm2d(int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  const double eps;
};

enum class NormKind { batch, sync_batch, frozen };

struct NormConfig {
  NormKind kind = NormKind::batch;
  double eps = 1e-5;
  double momentum = 0.1;
  // For sync_batch: the processes to synchronise over (nullptr: this process alone, which is
  // BatchNorm, so a SyncBN model also runs in a single process without MPI).
  std::shared_ptr<Communicator> communicator;
};

LayerPtr make_norm(const NormConfig& config, int64_t channels);

// relu(norm.forward(x)). When the norm uses fixed statistics (BatchNorm2d in eval mode,
// FrozenBatchNorm2d) and nothing needs a gradient, it runs as one fused pass
// (ops::batch_norm_relu_inference); otherwise relu overwrites the norm's output in place (its
// backward needs only relu's output), so no second activation-sized tensor is allocated.
Tensor norm_relu(Layer& norm, const Tensor& x);

// Turns every BatchNorm2d of the model into SyncBatchNorm over comm (MMDetection's
// syncbn-backbone+head); frozen BN stays frozen. Returns how many layers it converted.
int convert_sync_batchnorm(Module& model, std::shared_ptr<Communicator> comm);

} // namespace splat::nn
