// CUDA MaxIoU assignment (contract in ops/cpu/assign.h): one thread per box, grid-stride; a
// warp reads 32 neighbouring columns of each overlaps row, coalesced. Overwrites its outputs.
#include "ops/cuda/assign.h"

#include "ops/box_fns.h"
#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

template <class T>
__global__ void assign_kernel(int64_t num_gts, int64_t num_boxes, const T* overlaps,
                              const T* gt_max, const int64_t* gt_argmax, const int64_t* gt_labels,
                              box::AssignParams<T> p, int64_t* gt_inds, T* max_overlaps,
                              int64_t* labels) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < num_boxes;
       i += step) {
    const int64_t r =
        box::assign_box(overlaps, num_gts, num_boxes, i, gt_max, gt_argmax, p, max_overlaps[i]);
    gt_inds[i] = r;
    if (labels) labels[i] = r > 0 ? gt_labels[r - 1] : -1;
  }
}

} // namespace

void max_iou_assign(const Tensor& gt_inds, const Tensor& max_overlaps, const Tensor& labels,
                    const Tensor& overlaps, const Tensor& gt_max, const Tensor& gt_argmax,
                    const Tensor& gt_labels, const MaxIouAssigner& cfg) {
  const int64_t g = overlaps.size(0), n = overlaps.size(1);
  if (n == 0) return;
  dispatch<DTypeSet::floating>(overlaps.dtype(), "max_iou_assign", [&]<class T>() {
    splat::cuda::DeviceGuard guard(overlaps.device());
    splat::cuda::launch(assign_kernel<T>, {blocks_for(n), kThreads}, g, n, overlaps.data<T>(),
                        gt_max.data<T>(), gt_argmax.data<int64_t>(),
                        gt_labels.defined() ? gt_labels.data<int64_t>() : nullptr,
                        box::assign_params<T>(cfg), gt_inds.data<int64_t>(), max_overlaps.data<T>(),
                        labels.defined() ? labels.data<int64_t>() : nullptr);
  });
}

} // namespace splat::ops::cuda
