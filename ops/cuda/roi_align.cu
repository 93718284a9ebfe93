// CUDA RoIAlign (contract in ops/cuda/roi_align.h; the sampling rules come from
// ops/roi_align_fns.h, shared with the CPU oracle). One thread per output element (RoI, channel,
// bin) in a grid-stride loop, forward and backward; the backward scatters its samples' weights
// into dfeatures with atomicAdd (float and double), after a memset to zero.
#include "ops/cuda/roi_align.h"

#include "ops/cuda/loop.cuh"

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

template <class T> struct AtomicAdd {
  T* plane;
  __device__ void operator()(int64_t off, T v) const { atomicAdd(plane + off, v); }
};

template <class T>
__global__ void roi_align_backward_kernel(Geometry g, int64_t total, const T* dout, const T* rois,
                                          T* dfeatures) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const Element el = element_of(g, rois, e);
    scatter_bin(g, roi_bins(g, rois + el.roi * 5), dout[e], el.ph, el.pw,
                AtomicAdd<T>{dfeatures + el.plane});
  }
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
  splat::cuda::memset(dfeatures.raw_data(), 0,
                      static_cast<size_t>(dfeatures.numel()) * dfeatures.itemsize());
  const int64_t total = dout.numel();
  if (total == 0) return;
  dispatch<DTypeSet::floating>(dfeatures.dtype(), "roi_align_backward", [&]<class T>() {
    splat::cuda::launch(roi_align_backward_kernel<T>, {blocks_for(total), kThreads}, g, total,
                        dout.data<T>(), rois.data<T>(), dfeatures.data<T>());
  });
}

} // namespace splat::ops::cuda
