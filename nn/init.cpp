#include "nn/init.h"

#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "ops/random.h"

#include <cmath>

namespace splat::nn::init {

Fans fans(const Tensor& w) {
  SPLAT_CHECK(w.dim() >= 2, "init: fan in and fan out need a weight of 2 or more dims, got shape ",
              shape_str(w.shape()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  return {w.size(1) * receptive, w.size(0) * receptive};
}

double gain(Nonlinearity n, double param) {
  switch (n) {
  case Nonlinearity::linear:
  case Nonlinearity::sigmoid: return 1;
  case Nonlinearity::relu: return std::sqrt(2.0);
  case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1 + param * param));
  case Nonlinearity::tanh: return 5.0 / 3;
  }
  return 1;
}

void constant_(Tensor& t, double value) {
  autograd::NoGradGuard g;
  ops::fill_(t, value);
}

void normal_(Tensor& t, double mean, double std, Generator* gen) {
  autograd::NoGradGuard g;
  ops::normal_(t, mean, std, gen);
}

void uniform_(Tensor& t, double lo, double hi, Generator* gen) {
  autograd::NoGradGuard g;
  ops::uniform_(t, lo, hi, gen);
}

void kaiming_normal_(Tensor& t, FanMode mode, Nonlinearity n, Generator* gen) {
  const Fans f = fans(t);
  normal_(t, 0, gain(n, 0) / std::sqrt(double(mode == FanMode::fan_in ? f.in : f.out)), gen);
}

void kaiming_uniform_(Tensor& t, double a, FanMode mode, Nonlinearity n, Generator* gen) {
  const Fans f = fans(t);
  const double bound = gain(n, a) * std::sqrt(3.0 / double(mode == FanMode::fan_in ? f.in : f.out));
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(Tensor& t, double g, Generator* gen) {
  const Fans f = fans(t);
  normal_(t, 0, g * std::sqrt(2.0 / double(f.in + f.out)), gen);
}

void xavier_uniform_(Tensor& t, double g, Generator* gen) {
  const Fans f = fans(t);
  const double bound = g * std::sqrt(6.0 / double(f.in + f.out));
  uniform_(t, -bound, bound, gen);
}

} // namespace splat::nn::init
