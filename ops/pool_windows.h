// The window geometry of 2-D pooling and the per-element bodies of the pooling kernels, shared
// by the CPU (ops/cpu/pool.cpp) and CUDA (ops/cuda/pool.cu) kernels so both follow one copy of
// PyTorch's index rules.
//
// Each spatial dim is an axis mapping output positions to input windows:
// - SlidingAxis: the window of output o starts at o * stride - pad and spans kernel taps spaced by
//   dilation; taps outside [0, in) are padding.
// - AdaptiveAxis: the window of output o is [floor(o * in / out), ceil((o + 1) * in / out)).
// Backward kernels gather: every input element sums the gradients of the outputs whose windows
// contain it (outputs_touching), so there are no atomics and the order of the sum is fixed.
// All planes are contiguous (H, W) blocks; x, y, gx and gy are indexed within one plane.
#pragma once

#include "core/cuda/hd.h"

#include <cstdint>
#include <limits>

namespace splat::ops {

struct IndexRange {
  int64_t begin = 0, end = 0; // [begin, end)
};

SPLAT_HD inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
SPLAT_HD inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }
SPLAT_HD inline int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }
SPLAT_HD inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

struct SlidingAxis {
  int64_t in = 0, out = 0, kernel = 1, stride = 1, pad = 0, dilation = 1;

  SPLAT_HD int64_t start(int64_t o) const { return o * stride - pad; }
  SPLAT_HD int64_t max_window() const { return kernel; }
  // Input positions covered by the window of output o (dilation 1), clipped to the input.
  SPLAT_HD IndexRange window(int64_t o) const {
    const int64_t s = start(o);
    return {max_i64(s, 0), min_i64(s + kernel, in)};
  }
  // The window's size clipped to the padded input only (avg pool's count_include_pad divisor;
  // a ceil_mode window may hang off the right padding).
  SPLAT_HD int64_t padded_size(int64_t o) const {
    const int64_t s = start(o);
    return min_i64(s + kernel, in + pad) - s;
  }
  // Outputs whose (dilated) span [start, start + dilation * (kernel - 1)] contains input i. With
  // dilation > 1 the caller still has to check that i falls on a tap.
  SPLAT_HD IndexRange outputs_touching(int64_t i) const {
    const int64_t span = dilation * (kernel - 1);
    return {max_i64(ceil_div(i + pad - span, stride), 0),
            min_i64(floor_div(i + pad, stride) + 1, out)};
  }
};

struct AdaptiveAxis {
  int64_t in = 0, out = 0;

  SPLAT_HD int64_t max_window() const { return in / out + 2; }
  SPLAT_HD IndexRange window(int64_t o) const {
    return {floor_div(o * in, out), ceil_div((o + 1) * in, out)};
  }
  // The same rule with the roles of in and out swapped.
  SPLAT_HD IndexRange outputs_touching(int64_t i) const {
    return {floor_div(i * out, in), ceil_div((i + 1) * out, in)};
  }
};

template <class Axis> struct PoolPlanes {
  Axis h, w;
  SPLAT_HD int64_t in_plane() const { return h.in * w.in; }
  SPLAT_HD int64_t out_plane() const { return h.out * w.out; }
  // An upper bound of the elements in one window: the work per element of a kernel.
  SPLAT_HD int64_t window_cells() const { return h.max_window() * w.max_window(); }
};

