// CUDA kernels for sorting and selection: the contract of ops/cpu/sort.h (same names, same
// arguments, same exact results), for tensors on one CUDA device. Arguments were checked by the
// caller; kernels overwrite their outputs; inputs and outputs may have any strides (negative
// ones too, as flip makes).
//
// Also SliceGeometry, the device-side DimSlices that the sort and scan kernels share.
#pragma once

#include "core/cuda/hd.h"
#include "core/tensor.h"

#include <cstdint>
#include <string_view>

namespace splat::ops::cuda {

constexpr int kMaxSliceDims = 10; // dims other than the sliced one, after merging

// The 1-d slices of a tensor along one dim, numbered 0..count-1 in row-major order of the other
// dims (as cpu::DimSlices numbers them), passed to kernels by value. Neighbouring other dims
// that memory walks as one are merged, which keeps the numbering. A 0-d tensor is one slice of
// length 1.
struct SliceGeometry {
  int ndim = 0;
  int64_t sizes[kMaxSliceDims] = {};   // the other dims, merged; innermost last
  int64_t strides[kMaxSliceDims] = {}; // their strides, in elements
  int64_t count = 1, length = 1, stride = 0;

  // Offset (in elements, from data<T>()) of the first element of slice r.
  SPLAT_HD int64_t offset(int64_t r) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      off += (r % sizes[d]) * strides[d];
      r /= sizes[d];
    }
    return off;
  }
};

// Throws naming op and the shape when more than kMaxSliceDims dims remain after merging.
SliceGeometry slice_geometry(std::string_view op, const Tensor& t, int64_t dim);

void sort_prefix(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim,
                 int64_t k, bool descending, bool in_index_order);
int64_t count_runs(const Tensor& sorted);
void unique_runs(const Tensor& values, const Tensor& counts, const Tensor& inverse,
                 const Tensor& sorted, const Tensor& perm);

} // namespace splat::ops::cuda
