// CUDA convolution (contract in ops/cuda/conv.h; the CPU kernels of ops/cpu/conv.cpp are the
// oracle). Each launcher first offers the problem to cuDNN (core/cuda/dnn.h: real build only,
// unless SPLAT_DISABLE_CUDNN=1) and otherwise runs the hand-written path, which is what the
// emulator runs and the tests check:
//   forward          im2col of a chunk of images, then y[n, g] = W_g @ col[n, g]
//   backward_input   dcol[n, g] = W_g^T @ dy[n, g], then col2im gathers dcol into dx
//   backward_weight  im2col, then dW_g = sum over n of dy[n, g] @ col[n, g]^T (GEMMs with beta 1
//                    in image order)
// with the GEMMs from core/cuda/blas.h, strided-batched over the groups or the images, whichever
// is more numerous. A pointwise convolution (1x1, stride 1, no padding) multiplies x and dx in
// place, without a column matrix. Bias is added by its own kernel after the products.
//
// Layout: tensors are contiguous NCHW; the column matrix of a chunk of images is (images,
// c_in * kh * kw, ho * wo), row (c, i, j) in that order, so group g's rows are a contiguous
// block of col_rows. Every kernel overwrites its output. col2im is a gather (one thread per dx
// element summing its kh * kw taps in a fixed order), so no float atomics and results do not
// depend on the schedule.
#include "ops/cuda/conv.h"

#include "core/cuda/blas.h"
#include "core/cuda/dnn.h"
#include "ops/cuda/copy.h"
#include "ops/cuda/loop.cuh"

#include <algorithm>
#include <atomic>

namespace splat::ops::cuda {
namespace {

using splat::cuda::Transpose;

// Elements of the column-matrix workspace of one chunk of images (128 MiB of f32): bounds the
// memory of the fallback path whatever the batch.
constexpr int64_t kMaxColElements = int64_t{1} << 25;
std::atomic<int64_t> g_max_col_elements{kMaxColElements};

// col (images, c_in * kh * kw, ho * wo) = im2col of x (images, c_in, h, w).
template <class T>
__global__ void im2col_kernel(ConvGeometry g, int64_t images, const T* x, T* col) {
  const int64_t rows = g.c_in * g.kh * g.kw, plane = g.out_plane(), total = images * rows * plane;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t p = e % plane, row = (e / plane) % rows, m = e / (plane * rows);
    const int64_t j = row % g.kw, i = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
    const int64_t hi = (p / g.wo) * g.sh - g.ph + i * g.dh,
                  wi = (p % g.wo) * g.sw - g.pw + j * g.dw;
    const bool inside = hi >= 0 && hi < g.h && wi >= 0 && wi < g.w;
    col[e] = inside ? x[((m * g.c_in + c) * g.h + hi) * g.w + wi] : T(0);
  }
}

// dx (images, c_in, h, w) = col2im of dcol (images, c_in * kh * kw, ho * wo): each input pixel
// sums the column entries of the output pixels whose windows cover it, taps in (i, j) order.
template <class T>
__global__ void col2im_kernel(ConvGeometry g, int64_t images, const T* dcol, T* dx) {
  const int64_t rows = g.c_in * g.kh * g.kw, plane = g.out_plane(),
                total = images * g.c_in * g.in_plane();
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t wi = e % g.w, hi = (e / g.w) % g.h, c = (e / g.in_plane()) % g.c_in;
    const int64_t m = e / (g.in_plane() * g.c_in);
    const T* base = dcol + (m * rows + c * g.kh * g.kw) * plane;
    T acc = 0;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t th = hi + g.ph - i * g.dh;
      if (th < 0 || th % g.sh != 0 || th / g.sh >= g.ho) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t tw = wi + g.pw - j * g.dw;
        if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.wo) continue;
        acc += base[(i * g.kw + j) * plane + (th / g.sh) * g.wo + tw / g.sw];
      }
    }
    dx[e] = acc;
  }
}

// t (n, channels, plane) += bias[channel].
template <class T>
__global__ void add_bias_kernel(int64_t total, int64_t channels, int64_t plane, const T* bias,
                                T* t) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride)
    t[e] += bias[(e / plane) % channels];
}

template <class T> void add_bias(const Tensor& t, const Tensor& bias) {
  if (!bias.defined() || t.numel() == 0) return;
  const int64_t total = t.numel();
  splat::cuda::launch(add_bias_kernel<T>, {blocks_for(total), kThreads}, total, t.shape()[1],
                      t.shape()[2] * t.shape()[3], bias.data<T>(), t.data<T>());
}

