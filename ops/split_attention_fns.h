// Formulas shared by the CPU and CUDA split-attention kernels (ops/{cpu,cuda}/split_attention),
// so both devices compute each value the same way; layouts as in ops/split_attention.h.
#pragma once

#include "core/cuda/hd.h"

#include <cmath>
#include <cstdint>

namespace splat::ops::split_attention_fns {

// x: (N, R*C, H, W) radix-major, seen as N*R*C planes of hw elements.
struct Splits {
  int64_t n, c, radix, hw;
  // The plane of (sample ni, split r, channel ci).
  SPLAT_HD int64_t plane(int64_t ni, int64_t r, int64_t ci) const {
    return (ni * radix + r) * c + ci;
  }
  // The plane of split 0 of output plane i = ni*C + ci; split r's is that plus r*C.
  SPLAT_HD int64_t first_plane(int64_t i) const { return plane(i / c, 0, i % c); }
};

// The r-softmax group i = (n, k, j) of logits (N, R*C): its R logits are z[n, (k*R + r)*cg + j]
// (stride cg = C/K along r), its R attentions a[n, r*C + k*cg + j] (stride C along r).
struct Groups {
  int64_t c, cg, radix;
  SPLAT_HD int64_t z_offset(int64_t i) const {
    return (i / c) * radix * c + ((i % c) / cg) * radix * cg + i % cg;
  }
  SPLAT_HD int64_t a_offset(int64_t i) const {
    return (i / c) * radix * c + ((i % c) / cg) * cg + i % cg;
  }
};

// a = softmax over the group's R logits, or sigmoid when R == 1; computed in double.
template <class T> SPLAT_HD void rsoftmax_group(const Groups& g, const T* z, T* a) {
  if (g.radix == 1) {
    a[0] = static_cast<T>(1 / (1 + std::exp(-static_cast<double>(z[0]))));
    return;
  }
  double m = z[0];
  for (int64_t r = 1; r < g.radix; ++r) m = std::fmax(m, static_cast<double>(z[r * g.cg]));
  double s = 0;
  for (int64_t r = 0; r < g.radix; ++r) s += std::exp(z[r * g.cg] - m);
  for (int64_t r = 0; r < g.radix; ++r) a[r * g.c] = static_cast<T>(std::exp(z[r * g.cg] - m) / s);
}

// dz from the forward output a: sigmoid' = a (1 - a); softmax: dz_r = a_r (da_r - sum_s a_s da_s).
template <class T>
SPLAT_HD void rsoftmax_group_backward(const Groups& g, T* dz, const T* da, const T* a) {
  if (g.radix == 1) {
    const double y = a[0];
    dz[0] = static_cast<T>(da[0] * y * (1 - y));
    return;
  }
  double dot = 0;
  for (int64_t r = 0; r < g.radix; ++r) dot += static_cast<double>(a[r * g.c]) * da[r * g.c];
  for (int64_t r = 0; r < g.radix; ++r)
    dz[r * g.cg] = static_cast<T>(a[r * g.c] * (da[r * g.c] - dot));
}

// The combined value at element k of output plane i: sum over r of a * x, in double.
template <class T>
SPLAT_HD T combine_at(const Splits& s, const T* x, const T* a, int64_t i, int64_t k) {
  const int64_t p0 = s.first_plane(i);
  double acc = 0;
  for (int64_t r = 0; r < s.radix; ++r) {
    const int64_t p = p0 + r * s.c;
    acc += static_cast<double>(a[p]) * x[p * s.hw + k];
  }
  return static_cast<T>(acc);
}

} // namespace splat::ops::split_attention_fns
