// The arithmetic of batch normalisation shared by the CPU (ops/cpu/norm.cpp) and CUDA
// (ops/cuda/norm.cu) kernels, so both devices compute every element with the same formula:
// Welford's update and Chan's merge (reference/anchors.md section 2.1) in double, and the
// per-channel coefficients of the forward and backward elementwise kernels.
#pragma once

#include "core/cuda/hd.h"
#include "core/tensor.h"

#include <cstdint>

namespace splat::ops {

// x: (N, C, ...) seen as (N, C, L).
struct NclShape {
  int64_t n, c, l;
  int64_t per_channel() const { return n * l; }
};
inline NclShape ncl_shape(const Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1);
  return {n, c, n * c == 0 ? 0 : x.numel() / (n * c)};
}

// The data of an optional per-channel tensor, or null when it is absent.
template <class T> const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Count, mean and M2 = sum (x - mean)^2 of a set of values.
struct Welford {
  double n = 0, mean = 0, m2 = 0;

  SPLAT_HD void add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  // Chan et al.'s merge; an empty side leaves the other unchanged (bit for bit).
  SPLAT_HD static Welford merge(const Welford& a, const Welford& b) {
    if (b.n == 0) return a;
    if (a.n == 0) return b;
    const double n = a.n + b.n, d = b.mean - a.mean;
    return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n)};
  }
};

// Channel c of S stacked (S, C) sets (count, mean, m2) merged in order s = 0, 1, ...
template <class T>
SPLAT_HD Welford merge_sets(int64_t sets, int64_t channels, int64_t c, const T* count,
                            const T* mean, const T* m2) {
  Welford w;
  for (int64_t i = 0; i < sets; ++i) {
    const int64_t k = i * channels + c;
    w = Welford::merge(w, {count[k], mean[k], m2[k]});
  }
  return w;
}

// The two per-channel sums of the backward.
struct GradSums {
  double dy = 0, dy_xmu = 0;
  SPLAT_HD static GradSums merge(const GradSums& a, const GradSums& b) {
    return {a.dy + b.dy, a.dy_xmu + b.dy_xmu};
  }
};

// y = (x - mean) * scale + shift, then relu when asked, with scale = invstd * weight, shift = bias.
// weight and bias may be null (1 and 0).
template <class T> struct ChannelAffine {
  T mean, scale, shift;
  bool relu;

  SPLAT_HD static ChannelAffine at(int64_t c, const T* mean, const T* invstd, const T* weight,
                                   const T* bias, bool relu) {
    return {mean[c], weight ? invstd[c] * weight[c] : invstd[c], bias ? bias[c] : T(0), relu};
  }
  SPLAT_HD T operator()(T x) const {
    const T y = (x - mean) * scale + shift;
    return relu && y < T(0) ? T(0) : y; // NaN passes, as in relu
  }
};

// dx = (dy - sum_dy / count - (x - mean) * invstd^2 * sum_dy_xmu / count) * invstd * weight.
template <class T> struct ChannelGradInput {
  T mean, dy_mean, xmu_coef, scale;

  SPLAT_HD static ChannelGradInput at(int64_t c, const T* mean, const T* invstd, const T* weight,
                                      const T* sum_dy, const T* sum_dy_xmu, double count) {
    const T inv_count = static_cast<T>(1.0 / count);
    return {mean[c], sum_dy[c] * inv_count, invstd[c] * invstd[c] * sum_dy_xmu[c] * inv_count,
            weight ? invstd[c] * weight[c] : invstd[c]};
  }
  SPLAT_HD T operator()(T dy, T x) const { return (dy - dy_mean - (x - mean) * xmu_coef) * scale; }
};

} // namespace splat::ops
