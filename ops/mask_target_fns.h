// The paste_masks pixel formula (ops/mask_target.h), shared by the CPU and CUDA kernels. Computed
// in the masks' dtype T with mmdet's and grid_sample's order of operations, so float32 results
// agree with theirs at the threshold.
#pragma once

#include "core/cuda/hd.h"

#include <cmath>
#include <cstdint>

namespace splat::ops::mask_target_fns {

// Grid coordinate in [-1, 1] of pixel centre i over [lo, hi]; a degenerate box (infinite result)
// reads 0, as mmdet replaces infinities by 0.
template <class T> SPLAT_HD T grid_coord(int64_t i, T lo, T hi) {
  const T g = (static_cast<T>(i) + T(0.5) - lo) / (hi - lo) * T(2) - T(1);
  return std::isinf(g) ? T(0) : g;
}

// grid_sample (bilinear, zeros padding, align_corners=False) of the m x m mask at grid point
// (gx, gy).
template <class T> SPLAT_HD T sample_mask(const T* mask, int64_t m, T gx, T gy) {
  const T ix = ((gx + T(1)) * static_cast<T>(m) - T(1)) / T(2);
  const T iy = ((gy + T(1)) * static_cast<T>(m) - T(1)) / T(2);
  const T fx = std::floor(ix), fy = std::floor(iy);
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  const T wx1 = ix - fx, wy1 = iy - fy, wx0 = fx + T(1) - ix, wy0 = fy + T(1) - iy;
  T acc = 0;
  auto at = [&](int64_t y, int64_t x, T w) {
    if (y >= 0 && y < m && x >= 0 && x < m) acc += mask[y * m + x] * w;
  };
  at(y0, x0, wy0 * wx0);
  at(y0, x0 + 1, wy0 * wx1);
  at(y0 + 1, x0, wy1 * wx0);
  at(y0 + 1, x0 + 1, wy1 * wx1);
  return acc;
}

// Pixel (y, x) of pasted mask p: masks (P, m, m), boxes (P, 4).
template <class T>
SPLAT_HD bool paste_pixel(const T* masks, const T* boxes, int64_t m, int64_t p, int64_t y,
                          int64_t x, T threshold) {
  const T* b = boxes + p * 4;
  return sample_mask(masks + p * m * m, m, grid_coord(x, b[0], b[2]), grid_coord(y, b[1], b[3])) >=
         threshold;
}

} // namespace splat::ops::mask_target_fns
