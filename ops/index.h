// Indexing ops: index_select, gather, scatter_add, masked_select, nonzero.
//
// Index tensors hold i64 or i32 values in [0, size) of the indexed dim; negative values are
// errors (no Python-style wrap-around), and every index is validated before any element is
// read or written, so a bad index throws without touching memory. Negative dims count from
// the end. Results are new contiguous tensors.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// x: (..., N, ...) with N at dim; index: (K) -> (..., K, ...): out[..., k, ...] =
// x[..., index[k], ...]. Indices may repeat and appear in any order. x must not be 0-d.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// PyTorch's gather: out has index's shape and out[p] = x[p with p[dim] replaced by index[p]].
// index has x's ndim and index.size(d) <= x.size(d) for every d != dim. A 0-d x or index
// counts as shape [1], as in PyTorch.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// PyTorch's scatter_add: self[p with p[dim] replaced by index[p]] += src[p] for every position
// p of index. self, index and src share an ndim; index.size(d) <= src.size(d) for every d and
// index.size(d) <= self.size(d) for d != dim; self and src share a dtype (not bool). Elements
// hit several times sum their contributions in the row-major order of p, whatever the thread
// count, so float results are reproducible. The functional form returns a new tensor.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);

// The elements of x where mask (bool) is true, x and mask broadcast together, as a 1-d tensor
// in row-major order of the broadcast shape.
Tensor masked_select(const Tensor& x, const Tensor& mask);

// The coordinates of x's nonzero elements (true for bool, NaN counts as nonzero) as an (n,
// ndim) i64 tensor, rows in row-major order. A 0-d x gives shape (n, 0) with n = 0 or 1.
Tensor nonzero(const Tensor& x);

} // namespace splat::ops
