// RoI sets for the RoIAlign tests: random boxes mixed with the awkward ones (on and beyond the
// map borders, tiny, huge, degenerate), as (K, 5) [batch_index, x1, y1, x2, y2] float64.
#pragma once

#include "core/philox.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "tests/helpers.h"

#include <vector>

namespace splat::test {

// k RoIs over images of (image_h, image_w) pixels, batch indices in [0, n). The first rows are
// fixed awkward boxes, the rest uniform random corners with sizes from 0.5 pixel to the image.
inline Tensor roi_boxes(int64_t k, int64_t n, double image_h, double image_w, uint64_t seed) {
  const double h = image_h, w = image_w;
  std::vector<double> v{
      0,
      0,
      0,
      w,
      h, // the whole image
      0,
      -3,
      -2,
      5,
      4, // across the top-left corner
      0,
      w - 4,
      h - 3,
      w + 6,
      h + 5, // across the bottom-right corner
      0,
      -20,
      -20,
      -5,
      -5, // entirely outside (every sample is 0)
      0,
      w * 0.3,
      h * 0.4,
      w * 0.3 + 0.4,
      h * 0.4 + 0.3, // tiny
      0,
      -w,
      -h,
      2 * w,
      2 * h, // huge
      0,
      w * 0.5,
      h * 0.5,
      w * 0.5,
      h * 0.5, // a point
      0,
      w * 0.6,
      h * 0.6,
      w * 0.2,
      h * 0.3, // x2 < x1, y2 < y1
  };
  for (size_t i = 0; i < v.size(); i += 5) v[i] = static_cast<double>((i / 5) % n);
  Generator gen(seed);
  const int64_t extra = k - static_cast<int64_t>(v.size() / 5);
  if (extra > 0) {
    const auto u = to_vector<double>(ops::rand({extra, 5}, {.dtype = DType::f64}, &gen));
    for (int64_t r = 0; r < extra; ++r) {
      const double* q = u.data() + r * 5;
      const double bw = 0.5 + q[3] * w, bh = 0.5 + q[4] * h;
      const double x1 = q[1] * w - bw / 4, y1 = q[2] * h - bh / 4;
      v.insert(v.end(),
               {static_cast<double>(static_cast<int64_t>(q[0] * n)), x1, y1, x1 + bw, y1 + bh});
    }
  }
  v.resize(static_cast<size_t>(k) * 5);
  return ops::from_vector<double>(v, {k, 5});
}

} // namespace splat::test
