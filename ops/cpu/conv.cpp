// CPU convolution: im2col + OpenBLAS GEMM (contract in ops/cpu/conv.h).
//
// For image n and group g, the im2col matrix has one row per (input channel of the group, kernel
// row, kernel column) and one column per output pixel; then
//   y[n, g] (cout_g, ho*wo)  = W_g (cout_g, col_rows) @ col
//   dcol                     = W_g^T @ dy[n, g], scattered back into dx[n, g] (col2im, +=)
//   dW_g (cout_g, col_rows) += dy[n, g] @ col^T  summed over n.
// The matrix is built one band of output rows at a time into a small per-thread buffer, so it is
// still in the L2 cache when the GEMM reads it (a whole image's matrix is over 10 MB for the early
// ResNeSt layers). A pointwise convolution (1x1, stride 1, no padding) is its own im2col matrix
// and multiplies x in place; when its planes are single pixels (the split-attention fc layers on
// pooled (N, C, 1, 1) inputs) the images become the rows of one GEMM per group.
//
// Threads: forward and backward_weight spread (image, group, band) items over the threads, each
// GEMM single-threaded; backward_input spreads (image, group) items, as the bands of one image
// overlap in dx. With fewer items than threads the items run in turn and OpenBLAS threads each
// GEMM. backward_weight accumulates one partial dW per thread and adds them in thread order, so
// for a fixed thread count results are reproducible.
#include "ops/cpu/conv.h"

#include "ops/cpu/matmul.h"
#include "ops/cpu/parallel.h"

#include <algorithm>
#include <vector>

namespace splat::ops::cpu {
namespace {

// A band of the im2col matrix holds about kBandElements (with f32, a 1 MiB L2 cache) but at least
// kMinBandColumns output pixels: narrower GEMMs re-read the weight too often per column.
constexpr int64_t kBandElements = int64_t{1} << 18;
constexpr int64_t kMinBandColumns = 1024;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// How the output rows of one image are cut into bands.
struct Bands {
  int64_t rows = 1;  // output rows per band (the last may have fewer)
  int64_t count = 1; // bands per image
};

Bands bands_of(const ConvGeometry& g) {
  if (g.is_pointwise() || g.ho == 0) return {std::max<int64_t>(g.ho, 1), 1};
  const int64_t wo = std::max<int64_t>(g.wo, 1);
  const int64_t rows =
      std::clamp<int64_t>(std::max(kBandElements / std::max<int64_t>(g.col_rows() * wo, 1),
                                   ceil_div(kMinBandColumns, wo)),
                          1, g.ho);
  return {rows, ceil_div(g.ho, rows)};
}

// Output columns q (of wo) whose input column q * stride + offset lies in [0, width).
struct Span {
  int64_t lo, hi;
};
Span valid_columns(int64_t offset, int64_t stride, int64_t width, int64_t wo) {
  const int64_t lo = std::min(offset >= 0 ? 0 : ceil_div(-offset, stride), wo);
  const int64_t hi = width - 1 - offset < 0 ? 0 : std::min(wo, (width - 1 - offset) / stride + 1);
  return {lo, std::max(lo, hi)};
}

// Calls visit(row, r, x_row, span, offset) for every row of the band's im2col matrix and every
// output row r0 + r of the band: x_row is the input row that output row reads for this kernel
// tap (nullptr where it lies in the padding), and output column q in span reads
// x_row[q * sw + offset]. Shared by im2col and col2im so both walk the same geometry.
template <class T, class Visit>
void for_each_band_row(const ConvGeometry& g, T* x, int64_t r0, int64_t r1, Visit&& visit) {
  for (int64_t c = 0; c < g.cin_g(); ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t row = (c * g.kh + i) * g.kw + j, offset = j * g.dw - g.pw;
        const Span span = valid_columns(offset, g.sw, g.w, g.wo);
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t hi = r * g.sh - g.ph + i * g.dh;
          T* x_row = hi >= 0 && hi < g.h ? x + (c * g.h + hi) * g.w : nullptr;
          visit(row, r - r0, x_row, span, offset);
        }
      }
}

// col (col_rows, (r1 - r0) * wo) = the im2col matrix of output rows [r0, r1); x: (cin_g, h, w).
template <class T> void im2col(const ConvGeometry& g, const T* x, int64_t r0, int64_t r1, T* col) {
  const int64_t cols = (r1 - r0) * g.wo;
  for_each_band_row(g, x, r0, r1, [&](int64_t row, int64_t r, const T* x_row, Span s, int64_t off) {
    T* dst = col + row * cols + r * g.wo;
    if (x_row == nullptr) {
      std::fill(dst, dst + g.wo, T(0));
      return;
    }
    std::fill(dst, dst + s.lo, T(0));
    if (g.sw == 1)
      std::copy(x_row + (s.lo + off), x_row + (s.hi + off), dst + s.lo);
    else
      for (int64_t q = s.lo; q < s.hi; ++q) dst[q] = x_row[q * g.sw + off];
    std::fill(dst + s.hi, dst + g.wo, T(0));
  });
}

// dx (cin_g, h, w) += the im2col matrix col of output rows [r0, r1) scattered back.
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, int64_t r0, int64_t r1, T* dx) {
  const int64_t cols = (r1 - r0) * g.wo;
  for_each_band_row(g, dx, r0, r1, [&](int64_t row, int64_t r, T* x_row, Span s, int64_t off) {
    if (x_row == nullptr) return;
    const T* src = col + row * cols + r * g.wo;
    for (int64_t q = s.lo; q < s.hi; ++q) x_row[q * g.sw + off] += src[q];
  });
}

