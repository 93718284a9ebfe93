// How a reduction walks its input, shared by the CPU kernels (ops/cpu/reduce.cpp) and the CUDA
// kernels (ops/cuda/reduce.cu): x's dims split into kept (outer, one per output element) and
// reduced (inner) groups, each in original order, with size-1 dims dropped and neighbouring dims
// merged where their strides let one index walk both. Outputs are numbered row-major over the
// kept dims, reduced elements row-major over the reduced dims.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::ops {

struct ReduceGeometry {
  Shape kept_sizes, red_sizes;       // innermost last
  Strides kept_strides, red_strides; // of x, in elements
  int64_t out_numel = 1, red_numel = 1;
};

namespace detail {
// Appends a dim, merging it into the previous one when the two walk memory as one.
inline void push_coalesced_dim(Shape& sizes, Strides& strides, int64_t size, int64_t stride) {
  if (size == 1) return;
  if (!sizes.empty() && strides.back() == stride * size) {
    sizes.back() *= size;
    strides.back() = stride;
  } else {
    sizes.push_back(size);
    strides.push_back(stride);
  }
}
} // namespace detail

// reduced[d] marks the dims folded together (one flag per dim of x).
inline ReduceGeometry make_reduce_geometry(const Tensor& x, const std::vector<bool>& reduced) {
  ReduceGeometry g;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t n = x.shape()[d];
    if (reduced[d]) {
      detail::push_coalesced_dim(g.red_sizes, g.red_strides, n, x.strides()[d]);
      g.red_numel *= n;
    } else {
      detail::push_coalesced_dim(g.kept_sizes, g.kept_strides, n, x.strides()[d]);
      g.out_numel *= n;
    }
  }
  return g;
}

// The reduced-dims mask of a reduction along one dim (arg_reduce); a 0-d x reduces nothing.
inline std::vector<bool> single_dim_mask(const Tensor& x, int64_t dim) {
  std::vector<bool> reduced(x.dim(), false);
  if (x.dim() > 0) reduced[dim] = true;
  return reduced;
}

} // namespace splat::ops
