// CUDA grid anchors (contract in ops/cpu/anchors.h): one thread per output coordinate,
// grid-stride, so a warp writes 32 consecutive values. Overwrites out; f32 and f64.
#include "ops/cuda/anchors.h"

#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

template <class T>
__global__ void grid_anchors_kernel(int64_t total, int64_t num_base, int64_t width, int64_t stride,
                                    const T* base, T* out) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const int64_t k = e % 4, anchor = e / 4, a = anchor % num_base, cell = anchor / num_base;
    const int64_t shift = (k % 2 == 0 ? cell % width : cell / width) * stride;
    out[e] = base[a * 4 + k] + static_cast<T>(shift);
  }
}

} // namespace

void grid_anchors(const Tensor& out, const Tensor& base, SizeHW feature, int64_t stride) {
  const int64_t total = out.numel();
  if (total == 0) return;
  dispatch<DTypeSet::floating>(out.dtype(), "grid_anchors", [&]<class T>() {
    splat::cuda::DeviceGuard guard(out.device());
    splat::cuda::launch(grid_anchors_kernel<T>, {blocks_for(total), kThreads}, total, base.size(0),
                        feature.width, stride, base.data<T>(), out.data<T>());
  });
}

} // namespace splat::ops::cuda
