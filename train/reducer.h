// Data-parallel gradient reduction (design.md section 6; reference anchors sections 2.6-2.7).
//
// At construction the trainable parameters are grouped into buckets of about bucket_cap_mb in
// reverse registration order (gradients become ready roughly in that order during backward),
// one flat buffer per bucket; every rank checks that all ranks have the same parameters, and
// parameters and buffers are broadcast from rank 0.
//
// During backward, each parameter's post-accumulate hook copies its gradient into its bucket
// slot; when a bucket's last gradient arrives, its averaged all_reduce starts (asynchronously:
// MPI non-blocking, or the NCCL stream in the real build), strictly in bucket order on every
// rank, overlapping the rest of backward. finish_backward() waits for every bucket and points
// each parameter's .grad at its averaged slot. The trainer calls it between backward and the
// optimizer step.
//
// Parameters without a gradient in a step: with find_unused_parameters every rank marks its
// unused ones, an all_reduce of the used flags decides which received a gradient anywhere (their
// missing local gradients count as zeros; parameters unused on every rank keep no gradient), and
// the buckets are reduced only at finish_backward (no overlap: the flags must be agreed first).
// Without it, a parameter with no gradient is an Error naming it.
//
// no_sync(): while the returned guard lives, backward accumulates gradients locally without
// communication (gradient accumulation over micro-batches); the next synchronised backward
// reduces the accumulated sums.
#pragma once

#include "core/communicator.h"
#include "nn/module.h"

#include <memory>
#include <vector>

namespace splat::train {

struct ReducerOptions {
  double bucket_cap_mb = 25;
  bool find_unused_parameters = false;
};

class Reducer {
public:
  Reducer(const nn::Module& model, std::shared_ptr<Communicator> comm, ReducerOptions opts = {});
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  // Completes this step's reduction (see above). A no-op inside no_sync().
  void finish_backward();

  class NoSync {
  public:
    explicit NoSync(Reducer& r) : r_(r) { r_.sync_ = false; }
    ~NoSync() { r_.sync_ = true; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

  private:
    Reducer& r_;
  };
  NoSync no_sync() { return NoSync(*this); }

  // Bucket b holds these parameter indices (into the model's trainable parameters, in
  // registration order).
  const std::vector<std::vector<size_t>>& buckets() const { return bucket_params_; }

private:
  struct Slot {
    size_t bucket;
    Tensor view;  // the parameter's place in its bucket's flat buffer, shaped like it
  };
  void on_gradient(size_t param);
  void launch_ready_buckets();
  void reset();

  std::shared_ptr<Communicator> comm_;
  ReducerOptions opts_;
  nn::Named<Tensor> params_;
  std::vector<Slot> slots_;
  std::vector<Tensor> flat_;                         // per bucket
  std::vector<std::vector<size_t>> bucket_params_;   // per bucket
  std::vector<size_t> pending_;                      // per bucket: gradients still to come
  std::vector<bool> ready_;                          // per parameter, this step
  std::vector<std::unique_ptr<Work>> works_;         // per bucket, once launched
  size_t next_bucket_ = 0;
  bool sync_ = true;
};

} // namespace splat::train
