// CUDA kernels of the fused losses, same contract as ops/cpu/loss.h (layouts there; every kernel
// overwrites its outputs). cross_entropy returns the first invalid target position like
// the CPU kernel; reading it back costs one device-to-host copy of 8 bytes.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cuda {

int64_t cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                      const Tensor& target, int64_t ignore_index);
void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits,
                            const Tensor& target, const Tensor& lse, int64_t ignore_index);
void bce_with_logits(const Tensor& loss, const Tensor& x, const Tensor& t);
void bce_with_logits_backward(const Tensor& dx, const Tensor& g, const Tensor& x, const Tensor& t);

} // namespace splat::ops::cuda
