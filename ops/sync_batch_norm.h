// Synchronised batch normalisation across the processes of a data-parallel job (design.md
// section 6; the algorithm of shared reference anchors section 2.5), built from the per-channel
// blocks of ops/norm.h and a Communicator (core/communicator.h):
//
// forward (training): local Welford statistics (count, mean, M2) per channel in one pass; one
//   all_gather of the (3, C) triples; every rank merges them in rank order with Chan's formula,
//   so all ranks hold identical global statistics, whatever their batch sizes (zero included:
//   an empty rank still joins every collective); normalisation with the global mean and biased
//   variance; running statistics from the global batch (unbiased variance, as PyTorch).
// backward: local sum(dy) and sum(dy * (x - mean)) in one pass; one all_reduce (sum) of the
//   (2, C) sums; dx from the global sums and the global count. The weight and bias gradients
//   stay local (the data-parallel reducer averages them with every other gradient), so the
//   gradients are those of the sum of all ranks' losses, as PyTorch's SyncBatchNorm.
// eval: batch_norm with the running statistics; no communication.
// A world of one process (or comm == nullptr) is ops::batch_norm exactly.
#pragma once

#include "core/communicator.h"
#include "core/tensor.h"

namespace splat::ops {

// x: (N, C, ...) with N >= 0; the other arguments as ops::batch_norm. Differentiable in x, weight
// and bias. An Error when the global batch has one value per channel (the spec's pitfall 2).
Tensor sync_batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training, double momentum,
                       double eps, Communicator* comm);

} // namespace splat::ops
