// RoIAlign and the multi-level extractor: argument checks, device dispatch, the backward node
// (ops/{cpu,cuda}/roi_align kernels), and the level mapping (on the host: it decides how RoIs are
// grouped, which the host needs anyway).
#include "ops/roi_align.h"

#include "core/cuda/host_sync.h"
#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/roi_align.h"
#include "ops/cuda/roi_align.h"
#include "ops/device_dispatch.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/view.h"

#include <cmath>

namespace splat::ops {
namespace {

void check_rois(std::string_view op, const Tensor& rois) {
  SPLAT_CHECK(rois.dim() == 2 && rois.shape()[1] == 5, op,
              ": rois must be (K, 5) [batch_index, x1, y1, x2, y2], got shape ",
              shape_str(rois.shape()));
  SPLAT_CHECK(is_floating(rois.dtype()), op, ": rois must be float32 or float64, got ",
              rois.dtype());
}

// The RoIs on the host in double, row-major (K, 5).
std::vector<double> host_rois(const Tensor& rois) {
  const Tensor c = contiguous(to(to(rois, Device::cpu()), DType::f64));
  const double* p = c.data<double>();
  return {p, p + c.numel()};
}

} // namespace

Tensor roi_align(const Tensor& features, const Tensor& rois, const RoiAlignOptions& o) {
  constexpr std::string_view op = "roi_align";
  check_same_device(op, {&features, &rois});
  SPLAT_CHECK(features.dim() == 4, op, ": features must be (N, C, H, W), got shape ",
              shape_str(features.shape()));
  SPLAT_CHECK(is_floating(features.dtype()), op, ": features must be float32 or float64, got ",
              features.dtype());
  check_rois(op, rois);
  check_same_dtype(op, features, rois);
  SPLAT_CHECK(o.output_h >= 1 && o.output_w >= 1, op, ": output size must be positive, got (",
              o.output_h, ", ", o.output_w, ")");
  SPLAT_CHECK(o.sampling_ratio >= 0, op, ": sampling_ratio must be >= 0 (0 = adaptive), got ",
              o.sampling_ratio);
  SPLAT_CHECK(o.spatial_scale > 0 && std::isfinite(o.spatial_scale), op,
              ": spatial_scale must be positive and finite, got ", o.spatial_scale);
  const int64_t n = features.shape()[0], k = rois.shape()[0];
  // Kernels index the feature map by the batch index, so every one is checked first.
  const std::vector<double> hr = [&] {
    splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::bounds_check);
    return host_rois(rois);
  }();
  for (int64_t r = 0; r < k; ++r) {
    const double b = hr[static_cast<size_t>(r * 5)];
    SPLAT_CHECK(b >= 0 && b < double(n) && b == std::floor(b), op, ": roi ", r, " has batch index ",
                b, ", not an integer in [0, ", n, ") (features shape ", shape_str(features.shape()),
                ")");
  }
  const cpu::RoiAlignGeometry g{
      features.shape()[1], features.shape()[2], features.shape()[3], o.output_h,
      o.output_w,          o.sampling_ratio,    o.spatial_scale,     o.aligned};
  const Tensor fc = contiguous(features), rc = contiguous(rois);
  Tensor out =
      Tensor::empty({k, g.channels, o.output_h, o.output_w}, features.dtype(), features.device());
  SPLAT_KERNEL(out.device(), roi_align, out, fc, rc, g);
  if (autograd::needs_grad({features})) {
    record(std::string(op), {features, rois}, {out},
           [sr = SavedTensor(rc), shape = features.shape(), g](const Grads& grads, const Needs&) {
             const Tensor& r = sr.get();
             Tensor df = Tensor::empty(shape, r.dtype(), r.device());
             SPLAT_KERNEL(df.device(), roi_align_backward, df, contiguous(grads[0]), r, g);
             return Grads{df, Tensor()};
           });
  }
  return out;
}