// rows (channels, plane) += bias[c] on row c.
template <class T> void add_bias(T* rows, int64_t channels, int64_t plane, const T* bias) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t p = 0; p < plane; ++p) rows[c * plane + p] += bias[c];
}

// Runs chunk(begin, end) over [0, items): in parallel when every thread gets an item, else on
// the calling thread, where each GEMM is threaded by OpenBLAS instead.
template <class F> void for_items(int64_t items, int64_t work_per_item, F&& chunk) {
  if (items >= omp_get_max_threads())
    parallel_for(items, work_per_item, chunk);
  else
    chunk(int64_t{0}, items);
}

template <class T> const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Pointwise convolution of single-pixel planes: per group, the images are the rows of a GEMM.
//   y[:, g] (n, cout_g) = x[:, g] (n, cin_g) @ W_g^T      (ld c_out, c_in)
template <class T> void pixel_forward(const ConvGeometry& g, T* y, const T* x, const T* w) {
  for (int64_t gi = 0; gi < g.groups; ++gi)
    gemm(false, true, g.n, g.cout_g(), g.cin_g(), x + gi * g.cin_g(), g.c_in,
         w + gi * g.cout_g() * g.cin_g(), g.cin_g(), T(0), y + gi * g.cout_g(), g.c_out);
}
//   dx[:, g] (n, cin_g) = dy[:, g] (n, cout_g) @ W_g
template <class T>
void pixel_backward_input(const ConvGeometry& g, T* dx, const T* dy, const T* w) {
  for (int64_t gi = 0; gi < g.groups; ++gi)
    gemm(false, false, g.n, g.cin_g(), g.cout_g(), dy + gi * g.cout_g(), g.c_out,
         w + gi * g.cout_g() * g.cin_g(), g.cin_g(), T(0), dx + gi * g.cin_g(), g.c_in);
}
//   dW_g (cout_g, cin_g) = dy[:, g]^T @ x[:, g]
template <class T>
void pixel_backward_weight(const ConvGeometry& g, T* dw, const T* dy, const T* x) {
  for (int64_t gi = 0; gi < g.groups; ++gi)
    gemm(true, false, g.cout_g(), g.cin_g(), g.n, dy + gi * g.cout_g(), g.c_out, x + gi * g.cin_g(),
         g.c_in, T(0), dw + gi * g.cout_g() * g.cin_g(), g.cin_g());
}

bool single_pixel(const ConvGeometry& g) { return g.is_pointwise() && g.in_plane() == 1; }

