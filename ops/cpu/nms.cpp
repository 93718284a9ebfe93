// CPU NMS: the plain greedy loop. Each kept box marks the later boxes it suppresses; a box is
// visited only if no kept box before it suppressed it. Serial: the decisions form a chain, and
// splitting each kept box's marking over OpenMP threads measured slower (a parallel region per
// kept box costs more than the marking).
#include "ops/cpu/nms.h"

#include "ops/box_fns.h"

#include <vector>

namespace splat::ops::cpu {

int64_t nms_sorted(const Tensor& keep, const Tensor& boxes, const Tensor& groups,
                   double iou_threshold, int64_t max_kept) {
  return dispatch<DTypeSet::floating>(boxes.dtype(), "nms", [&]<class T>() {
    const int64_t n = boxes.size(0);
    const T* pb = boxes.data<T>();
    const int64_t* pg = groups.defined() ? groups.data<int64_t>() : nullptr;
    int64_t* pk = keep.data<int64_t>();
    std::vector<double> area(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) area[static_cast<size_t>(i)] = box::area(pb + 4 * i);
    std::vector<char> suppressed(static_cast<size_t>(n), 0);
    int64_t kept = 0;
    for (int64_t i = 0; i < n && kept != max_kept; ++i) {
      if (suppressed[static_cast<size_t>(i)]) continue;
      pk[kept++] = i;
      for (int64_t j = i + 1; j < n; ++j) {
        if (suppressed[static_cast<size_t>(j)] || (pg && pg[i] != pg[j])) continue;
        if (box::iou_above(pb + 4 * i, area[static_cast<size_t>(i)], pb + 4 * j,
                           area[static_cast<size_t>(j)], iou_threshold))
          suppressed[static_cast<size_t>(j)] = 1;
      }
    }
    return kept;
  });
}

} // namespace splat::ops::cpu
