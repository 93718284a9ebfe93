// CPU kernels for sorting and selection (ops/sort.h states the order and tie rules). Arguments
// were checked by the caller: dim is wrapped, dtypes match, outputs have the right shapes.
// Kernels overwrite their outputs. Inputs may have any strides; outputs too.
//
// Also DimSlices, the walk over the 1-d slices of a tensor along one dim that the sort and scan
// kernels share.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cpu {

// The 1-d slices of a tensor along dim, numbered 0..count()-1 in row-major order of the other
// dims, so two tensors of one shape number their slices alike whatever their strides. Offsets
// are in elements from data<T>() (which already includes the tensor's offset). A 0-d tensor is
// one slice of length 1.
class DimSlices {
public:
  DimSlices(const Tensor& t, int64_t dim) {
    if (t.dim() == 0) return;
    length_ = t.shape()[dim];
    stride_ = t.strides()[dim];
    for (int64_t d = 0; d < t.dim(); ++d) {
      if (d == dim) continue;
      sizes_.push_back(t.shape()[d]);
      strides_.push_back(t.strides()[d]);
      count_ *= t.shape()[d];
    }
  }
  int64_t count() const { return count_; }
  int64_t length() const { return length_; }
  int64_t stride() const { return stride_; }
  // Offset of the first element of slice r. Costs one division per dim, which is noise next to
  // the work done on a slice.
  int64_t offset(int64_t r) const {
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(sizes_.size()) - 1; d >= 0; --d) {
      off += (r % sizes_[d]) * strides_[d];
      r /= sizes_[d];
    }
    return off;
  }

private:
  Shape sizes_;      // the other dims
  Strides strides_;  // their strides
  int64_t count_ = 1, length_ = 1, stride_ = 0;
};

// For each slice of x along dim, the first k elements of its sort order (descending = largest
// first), written to values and indices: shape of x with dim resized to k (for a 0-d x, either
// 0-d with k = 1 or shape [0]). in_index_order writes the chosen k in increasing index order
// instead of sort order. values may be undefined: then only indices are written.
// indices: i64. Used for sort (k = x.size(dim)), argsort and topk.
void sort_prefix(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim,
                 int64_t k, bool descending, bool in_index_order);

// Number of runs of equal adjacent elements in sorted (1-d), each NaN being a run of its own.
int64_t count_runs(const Tensor& sorted);

// Collapses the runs of sorted (1-d, ascending, from sort_prefix) into values and counts (both
// (U,), U = count_runs(sorted)), and scatters run numbers through perm (1-d i64, sorted[j] ==
// input.flat[perm[j]]) into inverse (contiguous, numel == sorted's). counts and inverse may be
// undefined: then they are not written.
void unique_runs(const Tensor& values, const Tensor& counts, const Tensor& inverse,
                 const Tensor& sorted, const Tensor& perm);

} // namespace splat::ops::cpu
