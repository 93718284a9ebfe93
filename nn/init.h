// Parameter initialisers, in place and without recording gradients, PyTorch's definitions
// (torch.nn.init): fans from the weight's shape (dim 1 = fan in per output, dim 0 = fan out,
// times the receptive field), gains of the nonlinearities. Random draws come from the Philox
// generator (nullptr: the default generator), so a seed reproduces a model on every device.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace splat::nn::init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, relu, leaky_relu, sigmoid, tanh };

struct Fans {
  int64_t in, out;
};
// Fans of a weight with 2 or more dims (an Error names the shape otherwise).
Fans fans(const Tensor& w);
// The recommended gain (param: the leaky_relu negative slope).
double gain(Nonlinearity n, double param = 0.01);

void constant_(Tensor& t, double value);
void normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
void uniform_(Tensor& t, double lo = 0, double hi = 1, Generator* gen = nullptr);
// std = gain / sqrt(fan), as mmcv's kaiming_init(mode, nonlinearity) and torch's defaults.
void kaiming_normal_(Tensor& t, FanMode mode = FanMode::fan_out, Nonlinearity n = Nonlinearity::relu,
                     Generator* gen = nullptr);
// bound = gain * sqrt(3 / fan).
void kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                      Nonlinearity n = Nonlinearity::leaky_relu, Generator* gen = nullptr);
// std = gain * sqrt(2 / (fan_in + fan_out)); bound = sqrt(3) * that.
void xavier_normal_(Tensor& t, double gain = 1, Generator* gen = nullptr);
void xavier_uniform_(Tensor& t, double gain = 1, Generator* gen = nullptr);

} // namespace splat::nn::init
