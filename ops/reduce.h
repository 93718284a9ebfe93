// Reductions over any set of dims, with keepdim.
//
// `dims` empty means every dim. Reduced dims are removed from the result, or kept with size 1
// when keepdim is true. Sums and products of integral or bool tensors are i64 (as in PyTorch);
// float sums accumulate in double. Empty reductions give the identity (sum 0, prod 1, all true,
// any false, mean/var NaN); max/min/argmax/argmin over an empty dim are errors. NaN propagates
// through max/min, and the index of the first NaN (or of the first maximum on ties) is returned,
// so results are deterministic.
#pragma once

#include "core/tensor.h"

#include <optional>
#include <vector>

namespace splat::ops {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // floating only
// Variance with Bessel's correction when unbiased (divides by n - 1); floating only.
Tensor var(const Tensor& x, const Dims& dims = {}, bool unbiased = true, bool keepdim = false);
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Largest / smallest values over several dims (no indices).
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // bool result
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // bool result

// Values and i64 indices (positions along dim) of the maxima / minima along one dim.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the maximum along dim, or into the flattened tensor when dim is absent.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// The reduced shape: dims removed, or set to 1 with keepdim. Also normalises dims (sorted,
// wrapped, duplicates rejected). Shared with autograd, which expands gradients back.
struct ReducedShape {
  std::vector<bool> reduced;  // per input dim
  Shape out_shape;
};
ReducedShape reduced_shape(std::string_view op, const Tensor& x, const Dims& dims, bool keepdim);

} // namespace splat::ops
