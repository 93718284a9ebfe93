// mmcv's ConvModule as the detector heads use it: conv, then an optional norm registered as
// "bn", then an optional ReLU; the conv has a bias only without a norm (mmcv's bias='auto').
// Checkpoint keys: `conv.weight` [, `conv.bias`] [, `bn.{weight,bias,running_*,...}`].
#pragma once

#include "nn/conv.h"
#include "nn/norm.h"

#include <optional>

namespace splat::models {

struct ConvModuleOptions {
  int64_t kernel = 3;
  int64_t padding = 1;
  std::optional<nn::NormConfig> norm; // none: a conv with bias
  bool relu = true;
};

class ConvModule : public nn::Layer {
public:
  ConvModule(int64_t in_channels, int64_t out_channels, const ConvModuleOptions& options);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv;
  nn::LayerPtr bn; // null without a norm
  const bool relu;
};

} // namespace splat::models
