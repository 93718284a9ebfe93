// View ops: results share storage with their input (writes through one are seen by the other).
// Only reshape and flatten may copy, and only when no view can express the result.
#pragma once

#include "core/tensor.h"

#include <optional>
#include <vector>

namespace splat::ops {

// Same elements, new shape; one size may be -1 (inferred). Fails when the strides cannot
// express the new shape without a copy (use reshape).
Tensor view(const Tensor& t, Shape shape);
// view when possible, else a contiguous copy viewed as shape.
Tensor reshape(const Tensor& t, Shape shape);
// Dims start..end (inclusive) merged into one.
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1);
// Dims reordered: result dim i is input dim dims[i].
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
// Elements start, start+step, ... below end along dim; start/end are clamped and may be
// negative (Python slicing). step must be positive.
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
// length elements from start along dim; start and length must lie inside the dim.
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
// The slice at index along dim, with dim removed.
Tensor select(const Tensor& t, int64_t dim, int64_t index);
// Size-1 dims repeated (stride 0) to shape; -1 keeps a size; new leading dims allowed.
Tensor expand(const Tensor& t, Shape shape);
// All size-1 dims removed / dim removed if it has size 1.
Tensor squeeze(const Tensor& t);
Tensor squeeze(const Tensor& t, int64_t dim);
// A size-1 dim inserted at dim (in [-ndim-1, ndim]).
Tensor unsqueeze(const Tensor& t, int64_t dim);

// The strides that let a tensor of (shape, strides) be seen as new_shape, or nothing when the
// memory layout does not allow it. Exposed for tests.
std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& new_shape);

} // namespace splat::ops
