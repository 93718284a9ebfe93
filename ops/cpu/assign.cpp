// CPU MaxIoU assignment: one box per loop iteration, each walking its column of overlaps.
#include "ops/cpu/assign.h"

#include "ops/box_fns.h"
#include "ops/cpu/parallel.h"

namespace splat::ops::cpu {

void max_iou_assign(const Tensor& gt_inds, const Tensor& max_overlaps, const Tensor& labels,
                    const Tensor& overlaps, const Tensor& gt_max, const Tensor& gt_argmax,
                    const Tensor& gt_labels, const MaxIouAssigner& cfg) {
  dispatch<DTypeSet::floating>(overlaps.dtype(), "max_iou_assign", [&]<class T>() {
    const auto p = box::assign_params<T>(cfg);
    const int64_t g = overlaps.size(0), n = overlaps.size(1);
    const T* po = overlaps.data<T>();
    const T* pmax = gt_max.data<T>();
    const int64_t* parg = gt_argmax.data<int64_t>();
    const int64_t* pgl = gt_labels.defined() ? gt_labels.data<int64_t>() : nullptr;
    int64_t* pinds = gt_inds.data<int64_t>();
    int64_t* plab = labels.defined() ? labels.data<int64_t>() : nullptr;
    T* pbest = max_overlaps.data<T>();
    parallel_for(n, 2 * g, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t r = box::assign_box(po, g, n, i, pmax, parg, p, pbest[i]);
        pinds[i] = r;
        if (plab) plab[i] = r > 0 ? pgl[r - 1] : -1;
      }
    });
  });
}

} // namespace splat::ops::cpu
