// 2-D pooling over (N, C, H, W) tensors (f32, f64), PyTorch's semantics:
// - output size per spatial dim, with k_eff = dilation * (kernel - 1) + 1:
//     floor_or_ceil((in + 2 * padding - k_eff) / stride) + 1, and with ceil_mode the last window
//     is dropped when it would start beyond the input and the left padding
//     ((out - 1) * stride >= in + padding);
// - padding must be at most kernel / 2; the output must not be empty.
// All pools are differentiable in x; x may have any strides.
#pragma once

#include "core/tensor.h"
#include "ops/reduce.h"

#include <cstdint>
#include <optional>

namespace splat::ops {

// A (height, width) pair; one number stands for both. An optional field takes an unequal pair as
// `.stride = Size2{1, 2}` (a bare `{1, 2}` does not convert to std::optional).
struct Size2 {
  int64_t h = 0, w = 0;
  constexpr Size2() = default;
  constexpr Size2(int64_t both) : h(both), w(both) {} // NOLINT: implicit on purpose
  constexpr Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  friend constexpr bool operator==(const Size2&, const Size2&) = default;
};

struct MaxPool2dOptions {
  Size2 kernel;
  std::optional<Size2> stride; // absent: the kernel size
  Size2 padding = 0;           // implicit -inf padding
  Size2 dilation = 1;
  bool ceil_mode = false;
};

struct AvgPool2dOptions {
  Size2 kernel;
  std::optional<Size2> stride; // absent: the kernel size
  Size2 padding = 0;           // implicit zero padding
  bool ceil_mode = false;
  // Divide by the window size clipped to the padded input (true) or to the input alone (false).
  // A ceil_mode window hanging off the padded input never counts the part beyond it.
  bool count_include_pad = true;
};

// Maximum over each window: values (N, C, OH, OW) and i64 indices of the maxima, flat h * W + w
// within their (n, c) plane (PyTorch's return_indices). The first maximum in row-major window
// order wins ties; NaN propagates. ValuesIndices is in ops/reduce.h.
// e.g. the ResNeSt stem pool: max_pool2d(x, {.kernel = 3, .stride = 2, .padding = 1}).
ValuesIndices max_pool2d(const Tensor& x, const MaxPool2dOptions& opts);

// Mean over each window. e.g. ResNeSt's avd pool avg_pool2d(x, {.kernel = 3, .stride = s,
// .padding = 1}) and its avg-down shortcut pool avg_pool2d(x, {.kernel = s, .stride = s,
// .ceil_mode = true, .count_include_pad = false}).
Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& opts);

// Mean over the windows rows [floor(i * H / OH), ceil((i + 1) * H / OH)) and likewise for the
// columns (PyTorch's rule; windows overlap when the sizes do not divide). output: (OH, OW) >= 1.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output);

// (N, C, H, W) -> (N, C, 1, 1): the mean of every plane.
Tensor global_avg_pool2d(const Tensor& x);

} // namespace splat::ops
