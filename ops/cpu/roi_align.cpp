// CPU RoIAlign (contract in ops/cpu/roi_align.h). Forward: parallel over (RoI, channel) planes
// of the output. Backward: parallel over channels; each channel walks the RoIs in order, so
// every feature element receives its contributions in one fixed order whatever the thread count.
#include "ops/cpu/roi_align.h"

#include "ops/cpu/parallel.h"

#include <algorithm>

namespace splat::ops::cpu {

using namespace roi_align_fns;

void roi_align(const Tensor& out, const Tensor& features, const Tensor& rois,
               const RoiAlignGeometry& g) {
  const int64_t k = rois.shape()[0], bins = g.pooled_h * g.pooled_w, plane = g.height * g.width;
  dispatch<DTypeSet::floating>(features.dtype(), "roi_align", [&]<class T>() {
    const T *pf = features.data<T>(), *pr = rois.data<T>();
    T* po = out.data<T>();
    parallel_for(k * g.channels, bins * 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* roi = pr + (i / g.channels) * 5;
        const RoiBins<T> b = roi_bins(g, roi);
        const T* fp = pf + (static_cast<int64_t>(roi[0]) * g.channels + i % g.channels) * plane;
        for (int64_t ph = 0; ph < g.pooled_h; ++ph)
          for (int64_t pw = 0; pw < g.pooled_w; ++pw)
            po[i * bins + ph * g.pooled_w + pw] = pool_bin(g, b, fp, ph, pw);
      }
    });
  });
}

void roi_align_backward(const Tensor& dfeatures, const Tensor& dout, const Tensor& rois,
                        const RoiAlignGeometry& g) {
  const int64_t k = rois.shape()[0], bins = g.pooled_h * g.pooled_w, plane = g.height * g.width;
  dispatch<DTypeSet::floating>(dfeatures.dtype(), "roi_align_backward", [&]<class T>() {
    const T *pg = dout.data<T>(), *pr = rois.data<T>();
    T* pd = dfeatures.data<T>();
    std::fill(pd, pd + dfeatures.numel(), T(0));
    parallel_for(g.channels, k * bins * 16, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c)
        for (int64_t r = 0; r < k; ++r) {
          const T* roi = pr + r * 5;
          const RoiBins<T> b = roi_bins(g, roi);
          T* dp = pd + (static_cast<int64_t>(roi[0]) * g.channels + c) * plane;
          const T* go = pg + (r * g.channels + c) * bins;
          for (int64_t ph = 0; ph < g.pooled_h; ++ph)
            for (int64_t pw = 0; pw < g.pooled_w; ++pw)
              scatter_bin(g, b, go[ph * g.pooled_w + pw], ph, pw,
                          [dp](int64_t off, T v) { dp[off] += v; });
        }
    });
  });
}

} // namespace splat::ops::cpu
