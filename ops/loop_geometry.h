// The iteration space of an elementwise op over N strided, broadcast operands, shared by the
// CPU loops (ops/cpu/loop.h) and the CUDA kernels (ops/cuda/loop.cuh). Operand 0 is the output;
// the inputs broadcast to its shape. Dims of size 1 are dropped and neighbouring dims that every
// operand walks as one are merged, so dense operands become a single flat dim.
#pragma once

#include "core/tensor.h"

#include <array>

namespace splat::ops {

// Iteration space of N operands after broadcasting and coalescing.
template <size_t N> struct LoopGeometry {
  Shape sizes;                     // innermost last; empty for a single element
  std::array<Strides, N> strides;  // per operand, in elements; 0 on broadcast dims
};

template <size_t N>
LoopGeometry<N> make_geometry(const Shape& iter_shape, const std::array<const Tensor*, N>& ops) {
  const size_t nd = iter_shape.size();
  LoopGeometry<N> g;
  // Broadcast strides, right-aligned; dims of size 1 are dropped as they never move.
  std::array<Strides, N> full;
  for (size_t k = 0; k < N; ++k) {
    const Tensor& t = *ops[k];
    const size_t lead = nd - t.shape().size();
    full[k].assign(nd, 0);
    for (size_t d = 0; d < t.shape().size(); ++d)
      if (t.shape()[d] != 1) full[k][lead + d] = t.strides()[d];
  }
  for (size_t d = 0; d < nd; ++d) {
    if (iter_shape[d] == 1) continue;
    // Merge into the previous kept dim when every operand walks both as one.
    bool merge = !g.sizes.empty();
    for (size_t k = 0; merge && k < N; ++k)
      merge = g.strides[k].back() == full[k][d] * iter_shape[d];
    if (merge) {
      g.sizes.back() *= iter_shape[d];
      for (size_t k = 0; k < N; ++k) g.strides[k].back() = full[k][d];
    } else {
      g.sizes.push_back(iter_shape[d]);
      for (size_t k = 0; k < N; ++k) g.strides[k].push_back(full[k][d]);
    }
  }
  return g;
}

} // namespace splat::ops
