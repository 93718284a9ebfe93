#include "nn/conv.h"

#include "nn/init.h"
#include "ops/copy.h"

#include <cmath>

namespace splat::nn {
namespace {

// PyTorch's default: kaiming_uniform(a = sqrt(5)) on the weight, which is uniform(+-1/sqrt(fan_in)),
// and the same bound for the bias.
void default_init(Tensor& weight, Tensor& bias, int64_t fan_in) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1 / std::sqrt(double(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  SPLAT_CHECK(in > 0 && out > 0 && groups > 0 && in % groups == 0 && out % groups == 0, layer,
              ": ", in, " input and ", out, " output channels must be positive multiples of groups = ", groups);
}

} // namespace

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, ops::Size2 kernel, ops::Conv2dOptions opts,
               bool with_bias)
    : Layer("Conv2d"), options(opts) {
  check_channels("Conv2d", in_channels, out_channels, opts.groups);
  weight = register_parameter("weight", ops::empty({out_channels, in_channels / opts.groups, kernel.h, kernel.w}));
  if (with_bias) bias = register_parameter("bias", ops::empty({out_channels}));
  default_init(weight, bias, in_channels / opts.groups * kernel.h * kernel.w);
}

Tensor Conv2d::forward(const Tensor& x) { return ops::conv2d(x, weight, bias, options); }

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, ops::Size2 kernel,
                                 ops::ConvTranspose2dOptions opts, bool with_bias)
    : Layer("ConvTranspose2d"), options(opts) {
  check_channels("ConvTranspose2d", in_channels, out_channels, opts.groups);
  weight = register_parameter("weight", ops::empty({in_channels, out_channels / opts.groups, kernel.h, kernel.w}));
  if (with_bias) bias = register_parameter("bias", ops::empty({out_channels}));
  // torch computes the fan from dim 1 of this layout: out/groups * kh * kw.
  default_init(weight, bias, out_channels / opts.groups * kernel.h * kernel.w);
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return ops::conv_transpose2d(x, weight, bias, options); }

} // namespace splat::nn
