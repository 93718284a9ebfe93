// CUDA RoIAlign (contract in ops/cuda/roi_align.h; the sampling rules come from
// ops/roi_align_fns.h, shared with the CPU oracle). One thread per output element (RoI, channel,
// bin) in a grid-stride loop, forward and backward.
//
// The backward is deterministic: float atomicAdd would sum each feature pixel's contributions in
// whatever order the threads run, so two runs (and a resumed run) would differ in the last bits,
// which training-mode BN amplifies within steps. Instead the contributions are added as 64-bit
// fixed-point integers, whose sum does not depend on the order: first one block sums |dout|,
// which bounds every pixel's total (a bin hands out dout / count times bilinear weights that sum
// to at most 1 per sample), and picks the power of two `scale` that puts that bound just under
// 2^62; each contribution is rounded to llrint(v * scale) and atomically added; a last pass
// divides by scale. Each rounding errs by at most 2^-63 of the bound, far below float and double
// rounding of the gradient's own values unless they are 10^-15 of the gradient's whole mass.
#include "ops/cuda/roi_align.h"

#include "ops/cuda/loop.cuh"

#include <cfloat>

namespace splat::ops::cuda {
namespace {

using namespace roi_align_fns;

// Output element e = ((roi * C + channel) * pooled_h + ph) * pooled_w + pw: its RoI, the offset
// of the feature plane it reads (or whose gradient it writes), and its bin.
struct Element {
  int64_t roi, plane, ph, pw;
};

template <class T> __device__ Element element_of(const Geometry& g, const T* rois, int64_t e) {
  const int64_t bins = g.pooled_h * g.pooled_w, bin = e % bins, i = e / bins;
  const int64_t roi = i / g.channels, image = static_cast<int64_t>(rois[roi * 5]);
  return {roi, (image * g.channels + i % g.channels) * g.height * g.width, bin / g.pooled_w,
          bin % g.pooled_w};
}

template <class T>
__global__ void roi_align_kernel(Geometry g, int64_t total, const T* features, const T* rois,
                                 T* out) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const Element el = element_of(g, rois, e);
    out[e] = pool_bin(g, roi_bins(g, rois + el.roi * 5), features + el.plane, el.ph, el.pw);
  }
}

// One block: scale = 2^(62 - e) where sum |dout| = m * 2^e, m in [0.5, 1) (1 for a zero sum). A
// non-finite sum stores 0, which the last pass turns into NaN gradients.
template <class T> __global__ void fixed_point_scale_kernel(int64_t n, const T* dout, double* scale) {
  SPLAT_SHARED(double, partial, kThreads);
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += fabs(static_cast<double>(dout[i]));
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    int exponent = 0;
    frexp(partial[0], &exponent);
    // (fabs(x) <= DBL_MAX is isfinite(x), written so that host and device compilers both take it.)
    *scale = fabs(partial[0]) <= DBL_MAX ? ldexp(1.0, 62 - exponent) : 0.0;
  }
}

struct FixedPointAdd {
  unsigned long long* plane;
  double scale;
  template <class T> __device__ void operator()(int64_t off, T v) const {
    // Two's complement: adding the unsigned image of a negative value subtracts it.
    atomicAdd(plane + off, static_cast<unsigned long long>(llrint(static_cast<double>(v) * scale)));
  }
};

template <class T>
__global__ void roi_align_backward_kernel(Geometry g, int64_t total, const T* dout, const T* rois,
                                          const double* scale, unsigned long long* acc) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const Element el = element_of(g, rois, e);
    scatter_bin(g, roi_bins(g, rois + el.roi * 5), dout[e], el.ph, el.pw,
                FixedPointAdd{acc + el.plane, *scale});
  }
}

template <class T>
__global__ void from_fixed_point_kernel(int64_t n, const unsigned long long* acc, const double* scale,
                                        T* dfeatures) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    dfeatures[i] = *scale == 0 ? static_cast<T>(NAN)
                               : static_cast<T>(static_cast<double>(static_cast<long long>(acc[i])) / *scale);
}

} // namespace

void roi_align(const Tensor& out, const Tensor& features, const Tensor& rois,
               const RoiAlignGeometry& g) {
  const int64_t total = out.numel();
  if (total == 0) return;
  splat::cuda::DeviceGuard guard(out.device());
  dispatch<DTypeSet::floating>(features.dtype(), "roi_align", [&]<class T>() {
    splat::cuda::launch(roi_align_kernel<T>, {blocks_for(total), kThreads}, g, total,
                        features.data<T>(), rois.data<T>(), out.data<T>());
  });
}

void roi_align_backward(const Tensor& dfeatures, const Tensor& dout, const Tensor& rois,
                        const RoiAlignGeometry& g) {
  splat::cuda::DeviceGuard guard(dfeatures.device());
  const int64_t total = dout.numel(), n = dfeatures.numel();
  if (total == 0) {
    splat::cuda::memset(dfeatures.raw_data(), 0, static_cast<size_t>(n) * dfeatures.itemsize());
    return;
  }
  const Tensor acc = Tensor::empty({n}, DType::i64, dfeatures.device());
  const Tensor scale = Tensor::empty({1}, DType::f64, dfeatures.device());
  splat::cuda::memset(acc.raw_data(), 0, static_cast<size_t>(n) * acc.itemsize());
  auto* acc_bits = static_cast<unsigned long long*>(acc.raw_data());
  dispatch<DTypeSet::floating>(dfeatures.dtype(), "roi_align_backward", [&]<class T>() {
    splat::cuda::launch(fixed_point_scale_kernel<T>, {1, kThreads}, total, dout.data<T>(), scale.data<double>());
    splat::cuda::launch(roi_align_backward_kernel<T>, {blocks_for(total), kThreads}, g, total,
                        dout.data<T>(), rois.data<T>(), scale.data<double>(), acc_bits);
    splat::cuda::launch(from_fixed_point_kernel<T>, {blocks_for(n), kThreads}, n, acc_bits,
                        scale.data<double>(), dfeatures.data<T>());
  });
}

} // namespace splat::ops::cuda
