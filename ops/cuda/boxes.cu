// CUDA box overlaps (contract in ops/cpu/boxes.h). One thread per element of the (N, M) result,
// grid-stride; consecutive threads take consecutive boxes of b, so a warp reads one box of a
// (broadcast) and 32 neighbouring boxes of b. Overwrites out; f32 and f64.
#include "ops/cuda/boxes.h"

#include "ops/box_fns.h"
#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

template <class T>
__global__ void box_iou_kernel(int64_t n, int64_t m, const T* a, const T* b, T* out, IouMode mode,
                               double eps) {
  const int64_t total = n * m, stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const T* bi = a + 4 * (e / m);
    const T* bj = b + 4 * (e % m);
    out[e] = static_cast<T>(box::pair_overlap(bi, box::area(bi), bj, box::area(bj), mode, eps));
  }
}

} // namespace

void box_iou(const Tensor& out, const Tensor& a, const Tensor& b, IouMode mode, double eps) {
  const int64_t n = a.size(0), m = b.size(0);
  if (n * m == 0) return;
  dispatch<DTypeSet::floating>(a.dtype(), "box_iou", [&]<class T>() {
    splat::cuda::DeviceGuard guard(out.device());
    splat::cuda::launch(box_iou_kernel<T>, {blocks_for(n * m), kThreads}, n, m, a.data<T>(),
                        b.data<T>(), out.data<T>(), mode, eps);
  });
}

} // namespace splat::ops::cuda
