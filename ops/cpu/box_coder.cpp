// CPU box coder: one box (4 values) per loop iteration; elementwise, so results do not depend
// on the thread count.
#include "ops/cpu/box_coder.h"

#include "ops/box_fns.h"
#include "ops/cpu/parallel.h"

namespace splat::ops::cpu {

void bbox_encode(const Tensor& out, const Tensor& proposals, const Tensor& gt,
                 const DeltaXYWHBBoxCoder& coder) {
  dispatch<DTypeSet::floating>(out.dtype(), "bbox_encode", [&]<class T>() {
    const auto c = box::coder_params<T>(coder, std::nullopt);
    const T* pp = proposals.data<T>();
    const T* pg = gt.data<T>();
    T* po = out.data<T>();
    parallel_for(out.size(0), 64, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) box::encode(pp + 4 * n, pg + 4 * n, c, po + 4 * n);
    });
  });
}

void bbox_decode(const Tensor& out, const Tensor& rois, const Tensor& deltas,
                 const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape) {
  dispatch<DTypeSet::floating>(out.dtype(), "bbox_decode", [&]<class T>() {
    const auto c = box::coder_params<T>(coder, max_shape);
    const T* pr = rois.data<T>();
    const T* pd = deltas.data<T>();
    T* po = out.data<T>();
    const int64_t classes = deltas.size(1) / 4;
    parallel_for(out.numel() / 4, 64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        box::decode(pr + 4 * (i / classes), pd + 4 * i, c, po + 4 * i);
    });
  });
}

} // namespace splat::ops::cpu
