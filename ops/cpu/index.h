// CPU kernels for indexing ops and the scatters their backward passes need.
//
// Conventions: index tensors are i64 or i32 (kIndexDTypes) and were validated by the caller
// (find_bad_index); kernels never check bounds. Every tensor may have any strides, including
// expanded (stride 0) inputs; outputs must not be expanded. "Overwrites" kernels assign the
// elements they reach; "accumulates" kernels add (+=) into out and leave the rest alone, so
// a backward pass zero-fills out first. Accumulating kernels split work over the positions of
// out that receive the sums, never over src, and add contributions in increasing src order,
// so float results do not depend on the thread count.
#pragma once

#include "core/tensor.h"

#include <optional>

namespace splat::ops::cpu {

inline constexpr DTypeSet kIndexDTypes =
    static_cast<DTypeSet>(1 << static_cast<int>(DType::i64) | 1 << static_cast<int>(DType::i32));

// The first element of index (row-major, any shape and strides) outside [0, size).
struct BadIndex {
  int64_t position;  // flat row-major position in index
  int64_t value;
};
std::optional<BadIndex> find_bad_index(const Tensor& index, int64_t size);

// Overwrites. x: (..., N, ...), index: (K), out: (..., K, ...) with N, K at dim.
// out[..., k, ...] = x[..., index[k], ...]
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
// Accumulates; the backward of index_select. out: (..., N, ...), index: (K),
// src: (..., K, ...). out[..., index[k], ...] += src[..., k, ...]
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
// Overwrites. out and index share a shape; x has the same ndim and is at least as large in
// every dim but dim. out[p] = x[p with p[dim] = index[p]]
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
// Accumulates; the backward of gather. index: any shape of out's ndim, no larger than src in
// any dim nor than out in dims other than dim. out[p with p[dim] = index[p]] += src[p]
void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

// Number of nonzero elements of t (any dtype; NaN is nonzero).
int64_t count_nonzero(const Tensor& t);
// Overwrites. x and mask (bool) share one shape (expand them first); out: (count_nonzero(mask))
// gets the selected elements of x in row-major order.
void masked_select(const Tensor& out, const Tensor& x, const Tensor& mask);
// Overwrites, at masked positions only; the backward of masked_select. mask (bool) broadcasts
// to out's shape; src: (>= count of true positions). The k-th true position of out in row-major
// order gets src[k]; the other positions keep their values.
void masked_scatter(const Tensor& out, const Tensor& mask, const Tensor& src);
// Overwrites. out: (count_nonzero(x), x.dim()) i64 gets the coordinates of x's nonzero
// elements in row-major order.
void nonzero(const Tensor& out, const Tensor& x);

} // namespace splat::ops::cpu
