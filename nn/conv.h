// Convolution layers over ops/conv.h. Parameters `weight` (and `bias` when enabled) with
// PyTorch's layouts: Conv2d [out, in/groups, kh, kw], ConvTranspose2d [in, out/groups, kh, kw].
// Initialised as PyTorch does (kaiming_uniform with a = sqrt(5), bias uniform(+-1/sqrt(fan_in)));
// models re-initialise as their spec says.
#pragma once

#include "nn/layer.h"
#include "ops/conv.h"

namespace splat::nn {

class Conv2d : public Layer {
public:
  Conv2d(int64_t in_channels, int64_t out_channels, ops::Size2 kernel, ops::Conv2dOptions opts = {},
         bool bias = true);
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  // bias undefined when disabled
  const ops::Conv2dOptions options;
};

class ConvTranspose2d : public Layer {
public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, ops::Size2 kernel,
                  ops::ConvTranspose2dOptions opts = {}, bool bias = true);
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;
  const ops::ConvTranspose2dOptions options;
};

} // namespace splat::nn