// One operand of the products of every (image, group) pair: matrix (m, g) starts at
// data + m * image_stride + g * group_stride and has leading dimension ld.
template <class T> struct Operand {
  T* data;
  int64_t ld, image_stride, group_stride;
  Operand<T> image(int64_t m) const {
    return {data + m * image_stride, ld, image_stride, group_stride};
  }
  Operand<T> group(int64_t g) const {
    return {data + g * group_stride, ld, image_stride, group_stride};
  }
};

// C(m, g) = op(A(m, g)) @ op(B(m, g)) for every image m < images and group g < groups, as strided
// batched GEMMs over the longer of the two axes, looping over the other.
template <class T>
void gemm_each(Transpose ta, Transpose tb, int64_t rows, int64_t cols, int64_t k,
               Operand<const T> a, Operand<const T> b, Operand<T> c, int64_t images,
               int64_t groups) {
  using splat::cuda::MatrixBatch;
  const bool batch_groups = groups >= images;
  const auto nth = [&](auto op, int64_t i) { return batch_groups ? op.image(i) : op.group(i); };
  const auto batch_stride = [&](auto op) {
    return batch_groups ? op.group_stride : op.image_stride;
  };
  for (int64_t i = 0; i < (batch_groups ? images : groups); ++i) {
    const auto ai = nth(a, i), bi = nth(b, i);
    const auto ci = nth(c, i);
    splat::cuda::gemm_strided_batched(
        ta, tb, rows, cols, k, T(1), MatrixBatch<const T>{ai.data, ai.ld, batch_stride(a)},
        MatrixBatch<const T>{bi.data, bi.ld, batch_stride(b)}, T(0),
        MatrixBatch<T>{ci.data, ci.ld, batch_stride(c)}, batch_groups ? groups : images);
  }
}

// Images per chunk so that the chunk's column matrix stays within kMaxColElements.
int64_t chunk_images(const ConvGeometry& g) {
  const int64_t per_image = std::max<int64_t>(g.c_in * g.kh * g.kw * g.out_plane(), 1);
  return std::clamp<int64_t>(g_max_col_elements.load() / per_image, 1, std::max<int64_t>(g.n, 1));
}

// The column matrix of images [n0, n0 + images) as a GEMM operand (per image and group), built
// by im2col into col, or x itself for a pointwise convolution.
template <class T>
Operand<const T> columns(const ConvGeometry& g, const T* x, int64_t n0, int64_t images,
                         const Tensor& col) {
  const T* xn = x + n0 * g.c_in * g.in_plane();
  if (g.is_pointwise()) return {xn, g.in_plane(), g.c_in * g.in_plane(), g.cin_g() * g.in_plane()};
  splat::cuda::launch(im2col_kernel<T>,
                      {blocks_for(images * g.c_in * g.kh * g.kw * g.out_plane()), kThreads}, g,
                      images, xn, col.data<T>());
  return {col.data<T>(), g.out_plane(), g.c_in * g.kh * g.kw * g.out_plane(),
          g.col_rows() * g.out_plane()};
}

Tensor column_workspace(const ConvGeometry& g, int64_t images, const Tensor& like) {
  if (g.is_pointwise()) return Tensor();
  return Tensor::empty({images, g.c_in * g.kh * g.kw, g.out_plane()}, like.dtype(), like.device());
}

// The weight as operand A of every (image, group) product: (cout_g, col_rows) per group.
template <class T> Operand<const T> weight_operand(const ConvGeometry& g, const Tensor& w) {
  return {w.data<T>(), g.col_rows(), 0, g.cout_g() * g.col_rows()};
}
// y or dy (n, c_out, ho, wo) from image n0 on, (cout_g, ho * wo) per group.
template <class T> Operand<T> output_operand(const ConvGeometry& g, T* y, int64_t n0) {
  return {y + n0 * g.c_out * g.out_plane(), g.out_plane(), g.c_out * g.out_plane(),
          g.cout_g() * g.out_plane()};
}

splat::cuda::dnn::ConvShape dnn_shape(const ConvGeometry& g, DType dtype) {
  return {.dtype = dtype,
          .n = g.n,
          .c_in = g.c_in,
          .h = g.h,
          .w = g.w,
          .c_out = g.c_out,
          .ho = g.ho,
          .wo = g.wo,
          .kh = g.kh,
          .kw = g.kw,
          .stride_h = g.sh,
          .stride_w = g.sw,
          .pad_h = g.ph,
          .pad_w = g.pw,
          .dilation_h = g.dh,
          .dilation_w = g.dw,
          .groups = g.groups};
}

} // namespace

