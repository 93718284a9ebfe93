// The Feature Pyramid Network neck (spec section 2.3, mmdet's FPN with add_extra_convs=False):
// a 1x1 lateral conv per backbone level, a top-down pathway adding each coarser lateral
// upsampled (nearest) to the finer level's exact size, a 3x3 output conv per level, and extra
// levels by stride-2 subsampling of the last output (max_pool2d with kernel 1). No norm, no
// activation. Keys: `lateral_convs.{i}.conv.*`, `fpn_convs.{i}.conv.*`.
#pragma once

#include "nn/module_list.h"

#include <vector>

namespace splat::models {

struct FpnConfig {
  std::vector<int64_t> in_channels{256, 512, 1024, 2048};
  int64_t out_channels = 256;
  int64_t num_outs = 5; // >= in_channels.size(); the rest are subsampled extra levels
};

class Fpn : public nn::Module {
public:
  explicit Fpn(const FpnConfig& config);
  // One map per backbone level (C2..C5) -> num_outs maps (P2..P6), out_channels each.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs);
  const FpnConfig config;
  std::shared_ptr<nn::ModuleList> lateral_convs, fpn_convs;
};

} // namespace splat::models