namespace {

std::vector<int64_t> roi_levels(std::string_view op, const Tensor& rois, int64_t num_levels,
                                double finest_scale) {
  check_rois(op, rois);
  SPLAT_CHECK(num_levels >= 1, op, ": num_levels must be at least 1, got ", num_levels);
  SPLAT_CHECK(finest_scale > 0, op, ": finest_scale must be positive, got ", finest_scale);
  // The host sorts the RoIs into levels: each level's count sizes its roi_align.
  splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::host_computation);
  const std::vector<double> hr = host_rois(rois);
  const int64_t k = rois.shape()[0];
  std::vector<int64_t> levels(static_cast<size_t>(k));
  // Evaluated in the RoIs' dtype, as mmdet does on its float tensors, so borderline scales
  // round the same way.
  dispatch<DTypeSet::floating>(rois.dtype(), op, [&]<class T>() {
    for (int64_t r = 0; r < k; ++r) {
      const double* b = hr.data() + r * 5;
      const T w = static_cast<T>(b[3]) - static_cast<T>(b[1]);
      const T h = static_cast<T>(b[4]) - static_cast<T>(b[2]);
      const T scale = std::sqrt(w * h);
      const T level = std::floor(std::log2(scale / static_cast<T>(finest_scale) + T(1e-6)));
      // A NaN level (a box of negative area, undefined in mmdet) goes to level 0.
      levels[static_cast<size_t>(r)] = level >= T(num_levels - 1)
                                           ? num_levels - 1
                                           : (level >= T(0) ? static_cast<int64_t>(level) : 0);
    }
  });
  return levels;
}

} // namespace

Tensor map_roi_levels(const Tensor& rois, int64_t num_levels, double finest_scale) {
  const std::vector<int64_t> levels = roi_levels("map_roi_levels", rois, num_levels, finest_scale);
  return to(from_vector<int64_t>(levels, {static_cast<int64_t>(levels.size())}), rois.device());
}

Tensor multi_level_roi_align(const std::vector<Tensor>& feats, const Tensor& rois,
                             const std::vector<double>& strides, const RoiAlignOptions& options,
                             double finest_scale) {
  constexpr std::string_view op = "multi_level_roi_align";
  SPLAT_CHECK(!feats.empty() && feats.size() == strides.size(), op, ": got ", feats.size(),
              " feature maps and ", strides.size(), " strides; need one stride per level");
  const int64_t num_levels = static_cast<int64_t>(feats.size());
  for (const Tensor& f : feats)
    SPLAT_CHECK(f.dim() == 4 && f.shape()[1] == feats[0].shape()[1], op,
                ": every level must be (N, C, H, W) with one C; got shapes ",
                shape_str(feats[0].shape()), " and ", shape_str(f.shape()));
  const std::vector<int64_t> levels = roi_levels(op, rois, num_levels, finest_scale);
  // Each level pools its own RoIs; the results are concatenated in level order and put back in
  // RoI order by one index_select, so gradients flow to every level through roi_align.
  std::vector<Tensor> pooled;
  std::vector<int64_t> order; // RoI index of each row of the concatenation
  for (int64_t l = 0; l < num_levels; ++l) {
    std::vector<int64_t> idx;
    for (size_t r = 0; r < levels.size(); ++r)
      if (levels[r] == l) idx.push_back(static_cast<int64_t>(r));
    if (idx.empty() && !(l == 0 && levels.empty())) continue;
    SPLAT_CHECK(strides[static_cast<size_t>(l)] > 0, op, ": stride of level ", l,
                " must be positive, got ", strides[static_cast<size_t>(l)]);
    RoiAlignOptions o = options;
    o.spatial_scale = 1.0 / strides[static_cast<size_t>(l)];
    const Tensor sel =
        to(from_vector<int64_t>(idx, {static_cast<int64_t>(idx.size())}), rois.device());
    pooled.push_back(roi_align(feats[static_cast<size_t>(l)], index_select(rois, 0, sel), o));
    order.insert(order.end(), idx.begin(), idx.end());
  }
  const Tensor all = pooled.size() == 1 ? pooled[0] : cat(pooled, 0);
  if (levels.empty()) return all;
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i)
    inverse[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
  const Tensor inv =
      to(from_vector<int64_t>(inverse, {static_cast<int64_t>(inverse.size())}), rois.device());
  return index_select(all, 0, inv);
}

} // namespace splat::ops
