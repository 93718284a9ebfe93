// Helpers for gradient tests: random f64 leaves and a gradcheck assertion that prints the worst
// element on failure.
#pragma once

#include "autograd/gradcheck.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "tests/helpers.h"

namespace splat::test {

// A f64 leaf requiring grad with values in [lo, hi).
inline Tensor leaf(Shape shape, double lo = -1, double hi = 1, Device device = Device::cpu()) {
  Tensor t = ops::rand(std::move(shape), {.dtype = DType::f64, .device = device});
  t = ops::add(ops::mul(t, hi - lo), lo);
  return t.requires_grad_();
}

// A non-contiguous leaf (every other element of a larger buffer) requiring grad.
inline Tensor strided_leaf(Shape shape, double lo = -1, double hi = 1) {
  Tensor t = noncontiguous(leaf(std::move(shape), lo, hi).detach());
  return t.requires_grad_();
}

#define CHECK_GRADCHECK(fn, ...)                                                                   \
  do {                                                                                             \
    const auto r_ = ::splat::autograd::gradcheck(fn, __VA_ARGS__);                                \
    CHECK_MESSAGE(r_.ok, "gradcheck: ", r_.message);                                              \
  } while (0)

} // namespace splat::test