// Item index -> (image, group, band).
struct Item {
  int64_t n, g, r0, r1;
};
Item item_of(int64_t i, const ConvGeometry& g, const Bands& b) {
  const int64_t band = i % b.count, ng = i / b.count;
  const int64_t r0 = band * b.rows;
  return {ng / g.groups, ng % g.groups, r0, std::min(g.ho, r0 + b.rows)};
}
// Offset of an item's first output (or output gradient) element.
int64_t output_offset(const ConvGeometry& g, const Item& it) {
  return (it.n * g.c_out + it.g * g.cout_g()) * g.out_plane() + it.r0 * g.wo;
}

// A per-thread buffer for one band's im2col matrix (none for pointwise convolutions).
template <class T> std::vector<T> column_buffer(const ConvGeometry& g, const Bands& b) {
  return std::vector<T>(g.is_pointwise() ? 0 : static_cast<size_t>(g.col_rows() * b.rows * g.wo));
}

// An item's im2col matrix (col_rows, cols) as a GEMM operand with row stride ld: x itself for a
// pointwise convolution, else built in buf.
template <class T> struct Columns {
  const T* data;
  int64_t ld, cols;
};
template <class T>
Columns<T> band_columns(const ConvGeometry& g, const T* x, const Item& it, std::vector<T>& buf) {
  const T* x_ng = x + (it.n * g.c_in + it.g * g.cin_g()) * g.in_plane();
  const int64_t cols = (it.r1 - it.r0) * g.wo;
  if (g.is_pointwise()) return {x_ng + it.r0 * g.wo, g.in_plane(), cols};
  im2col(g, x_ng, it.r0, it.r1, buf.data());
  return {buf.data(), cols, cols};
}

} // namespace

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const ConvGeometry& g) {
  if (y.numel() == 0) return;
  dispatch<DTypeSet::floating>(x.dtype(), "conv2d", [&]<class T>() {
    T* py = y.data<T>();
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pb = data_or_null<T>(bias);
    if (g.col_rows() == 0) {
      std::fill(py, py + y.numel(), T(0));
    } else if (single_pixel(g)) {
      pixel_forward(g, py, px, pw);
    } else {
      const Bands b = bands_of(g);
      const int64_t k = g.col_rows(), cout_g = g.cout_g();
      for_items(g.n * g.groups * b.count, cout_g * k * b.rows * g.wo,
                [&](int64_t begin, int64_t end) {
                  std::vector<T> buf = column_buffer<T>(g, b);
                  for (int64_t i = begin; i < end; ++i) {
                    const Item it = item_of(i, g, b);
                    const Columns<T> c = band_columns(g, px, it, buf);
                    gemm(false, false, cout_g, c.cols, k, pw + it.g * cout_g * k, k, c.data, c.ld,
                         T(0), py + output_offset(g, it), g.out_plane());
                  }
                });
    }
    if (pb != nullptr)
      parallel_for(g.n, g.c_out * g.out_plane(), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n)
          add_bias(py + n * g.c_out * g.out_plane(), g.c_out, g.out_plane(), pb);
      });
  });
}