void set_max_column_elements_for_testing(int64_t elements) {
  g_max_col_elements = elements > 0 ? elements : kMaxColElements;
}

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const ConvGeometry& g) {
  if (y.numel() == 0) return;
  splat::cuda::DeviceGuard guard(y.device());
  dispatch<DTypeSet::floating>(x.dtype(), "conv2d", [&]<class T>() {
    if (!splat::cuda::dnn::convolution_forward(dnn_shape(g, x.dtype()), x.data<T>(),
                                               weight.data<T>(), y.data<T>())) {
      const int64_t chunk = chunk_images(g);
      const Tensor col = column_workspace(g, chunk, x);
      for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
        const int64_t images = std::min(chunk, g.n - n0);
        const Operand<const T> cols = columns<T>(g, x.data<T>(), n0, images, col);
        gemm_each<T>(Transpose::no, Transpose::no, g.cout_g(), g.out_plane(), g.col_rows(),
                     weight_operand<T>(g, weight), cols, output_operand<T>(g, y.data<T>(), n0),
                     images, g.groups);
      }
    }
    add_bias<T>(y, bias);
  });
}

void conv2d_backward_input(const Tensor& dx, const Tensor& dy, const Tensor& weight,
                           const Tensor& bias, const ConvGeometry& g) {
  if (dx.numel() == 0) return;
  splat::cuda::DeviceGuard guard(dx.device());
  dispatch<DTypeSet::floating>(dx.dtype(), "conv2d backward", [&]<class T>() {
    if (!splat::cuda::dnn::convolution_backward_data(dnn_shape(g, dx.dtype()), dy.data<T>(),
                                                     weight.data<T>(), dx.data<T>())) {
      const int64_t chunk = chunk_images(g);
      const Tensor dcol = column_workspace(g, chunk, dx);
      for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
        const int64_t images = std::min(chunk, g.n - n0);
        // Pointwise: the products land in dx directly.
        const Operand<T> out =
            g.is_pointwise()
                ? Operand<T>{dx.data<T>() + n0 * g.c_in * g.in_plane(), g.in_plane(),
                             g.c_in * g.in_plane(), g.cin_g() * g.in_plane()}
                : Operand<T>{dcol.data<T>(), g.out_plane(), g.c_in * g.kh * g.kw * g.out_plane(),
                             g.col_rows() * g.out_plane()};
        gemm_each<T>(Transpose::yes, Transpose::no, g.col_rows(), g.out_plane(), g.cout_g(),
                     weight_operand<T>(g, weight), output_operand<const T>(g, dy.data<T>(), n0),
                     out, images, g.groups);
        if (!g.is_pointwise())
          splat::cuda::launch(
              col2im_kernel<T>, {blocks_for(images * g.c_in * g.in_plane()), kThreads}, g, images,
              static_cast<const T*>(dcol.data<T>()), dx.data<T>() + n0 * g.c_in * g.in_plane());
      }
    }
    add_bias<T>(dx, bias);
  });
}

void conv2d_backward_weight(const Tensor& dweight, const Tensor& dy, const Tensor& x,
                            const ConvGeometry& g) {
  if (dweight.numel() == 0) return;
  if (g.n == 0 || g.out_plane() == 0) {
    fill(dweight, 0);
    return;
  }
  splat::cuda::DeviceGuard guard(dweight.device());
  dispatch<DTypeSet::floating>(dweight.dtype(), "conv2d backward", [&]<class T>() {
    if (splat::cuda::dnn::convolution_backward_filter(dnn_shape(g, x.dtype()), x.data<T>(),
                                                      dy.data<T>(), dweight.data<T>()))
      return;
    using splat::cuda::MatrixBatch;
    const int64_t chunk = chunk_images(g), k = g.col_rows(), cout_g = g.cout_g();
    const Tensor col = column_workspace(g, chunk, x);
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t images = std::min(chunk, g.n - n0);
      const Operand<const T> cols = columns<T>(g, x.data<T>(), n0, images, col);
      const Operand<const T> dys = output_operand<const T>(g, dy.data<T>(), n0);
      // Image by image in order, batched over the groups: dW_g (cout_g, k) += dy @ col^T.
      for (int64_t m = 0; m < images; ++m) {
        const T beta = n0 + m == 0 ? T(0) : T(1);
        splat::cuda::gemm_strided_batched(
            Transpose::no, Transpose::yes, cout_g, k, g.out_plane(), T(1),
            MatrixBatch<const T>{dys.image(m).data, dys.ld, dys.group_stride},
            MatrixBatch<const T>{cols.image(m).data, cols.ld, cols.group_stride}, beta,
            MatrixBatch<T>{dweight.data<T>(), k, cout_g * k}, g.groups);
      }
    }
  });
}

} // namespace splat::ops::cuda
