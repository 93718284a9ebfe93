// Reversing the order of elements along dims.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::ops {

// A new contiguous tensor holding x with the order of elements reversed along each of dims
// (negative dims count from the end; a dim may appear only once). Like PyTorch, flip copies:
// the result never shares storage with x, even when dims is empty.
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);

} // namespace splat::ops