void conv2d_backward_input(const Tensor& dx, const Tensor& dy, const Tensor& weight,
                           const Tensor& bias, const ConvGeometry& g) {
  if (dx.numel() == 0) return;
  dispatch<DTypeSet::floating>(dx.dtype(), "conv2d backward", [&]<class T>() {
    T* pdx = dx.data<T>();
    const T* pdy = dy.data<T>();
    const T* pw = weight.data<T>();
    const T* pb = data_or_null<T>(bias);
    if (g.cout_g() == 0 || g.out_plane() == 0) {
      std::fill(pdx, pdx + dx.numel(), T(0));
    } else if (single_pixel(g)) {
      pixel_backward_input(g, pdx, pdy, pw);
    } else {
      const Bands b = bands_of(g);
      const int64_t k = g.col_rows(), cout_g = g.cout_g();
      for_items(g.n * g.groups, cout_g * k * g.out_plane(), [&](int64_t begin, int64_t end) {
        std::vector<T> col = column_buffer<T>(g, b);
        for (int64_t i = begin; i < end; ++i) {
          const int64_t n = i / g.groups, gi = i % g.groups;
          T* dx_ng = pdx + (n * g.c_in + gi * g.cin_g()) * g.in_plane();
          const T* dy_ng = pdy + (n * g.c_out + gi * cout_g) * g.out_plane();
          const T* w_g = pw + gi * cout_g * k;
          if (g.is_pointwise()) {
            gemm(true, false, k, g.out_plane(), cout_g, w_g, k, dy_ng, g.out_plane(), T(0), dx_ng,
                 g.in_plane());
            continue;
          }
          std::fill(dx_ng, dx_ng + g.cin_g() * g.in_plane(), T(0));
          for (int64_t r0 = 0; r0 < g.ho; r0 += b.rows) {
            const int64_t r1 = std::min(g.ho, r0 + b.rows), cols = (r1 - r0) * g.wo;
            gemm(true, false, k, cols, cout_g, w_g, k, dy_ng + r0 * g.wo, g.out_plane(), T(0),
                 col.data(), cols);
            col2im_add(g, col.data(), r0, r1, dx_ng);
          }
        }
      });
    }
    if (pb != nullptr)
      parallel_for(g.n, g.c_in * g.in_plane(), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n)
          add_bias(pdx + n * g.c_in * g.in_plane(), g.c_in, g.in_plane(), pb);
      });
  });
}

void conv2d_backward_weight(const Tensor& dweight, const Tensor& dy, const Tensor& x,
                            const ConvGeometry& g) {
  if (dweight.numel() == 0) return;
  dispatch<DTypeSet::floating>(dweight.dtype(), "conv2d backward", [&]<class T>() {
    T* pdw = dweight.data<T>();
    const T* pdy = dy.data<T>();
    const T* px = x.data<T>();
    const int64_t numel = dweight.numel();
    if (g.n == 0 || g.out_plane() == 0) {
      std::fill(pdw, pdw + numel, T(0));
      return;
    }
    if (single_pixel(g)) {
      pixel_backward_weight(g, pdw, pdy, px);
      return;
    }
    const Bands b = bands_of(g);
    const int64_t k = g.col_rows(), cout_g = g.cout_g(), items = g.n * g.groups * b.count;
    // Partial sums of items [begin, end) into dw (beta 1 accumulates).
    auto accumulate = [&](int64_t begin, int64_t end, T* dw) {
      std::vector<T> buf = column_buffer<T>(g, b);
      for (int64_t i = begin; i < end; ++i) {
        const Item it = item_of(i, g, b);
        const Columns<T> c = band_columns(g, px, it, buf);
        gemm(false, true, cout_g, k, c.cols, pdy + output_offset(g, it), g.out_plane(), c.data,
             c.ld, T(1), dw + it.g * cout_g * k, k);
      }
    };
    std::fill(pdw, pdw + numel, T(0));
    const int64_t threads = omp_get_max_threads();
    if (items < threads || threads == 1) {
      accumulate(0, items, pdw);
      return;
    }
    // One contiguous run of items per thread, each into its own partial (thread 0 into dw).
    std::vector<std::vector<T>> partial(static_cast<size_t>(threads - 1));
    const int64_t per = ceil_div(items, threads);
    parallel_for(threads, per * cout_g * k * b.rows * g.wo, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        T* dw = pdw;
        if (t > 0) {
          partial[static_cast<size_t>(t - 1)].assign(static_cast<size_t>(numel), T(0));
          dw = partial[static_cast<size_t>(t - 1)].data();
        }
        accumulate(std::min(items, t * per), std::min(items, (t + 1) * per), dw);
      }
    });
    parallel_for(numel, threads, [&](int64_t begin, int64_t end) {
      for (const std::vector<T>& p : partial)
        for (int64_t e = begin; e < end; ++e) pdw[e] += p[static_cast<size_t>(e)];
    });
  });
}

} // namespace splat::ops::cpu
