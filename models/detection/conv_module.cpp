#include "models/detection/conv_module.h"

#include "nn/init.h"
#include "ops/pointwise.h"

namespace splat::models {

ConvModule::ConvModule(int64_t in_channels, int64_t out_channels, const ConvModuleOptions& options)
    : Layer("ConvModule"), relu(options.relu) {
  conv = register_module("conv", std::make_shared<nn::Conv2d>(in_channels, out_channels, options.kernel,
                                                              ops::Conv2dOptions{.padding = options.padding},
                                                              /*bias=*/!options.norm.has_value()));
  if (options.norm) bn = register_module("bn", nn::make_norm(*options.norm, out_channels));
  // mmcv's ConvModule.init_weights: kaiming normal (fan_out, relu), zero bias; norms start at
  // weight 1, bias 0 (their constructors' values). Heads with their own init_cfg overwrite it.
  nn::init::kaiming_normal_(conv->weight);
  if (conv->bias.defined()) nn::init::constant_(conv->bias, 0);
}

Tensor ConvModule::forward(const Tensor& x) {
  Tensor y = conv->forward(x);
  if (bn) y = bn->forward(y);
  return relu ? ops::relu(y) : y;
}

} // namespace splat::models
