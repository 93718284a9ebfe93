// The per-pixel formulas of the resampling kernels, shared by the CPU kernels
// (ops/cpu/resize.cpp) and the CUDA kernels (ops/cuda/resize.cu): both devices evaluate the same
// expressions in the same order, so they agree up to how each compiler contracts a * b + c.
//
// Index rules (PyTorch's F.interpolate, float32 arithmetic for the nearest scale and T arithmetic
// for the linear one, as PyTorch's CPU kernels use):
//   nearest:  src = min(floor(dst * (float(in) / out)), in - 1); identity when out == in and
//             dst / 2 when out == 2 in (PyTorch's exact shortcuts).
//   linear:   src = (dst + 0.5) * in / out - 0.5, clamped below at 0 (align_corners false), or
//             dst * (in - 1) / (out - 1) (true; 0 when out == 1); the taps are i0 = floor(src)
//             and i1 = min(i0 + 1, in - 1) with weights 1 - l and l, l = src - i0.
// Backward (gather form): an input pixel sums the output pixels that read it. Both source maps
// are non-decreasing in dst, so those outputs form one range per axis, found by binary search.
//
// Planes are contiguous (H, W) / (OH, OW) images.
#pragma once

#include "core/cuda/hd.h"

#include <cmath>
#include <cstdint>

namespace splat::ops::resize {

SPLAT_HD inline int64_t nearest_source(int64_t dst, int64_t in, int64_t out) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const auto src = static_cast<int64_t>(std::floor(static_cast<float>(dst) * scale));
  return src < in - 1 ? src : in - 1;
}

// The two input taps of output index dst along one axis and their weights.
template <class T> struct LinearTap {
  int64_t i0, i1;
  T w0, w1;
};

template <class T>
SPLAT_HD LinearTap<T> linear_tap(int64_t dst, int64_t in, int64_t out, bool align_corners) {
  T src;
  if (align_corners) {
    const T scale = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
    src = scale * static_cast<T>(dst);
  } else {
    const T scale = static_cast<T>(in) / static_cast<T>(out);
    src = scale * (static_cast<T>(dst) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);
  }
  const auto i0 = static_cast<int64_t>(src);
  T l = src - static_cast<T>(i0);
  l = l < T(0) ? T(0) : l > T(1) ? T(1) : l;
  return {i0, i0 < in - 1 ? i0 + 1 : i0, T(1) - l, l};
}

// The first dst in [0, out) with key(dst) >= v (out when none); key is non-decreasing.
template <class Key> SPLAT_HD int64_t first_at_least(int64_t out, int64_t v, const Key& key) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (key(mid) >= v)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// The output range [begin, end) whose nearest source along an axis is i.
struct Range {
  int64_t begin, end;
};
// (Functors rather than lambdas, so the same code is host and device code under nvcc.)
struct NearestKey {
  int64_t in, out;
  SPLAT_HD int64_t operator()(int64_t d) const { return nearest_source(d, in, out); }
};
SPLAT_HD inline Range nearest_readers(int64_t i, int64_t in, int64_t out) {
  const NearestKey key{in, out};
  return {first_at_least(out, i, key), first_at_least(out, i + 1, key)};
}

// The output range whose linear taps may include input i: lower tap in [i - 1, i].
template <class T> struct LowerTapKey {
  int64_t in, out;
  bool align_corners;
  SPLAT_HD int64_t operator()(int64_t d) const {
    return linear_tap<T>(d, in, out, align_corners).i0;
  }
};
template <class T>
SPLAT_HD Range linear_readers(int64_t i, int64_t in, int64_t out, bool align_corners) {
  const LowerTapKey<T> key{in, out, align_corners};
  return {first_at_least(out, i - 1, key), first_at_least(out, i + 1, key)};
}

// Weight of input i in output dst's interpolation along one axis (0 when it is not a tap; both
// weights when the two taps coincide at the border).
template <class T> SPLAT_HD T tap_weight(const LinearTap<T>& t, int64_t i) {
  return (t.i0 == i ? t.w0 : T(0)) + (t.i1 == i ? t.w1 : T(0));
}

// The per-pixel kernels, as functors called with (source plane, row, col) of the pixel they
// write: forward ones write output pixel (oy, ox) from the input plane, backward ones input
// pixel (iy, ix) from the output-gradient plane. Plane sizes: input (h, w), output (oh, ow).
struct Planes {
  int64_t h, w, oh, ow;
};

struct NearestForward {
  Planes p;
  template <class T> SPLAT_HD T operator()(const T* x, int64_t oy, int64_t ox) const {
    return x[nearest_source(oy, p.h, p.oh) * p.w + nearest_source(ox, p.w, p.ow)];
  }
};

struct NearestBackward {
  Planes p;
  template <class T> SPLAT_HD T operator()(const T* dy, int64_t iy, int64_t ix) const {
    const Range ry = nearest_readers(iy, p.h, p.oh), rx = nearest_readers(ix, p.w, p.ow);
    T acc = T(0);
    for (int64_t oy = ry.begin; oy < ry.end; ++oy)
      for (int64_t ox = rx.begin; ox < rx.end; ++ox) acc += dy[oy * p.ow + ox];
    return acc;
  }
};

struct BilinearForward {
  Planes p;
  bool align_corners;
  template <class T> SPLAT_HD T operator()(const T* x, int64_t oy, int64_t ox) const {
    const LinearTap<T> ty = linear_tap<T>(oy, p.h, p.oh, align_corners);
    const LinearTap<T> tx = linear_tap<T>(ox, p.w, p.ow, align_corners);
    const T* r0 = x + ty.i0 * p.w;
    const T* r1 = x + ty.i1 * p.w;
    return ty.w0 * (tx.w0 * r0[tx.i0] + tx.w1 * r0[tx.i1]) +
           ty.w1 * (tx.w0 * r1[tx.i0] + tx.w1 * r1[tx.i1]);
  }
};

struct BilinearBackward {
  Planes p;
  bool align_corners;
  template <class T> SPLAT_HD T operator()(const T* dy, int64_t iy, int64_t ix) const {
    const Range ry = linear_readers<T>(iy, p.h, p.oh, align_corners);
    const Range rx = linear_readers<T>(ix, p.w, p.ow, align_corners);
    T acc = T(0);
    for (int64_t oy = ry.begin; oy < ry.end; ++oy) {
      const T wy = tap_weight(linear_tap<T>(oy, p.h, p.oh, align_corners), iy);
      T row = T(0);
      for (int64_t ox = rx.begin; ox < rx.end; ++ox)
        row += tap_weight(linear_tap<T>(ox, p.w, p.ow, align_corners), ix) * dy[oy * p.ow + ox];
      acc += wy * row;
    }
    return acc;
  }
};

} // namespace splat::ops::resize
