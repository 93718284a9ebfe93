// CUDA paste_masks (contract in ops/cuda/mask_target.h): one thread per output pixel in a
// grid-stride loop; the formula is ops/mask_target_fns.h, shared with the CPU oracle.
#include "ops/cuda/mask_target.h"

#include "ops/cuda/loop.cuh"
#include "ops/mask_target_fns.h"

namespace splat::ops::cuda {
namespace {

template <class T>
__global__ void paste_masks_kernel(int64_t total, int64_t h, int64_t w, int64_t m, const T* masks,
                                   const T* boxes, T threshold, bool* out) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t x = e % w, row = e / w;
    out[e] = mask_target_fns::paste_pixel(masks, boxes, m, row / h, row % h, x, threshold);
  }
}

} // namespace

void paste_masks(const Tensor& out, const Tensor& masks, const Tensor& boxes, double threshold) {
  const int64_t total = out.numel();
  if (total == 0) return;
  splat::cuda::DeviceGuard guard(out.device());
  dispatch<DTypeSet::floating>(masks.dtype(), "paste_masks", [&]<class T>() {
    splat::cuda::launch(paste_masks_kernel<T>, {blocks_for(total), kThreads}, total, out.shape()[1],
                        out.shape()[2], masks.shape()[1], masks.data<T>(), boxes.data<T>(),
                        static_cast<T>(threshold), out.data<bool>());
  });
}

} // namespace splat::ops::cuda
