// The per-element formulas of the fused losses, shared by the CPU kernels (ops/cpu/loss.cpp) and
// the CUDA kernels (ops/cuda/loss.cu) so both devices compute exactly the same expression.
#pragma once

#include "core/cuda/hd.h"

#include <cmath>

namespace splat::ops::fn {

// Binary cross-entropy of sigmoid(x) against t, in the form that neither overflows nor loses
// precision for large |x|: max(x, 0) - x t + log(1 + exp(-|x|)).
struct BceWithLogits {
  template <class T> SPLAT_HD T operator()(T x, T t) const {
    const T pos = x > T(0) ? x : T(0);
    const T abs_x = x < T(0) ? -x : x;
    return pos - x * t + std::log1p(std::exp(-abs_x));
  }
};

// g * (sigmoid(x) - t), with sigmoid evaluated so that exp never overflows.
struct BceWithLogitsGrad {
  template <class T> SPLAT_HD T operator()(T g, T x, T t) const {
    const T e = std::exp(x < T(0) ? x : -x); // exp(-|x|) in (0, 1]
    const T sig = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    return g * (sig - t);
  }
};

// The gradient of cross-entropy for one logit: g * (softmax - onehot), with the softmax taken
// from the row's log-sum-exp.
template <class T> SPLAT_HD T cross_entropy_grad(T g, T x, T lse, bool is_target) {
  return g * (std::exp(x - lse) - (is_target ? T(1) : T(0)));
}

} // namespace splat::ops::fn
