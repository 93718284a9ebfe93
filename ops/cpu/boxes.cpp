// CPU box overlaps: one row of the (N, M) result per loop iteration, each row's first box area
// computed once; no reduction, so results do not depend on the thread count.
#include "ops/cpu/boxes.h"

#include "ops/box_fns.h"
#include "ops/cpu/parallel.h"

namespace splat::ops::cpu {

void box_iou(const Tensor& out, const Tensor& a, const Tensor& b, IouMode mode, double eps) {
  dispatch<DTypeSet::floating>(a.dtype(), "box_iou", [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const int64_t m = b.size(0);
    parallel_for(a.size(0), m * 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* bi = pa + 4 * i;
        const double area_i = box::area(bi);
        for (int64_t j = 0; j < m; ++j) {
          const T* bj = pb + 4 * j;
          po[i * m + j] =
              static_cast<T>(box::pair_overlap(bi, area_i, bj, box::area(bj), mode, eps));
        }
      }
    });
  });
}

} // namespace splat::ops::cpu
