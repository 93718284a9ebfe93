// The RoIAlign sampling rules (torchvision's roi_align, which mmcv's avg mode equals), shared by
// the CPU and CUDA kernels (ops/{cpu,cuda}/roi_align) so both place every sample identically.
// Coordinates are computed in the tensor's own dtype T, as torchvision does, so float32 results
// match its rounding.
#pragma once

#include "core/cuda/hd.h"

#include <cmath>
#include <cstdint>

namespace splat::ops::roi_align_fns {

struct Geometry {
  int64_t channels, height, width, pooled_h, pooled_w, sampling_ratio;
  double spatial_scale;
  bool aligned;
};

// One RoI's bins: start corner, bin size, samples per bin along each axis and the divisor.
template <class T> struct RoiBins {
  T start_y, start_x, bin_h, bin_w;
  int64_t grid_h, grid_w;
  T count; // max(grid_h * grid_w, 1)
};

// roi: [batch_index, x1, y1, x2, y2].
template <class T> SPLAT_HD RoiBins<T> roi_bins(const Geometry& g, const T* roi) {
  const T offset = g.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(g.spatial_scale);
  RoiBins<T> b;
  b.start_x = roi[1] * scale - offset;
  b.start_y = roi[2] * scale - offset;
  T roi_w = roi[3] * scale - offset - b.start_x;
  T roi_h = roi[4] * scale - offset - b.start_y;
  if (!g.aligned) { // legacy behaviour: malformed RoIs become 1x1
    roi_w = roi_w > T(1) ? roi_w : T(1);
    roi_h = roi_h > T(1) ? roi_h : T(1);
  }
  b.bin_h = roi_h / static_cast<T>(g.pooled_h);
  b.bin_w = roi_w / static_cast<T>(g.pooled_w);
  b.grid_h = g.sampling_ratio > 0
                 ? g.sampling_ratio
                 : static_cast<int64_t>(std::ceil(roi_h / static_cast<T>(g.pooled_h)));
  b.grid_w = g.sampling_ratio > 0
                 ? g.sampling_ratio
                 : static_cast<int64_t>(std::ceil(roi_w / static_cast<T>(g.pooled_w)));
  const int64_t n = b.grid_h * b.grid_w;
  b.count = static_cast<T>(n > 1 ? n : 1);
  return b;
}

// The sample (iy, ix) of bin (ph, pw): y and x in feature-map coordinates.
template <class T>
SPLAT_HD void sample_point(const RoiBins<T>& b, int64_t ph, int64_t pw, int64_t iy, int64_t ix,
                           T& y, T& x) {
  y = b.start_y + static_cast<T>(ph) * b.bin_h +
      (static_cast<T>(iy) + T(0.5)) * b.bin_h / static_cast<T>(b.grid_h);
  x = b.start_x + static_cast<T>(pw) * b.bin_w +
      (static_cast<T>(ix) + T(0.5)) * b.bin_w / static_cast<T>(b.grid_w);
}

// The four neighbours of a sample and their bilinear weights; valid is false for a sample
// beyond one pixel outside the map (it contributes 0).
template <class T> struct Bilinear {
  bool valid;
  int64_t y0, x0, y1, x1;
  T w00, w01, w10, w11;
};

template <class T> SPLAT_HD Bilinear<T> bilinear(T y, T x, int64_t height, int64_t width) {
  Bilinear<T> r{};
  if (y < T(-1) || y > static_cast<T>(height) || x < T(-1) || x > static_cast<T>(width)) {
    r.valid = false;
    return r;
  }
  r.valid = true;
  if (y <= T(0)) y = T(0);
  if (x <= T(0)) x = T(0);
  r.y0 = static_cast<int64_t>(y);
  r.x0 = static_cast<int64_t>(x);
  if (r.y0 >= height - 1) {
    r.y0 = r.y1 = height - 1;
    y = static_cast<T>(r.y0);
  } else {
    r.y1 = r.y0 + 1;
  }
  if (r.x0 >= width - 1) {
    r.x0 = r.x1 = width - 1;
    x = static_cast<T>(r.x0);
  } else {
    r.x1 = r.x0 + 1;
  }
  const T ly = y - static_cast<T>(r.y0), lx = x - static_cast<T>(r.x0);
  const T hy = T(1) - ly, hx = T(1) - lx;
  r.w00 = hy * hx;
  r.w01 = hy * lx;
  r.w10 = ly * hx;
  r.w11 = ly * lx;
  return r;
}

// Calls visit(sample) for every sample of bin (ph, pw) inside the map's one-pixel margin.
template <class T, class Visit>
SPLAT_HD void for_each_sample(const Geometry& g, const RoiBins<T>& b, int64_t ph, int64_t pw,
                              Visit&& visit) {
  for (int64_t iy = 0; iy < b.grid_h; ++iy)
    for (int64_t ix = 0; ix < b.grid_w; ++ix) {
      T y, x;
      sample_point(b, ph, pw, iy, ix, y, x);
      const Bilinear<T> s = bilinear(y, x, g.height, g.width);
      if (s.valid) visit(s);
    }
}

// The value of output element (roi k, channel c, bin ph, pw): the mean of its samples.
// plane points at channel c of the RoI's image, (height, width) row-major.
template <class T>
SPLAT_HD T pool_bin(const Geometry& g, const RoiBins<T>& b, const T* plane, int64_t ph,
                    int64_t pw) {
  T acc = 0;
  const int64_t w = g.width;
  for_each_sample(g, b, ph, pw, [&](const Bilinear<T>& s) {
    acc += s.w00 * plane[s.y0 * w + s.x0] + s.w01 * plane[s.y0 * w + s.x1] +
           s.w10 * plane[s.y1 * w + s.x0] + s.w11 * plane[s.y1 * w + s.x1];
  });
  return acc / b.count;
}

// Calls add(offset in the plane, amount) for the four neighbours of every valid sample of bin
// (ph, pw), amount = dout * weight / count: the backward of pool_bin.
template <class T, class Add>
SPLAT_HD void scatter_bin(const Geometry& g, const RoiBins<T>& b, T dout, int64_t ph, int64_t pw,
                          Add&& add) {
  const T gv = dout / b.count;
  const int64_t w = g.width;
  for_each_sample(g, b, ph, pw, [&](const Bilinear<T>& s) {
    add(s.y0 * w + s.x0, gv * s.w00);
    add(s.y0 * w + s.x1, gv * s.w01);
    add(s.y1 * w + s.x0, gv * s.w10);
    add(s.y1 * w + s.x1, gv * s.w11);
  });
}

} // namespace splat::ops::roi_align_fns
