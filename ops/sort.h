// Sorting and selection: sort, argsort, topk, unique.
//
// Order: every op orders elements by value with NaN greater than every number (NaNs come last
// ascending and first descending, as in PyTorch); -0.0 and 0.0 are equal. Ties are always broken
// by position: among equal values (NaNs included) the element with the lower index along the
// dim comes first, in ascending and descending order alike. So sort is stable and every result
// is deterministic (and the CUDA kernels produce exactly the same one).
//
// dtypes: every dtype (numeric and bool). Inputs may have any strides; outputs are contiguous;
// indices are i64 positions along the sorted dim. A 0-d tensor behaves as one slice of length
// 1 along dim 0 / -1.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops {

struct SortResult {
  Tensor values;   // x's dtype
  Tensor indices;  // i64; values[..., j, ...] == x[..., indices[..., j, ...], ...] along dim
};

// x sorted along dim (stably; see the file comment). values and indices have x's shape.
SortResult sort(const Tensor& x, int64_t dim = -1, bool descending = false);

// sort(x, dim, descending).indices, without writing the values.
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);

// The k largest (largest = true) or smallest elements along dim, and their positions. The
// result has x's shape with dim resized to k (0 <= k <= x.size(dim)). Among equal values the
// lower index wins, both in the choice of which elements are kept and in their order.
// sorted = true returns them in sort order (descending for largest); sorted = false returns the
// same k elements in increasing order of their index (a deterministic order that skips sorting
// by value). For a 0-d x, k = 1 gives 0-d results and k = 0 gives empty 1-d results.
SortResult topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                bool sorted = true);

struct UniqueResult {
  Tensor values;   // (U,) the distinct elements, ascending; x's dtype
  Tensor inverse;  // x's shape, i64: x.flat[i] == values[inverse.flat[i]]; undefined unless asked
  Tensor counts;   // (U,) i64: occurrences of each value; undefined unless asked
};

// The distinct elements of flattened x, sorted ascending (torch.unique(sorted=True)). Each NaN
// is its own distinct element (NaN != NaN), so they all appear, last.
UniqueResult unique(const Tensor& x, bool return_inverse = false, bool return_counts = false);

} // namespace splat::ops
