// Per-box formulas shared by the CPU and CUDA kernels of boxes, box_coder and nms, so both
// devices evaluate exactly the same expressions (ops/boxes.h states the box convention).
//
// Overlaps are formed in double from widths and heights rounded to the coordinate type T: for
// f32 coordinates every product is then exact in double, so a compiler fusing a multiply into a
// following add (nvcc by default, g++ under -march=native) cannot change any result, and one
// set of f32 boxes gives bit-identical IoUs, NMS decisions and assignments on the CPU, the
// emulator and a GPU. (For f64 coordinates a fused product may differ in the last bit.)
#pragma once

#include "core/cuda/hd.h"
#include "ops/assign.h"
#include "ops/box_coder.h"
#include "ops/boxes.h"

#include <cmath>
#include <cstdint>

namespace splat::ops::box {

template <class T> SPLAT_HD T max0(T v) { return v > T(0) ? v : T(0); }
template <class T> SPLAT_HD T larger(T a, T b) { return a > b ? a : b; }
template <class T> SPLAT_HD T smaller(T a, T b) { return a < b ? a : b; }

// b: 4 coordinates x1, y1, x2, y2.
template <class T> SPLAT_HD double area(const T* b) {
  return static_cast<double>(static_cast<T>(b[2] - b[0])) *
         static_cast<double>(static_cast<T>(b[3] - b[1]));
}

template <class T> SPLAT_HD double intersection(const T* a, const T* b) {
  const T w = max0(static_cast<T>(smaller(a[2], b[2]) - larger(a[0], b[0])));
  const T h = max0(static_cast<T>(smaller(a[3], b[3]) - larger(a[1], b[1])));
  return static_cast<double>(w) * static_cast<double>(h);
}

// inter / denominator, the denominator raised to eps when eps > 0 (MMDetection's bbox_overlaps)
// and used as it is when eps == 0 (torchvision's box_iou).
SPLAT_HD inline double overlap_ratio(double inter, double denominator, double eps) {
  return inter / (eps > 0 && denominator < eps ? eps : denominator);
}

// The overlap of a and b (box_iou's element) given their areas.
template <class T>
SPLAT_HD double pair_overlap(const T* a, double area_a, const T* b, double area_b, IouMode mode,
                             double eps) {
  const double inter = intersection(a, b);
  return overlap_ratio(inter, mode == IouMode::iof ? area_a : area_a + area_b - inter, eps);
}

// NMS's test: IoU strictly above the threshold, no eps (a NaN IoU never suppresses).
template <class T>
SPLAT_HD bool iou_above(const T* a, double area_a, const T* b, double area_b, double threshold) {
  const double inter = intersection(a, b);
  return inter / (area_a + area_b - inter) > threshold;
}

// DeltaXYWHBBoxCoder's parameters in the coordinate type (ops/box_coder.h).
template <class T> struct CoderParams {
  T means[4];
  T stds[4];
  T max_ratio; // |log(wh_ratio_clip)|
  bool clip;   // clip decoded boxes to [0, max_w] x [0, max_h]
  T max_h, max_w;
};

template <class T>
CoderParams<T> coder_params(const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape) {
  CoderParams<T> c{};
  for (int k = 0; k < 4; ++k) {
    c.means[k] = static_cast<T>(coder.means[static_cast<size_t>(k)]);
    c.stds[k] = static_cast<T>(coder.stds[static_cast<size_t>(k)]);
  }
  c.max_ratio = static_cast<T>(std::abs(std::log(coder.wh_ratio_clip)));
  c.clip = max_shape.has_value();
  if (max_shape) {
    c.max_h = static_cast<T>(max_shape->height);
    c.max_w = static_cast<T>(max_shape->width);
  }
  return c;
}

// out = encoded deltas of gt relative to p (MMDetection's bbox2delta, in its operation order).
template <class T> SPLAT_HD void encode(const T* p, const T* g, const CoderParams<T>& c, T* out) {
  const T px = (p[0] + p[2]) * T(0.5), py = (p[1] + p[3]) * T(0.5);
  const T pw = p[2] - p[0], ph = p[3] - p[1];
  const T gx = (g[0] + g[2]) * T(0.5), gy = (g[1] + g[3]) * T(0.5);
  const T gw = g[2] - g[0], gh = g[3] - g[1];
  const T d[4] = {(gx - px) / pw, (gy - py) / ph, std::log(gw / pw), std::log(gh / ph)};
  for (int k = 0; k < 4; ++k) out[k] = (d[k] - c.means[k]) / c.stds[k];
}

// out = the box that deltas d encode relative to r (MMDetection's delta2bbox).
template <class T> SPLAT_HD void decode(const T* r, const T* d, const CoderParams<T>& c, T* out) {
  T v[4];
  for (int k = 0; k < 4; ++k) v[k] = d[k] * c.stds[k] + c.means[k];
  const T dw = smaller(larger(v[2], -c.max_ratio), c.max_ratio);
  const T dh = smaller(larger(v[3], -c.max_ratio), c.max_ratio);
  const T px = (r[0] + r[2]) * T(0.5), py = (r[1] + r[3]) * T(0.5);
  const T pw = r[2] - r[0], ph = r[3] - r[1];
  const T gw = pw * std::exp(dw), gh = ph * std::exp(dh);
  const T gx = px + pw * v[0], gy = py + ph * v[1];
  out[0] = gx - gw * T(0.5);
  out[1] = gy - gh * T(0.5);
  out[2] = gx + gw * T(0.5);
  out[3] = gy + gh * T(0.5);
  if (c.clip) {
    for (int k = 0; k < 4; k += 2) out[k] = smaller(larger(out[k], T(0)), c.max_w);
    for (int k = 1; k < 4; k += 2) out[k] = smaller(larger(out[k], T(0)), c.max_h);
  }
}

// MaxIoUAssigner's thresholds (ops/assign.h), in the overlaps' type: MMDetection compares its
// f32 overlaps with thresholds converted to f32.
template <class T> struct AssignParams {
  T pos_thr, neg_lo, neg_hi, min_pos;
  bool match_low_quality, gt_max_assign_all;
};

template <class T> AssignParams<T> assign_params(const MaxIouAssigner& cfg) {
  return {static_cast<T>(cfg.pos_iou_thr),
          static_cast<T>(cfg.neg_iou_thr.lo),
          static_cast<T>(cfg.neg_iou_thr.hi),
          static_cast<T>(cfg.min_pos_iou),
          cfg.match_low_quality,
          cfg.gt_max_assign_all};
}

// The assignment of box n from overlaps (G, N) row-major, the GTs' best overlaps gt_max (G) and
// their first best boxes gt_argmax (G): returns gt_inds[n] (-1, 0 or 1 + GT index) and sets
// best to the box's largest overlap (the first GT wins ties).
template <class T>
SPLAT_HD int64_t assign_box(const T* overlaps, int64_t num_gts, int64_t num_boxes, int64_t n,
                            const T* gt_max, const int64_t* gt_argmax, const AssignParams<T>& p,
                            T& best) {
  best = overlaps[n];
  int64_t arg = 0;
  for (int64_t g = 1; g < num_gts; ++g) {
    const T v = overlaps[g * num_boxes + n];
    if (v > best) {
      best = v;
      arg = g;
    }
  }
  int64_t r = -1;
  if (best >= p.neg_lo && best < p.neg_hi) r = 0;
  if (best >= p.pos_thr) r = arg + 1;
  if (p.match_low_quality) {
    // The GTs in increasing order, so the last one that claims the box keeps it.
    for (int64_t g = 0; g < num_gts; ++g) {
      if (!(gt_max[g] >= p.min_pos)) continue;
      const bool claims =
          p.gt_max_assign_all ? overlaps[g * num_boxes + n] == gt_max[g] : gt_argmax[g] == n;
      if (claims) r = g + 1;
    }
  }
  return r;
}

} // namespace splat::ops::box