// Max pool forward for output (oh, ow) of one plane: PyTorch's scan (row-major taps, strict >
// so the first maximum wins, NaN replaces the current best) and its initial index (the first
// tap inside the input).
template <class T>
SPLAT_HD void max_pool_output(const PoolPlanes<SlidingAxis>& p, const T* x, int64_t oh, int64_t ow,
                              T* y, int64_t* index) {
  int64_t h0 = p.h.start(oh), w0 = p.w.start(ow);
  while (h0 < 0) h0 += p.h.dilation;
  while (w0 < 0) w0 += p.w.dilation;
  const int64_t h1 = min_i64(p.h.start(oh) + p.h.dilation * (p.h.kernel - 1) + 1, p.h.in);
  const int64_t w1 = min_i64(p.w.start(ow) + p.w.dilation * (p.w.kernel - 1) + 1, p.w.in);
  T best = -std::numeric_limits<T>::infinity();
  int64_t best_i = h0 * p.w.in + w0;
  for (int64_t ih = h0; ih < h1; ih += p.h.dilation)
    for (int64_t iw = w0; iw < w1; iw += p.w.dilation) {
      const int64_t i = ih * p.w.in + iw;
      const T v = x[i];
      if (v > best || v != v) {
        best = v;
        best_i = i;
      }
    }
  y[oh * p.w.out + ow] = best;
  index[oh * p.w.out + ow] = best_i;
}

// Max pool backward for input (ih, iw) of one plane: the sum of the gradients of the outputs
// that selected it. Overwrites gx.
template <class T>
SPLAT_HD void max_pool_grad_input(const PoolPlanes<SlidingAxis>& p, const T* gy,
                                  const int64_t* index, int64_t ih, int64_t iw, T* gx) {
  const int64_t i = ih * p.w.in + iw;
  const IndexRange rh = p.h.outputs_touching(ih), rw = p.w.outputs_touching(iw);
  T acc = T(0);
  for (int64_t oh = rh.begin; oh < rh.end; ++oh)
    for (int64_t ow = rw.begin; ow < rw.end; ++ow) {
      const int64_t o = oh * p.w.out + ow;
      if (index[o] == i) acc += gy[o];
    }
  gx[i] = acc;
}

// Avg pool divisors (PyTorch's): the window clipped to the padded input, or to the input alone.
struct AvgDivisor {
  bool count_include_pad = true;
  SPLAT_HD int64_t operator()(const PoolPlanes<SlidingAxis>& p, int64_t oh, int64_t ow) const {
    if (count_include_pad) return p.h.padded_size(oh) * p.w.padded_size(ow);
    const IndexRange rh = p.h.window(oh), rw = p.w.window(ow);
    return (rh.end - rh.begin) * (rw.end - rw.begin);
  }
};
struct AdaptiveDivisor {
  SPLAT_HD int64_t operator()(const PoolPlanes<AdaptiveAxis>& p, int64_t oh, int64_t ow) const {
    const IndexRange rh = p.h.window(oh), rw = p.w.window(ow);
    return (rh.end - rh.begin) * (rw.end - rw.begin);
  }
};

// Mean pool forward for output (oh, ow) of one plane (avg and adaptive), summing in double.
template <class T, class Axis, class Divisor>
SPLAT_HD void mean_pool_output(const PoolPlanes<Axis>& p, const Divisor& divisor, const T* x,
                               int64_t oh, int64_t ow, T* y) {
  const IndexRange rh = p.h.window(oh), rw = p.w.window(ow);
  double acc = 0;
  for (int64_t ih = rh.begin; ih < rh.end; ++ih)
    for (int64_t iw = rw.begin; iw < rw.end; ++iw) acc += x[ih * p.w.in + iw];
  y[oh * p.w.out + ow] = static_cast<T>(acc / static_cast<double>(divisor(p, oh, ow)));
}

// Mean pool backward for input (ih, iw) of one plane: sum over the windows containing it of the
// output gradient over the window's divisor. Overwrites gx.
template <class T, class Axis, class Divisor>
SPLAT_HD void mean_pool_grad_input(const PoolPlanes<Axis>& p, const Divisor& divisor, const T* gy,
                                   int64_t ih, int64_t iw, T* gx) {
  const IndexRange rh = p.h.outputs_touching(ih), rw = p.w.outputs_touching(iw);
  double acc = 0;
  for (int64_t oh = rh.begin; oh < rh.end; ++oh)
    for (int64_t ow = rw.begin; ow < rw.end; ++ow)
      acc += static_cast<double>(gy[oh * p.w.out + ow]) / static_cast<double>(divisor(p, oh, ow));
  gx[ih * p.w.in + iw] = static_cast<T>(acc);
}

} // namespace splat::ops
