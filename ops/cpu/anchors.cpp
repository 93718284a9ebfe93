// CPU grid anchors: one feature-map row per loop iteration.
#include "ops/cpu/anchors.h"

#include "ops/cpu/parallel.h"

namespace splat::ops::cpu {

void grid_anchors(const Tensor& out, const Tensor& base, SizeHW feature, int64_t stride) {
  dispatch<DTypeSet::floating>(out.dtype(), "grid_anchors", [&]<class T>() {
    const T* pb = base.data<T>();
    T* po = out.data<T>();
    const int64_t na = base.size(0), w = feature.width;
    parallel_for(feature.height, w * na * 4, [&](int64_t begin, int64_t end) {
      for (int64_t y = begin; y < end; ++y)
        for (int64_t x = 0; x < w; ++x)
          for (int64_t a = 0; a < na; ++a) {
            // MMDetection casts the integer shifts to the anchors' dtype before adding.
            const T shift[4] = {static_cast<T>(x * stride), static_cast<T>(y * stride),
                                static_cast<T>(x * stride), static_cast<T>(y * stride)};
            T* o = po + ((y * w + x) * na + a) * 4;
            for (int k = 0; k < 4; ++k) o[k] = pb[a * 4 + k] + shift[k];
          }
    });
  });
}

} // namespace splat::ops::cpu
