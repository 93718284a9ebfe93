// Shapes, strides and the index arithmetic shared by every op: broadcasting, dim wrapping,
// contiguous strides. Strides and offsets are in elements, not bytes.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace splat {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// Product of the sizes (1 for a 0-d shape). Throws on a negative size.
int64_t numel(std::span<const int64_t> shape);

// Row-major strides of a dense tensor of this shape.
Strides contiguous_strides(std::span<const int64_t> shape);

// The broadcast of two shapes under NumPy rules; the error names both shapes and the first
// clashing dim: "add: shapes [2, 3] and [4] cannot be broadcast (dim -1: 3 vs 4)".
Shape broadcast_shapes(std::string_view op, std::span<const int64_t> a, std::span<const int64_t> b);

// Wraps a possibly negative dim into [0, ndim); the error names the dim and the valid range.
int64_t wrap_dim(std::string_view op, int64_t dim, int64_t ndim);

// "[2, 3, 4]"
std::string shape_str(std::span<const int64_t> shape);

struct ShapeFmt {
  std::span<const int64_t> shape;
};
std::ostream& operator<<(std::ostream& os, ShapeFmt s);
inline ShapeFmt fmt(std::span<const int64_t> shape) { return {shape}; }

} // namespace splat
