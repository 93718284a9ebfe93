// SplitAttentionConv2d: ResNeSt's SplAt conv (spec section 1.1), submodules named as in the
// ResNeSt and MMDetection checkpoints: conv (grouped 3x3, groups = cardinality * radix, no bias),
// bn0, fc1 (1x1, groups = cardinality, bias), bn1, fc2 (1x1, groups = cardinality, bias). The
// pooling, r-softmax and weighted radix sum run as the fused ops of ops/split_attention.h.
#pragma once

#include "nn/conv.h"
#include "nn/norm.h"

namespace splat::nn {

struct SplitAttentionOptions {
  int64_t stride = 1;
  int64_t dilation = 1;  // also the padding
  int64_t radix = 2;
  int64_t cardinality = 1;
  int64_t reduction_factor = 4;
  NormConfig norm;
};

class SplitAttentionConv2d : public Layer {
public:
  // in_channels -> channels; the inner width is D = max(in_channels * radix / reduction_factor, 32).
  SplitAttentionConv2d(int64_t in_channels, int64_t channels, const SplitAttentionOptions& opts);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv, fc1, fc2;
  LayerPtr bn0, bn1;
  const SplitAttentionOptions options;
};

} // namespace splat::nn
