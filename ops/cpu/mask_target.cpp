// CPU paste_masks (contract in ops/cpu/mask_target.h): parallel over the image rows of every
// mask, each pixel independent.
#include "ops/cpu/mask_target.h"

#include "ops/cpu/parallel.h"
#include "ops/mask_target_fns.h"

namespace splat::ops::cpu {

void paste_masks(const Tensor& out, const Tensor& masks, const Tensor& boxes, double threshold) {
  const int64_t p = out.shape()[0], h = out.shape()[1], w = out.shape()[2], m = masks.shape()[1];
  dispatch<DTypeSet::floating>(masks.dtype(), "paste_masks", [&]<class T>() {
    const T *pm = masks.data<T>(), *pb = boxes.data<T>();
    bool* po = out.data<bool>();
    parallel_for(p * h, w * 8, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        for (int64_t x = 0; x < w; ++x)
          po[row * w + x] = mask_target_fns::paste_pixel(pm, pb, m, row / h, row % h, x,
                                                         static_cast<T>(threshold));
    });
  });
}

} // namespace splat::ops::cpu
