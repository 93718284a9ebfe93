// mask_target and paste_masks: argument checks, and mask_target as a composition (RoIAlign of
// the bitmaps with the assigned ground-truth index as the batch index, so each bitmap is
// converted to float once rather than once per RoI); paste_masks dispatches to its kernel.
#include "ops/mask_target.h"

#include "core/cuda/host_sync.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/mask_target.h"
#include "ops/cuda/mask_target.h"
#include "ops/device_dispatch.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/roi_align.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

void check_boxes(std::string_view op, const Tensor& boxes, std::string_view name) {
  SPLAT_CHECK(boxes.dim() == 2 && boxes.shape()[1] == 4, op, ": ", name,
              " must be (P, 4) [x1, y1, x2, y2], got shape ", shape_str(boxes.shape()));
  SPLAT_CHECK(is_floating(boxes.dtype()), op, ": ", name, " must be float32 or float64, got ",
              boxes.dtype());
}

} // namespace

Tensor mask_target(const Tensor& gt_masks, const Tensor& rois, const Tensor& assigned,
                   int64_t out_size) {
  constexpr std::string_view op = "mask_target";
  check_same_device(op, {&gt_masks, &rois, &assigned});
  SPLAT_CHECK(gt_masks.dim() == 3 &&
                  (gt_masks.dtype() == DType::u8 || gt_masks.dtype() == DType::b8),
              op, ": gt_masks must be (G, H, W) u8 or bool bitmaps, got ", gt_masks.dtype(),
              " of shape ", shape_str(gt_masks.shape()));
  check_boxes(op, rois, "rois");
  SPLAT_CHECK(assigned.dim() == 1 && assigned.shape()[0] == rois.shape()[0] &&
                  (assigned.dtype() == DType::i64 || assigned.dtype() == DType::i32),
              op, ": assigned must be i64 or i32 of shape (", rois.shape()[0], "), got ",
              assigned.dtype(), " of shape ", shape_str(assigned.shape()));
  SPLAT_CHECK(out_size >= 1, op, ": out_size must be positive, got ", out_size);
  const int64_t g = gt_masks.shape()[0];
  const Tensor host = [&] {
    splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::bounds_check);
    return contiguous(to(to(assigned, Device::cpu()), DType::i64));
  }();
  for (const int64_t* v = host.data<int64_t>(); v != host.data<int64_t>() + host.numel(); ++v)
    SPLAT_CHECK(*v >= 0 && *v < g, op, ": assigned ground-truth index ", *v, " is outside [0, ", g,
                ") (gt_masks shape ", shape_str(gt_masks.shape()), ")");
  const Tensor bitmaps = to(unsqueeze(gt_masks, 1), rois.dtype());
  const Tensor rois5 = cat({unsqueeze(to(assigned, rois.dtype()), 1), rois}, 1);
  const Tensor pooled = roi_align(bitmaps, rois5,
                                  {.output_h = out_size,
                                   .output_w = out_size,
                                   .spatial_scale = 1,
                                   .sampling_ratio = 0,
                                   .aligned = true});
  return to(ge(squeeze(pooled, 1), 0.5), rois.dtype());
}

Tensor paste_masks(const Tensor& mask_probs, const Tensor& boxes, int64_t image_h, int64_t image_w,
                   double threshold) {
  constexpr std::string_view op = "paste_masks";
  check_same_device(op, {&mask_probs, &boxes});
  SPLAT_CHECK(mask_probs.dim() == 3 && mask_probs.shape()[1] == mask_probs.shape()[2], op,
              ": mask_probs must be (P, M, M), got shape ", shape_str(mask_probs.shape()));
  check_boxes(op, boxes, "boxes");
  SPLAT_CHECK(boxes.shape()[0] == mask_probs.shape()[0], op, ": ", boxes.shape()[0], " boxes for ",
              mask_probs.shape()[0], " masks");
  check_same_dtype(op, mask_probs, boxes);
  SPLAT_CHECK(image_h >= 0 && image_w >= 0, op, ": image size must be non-negative, got (", image_h,
              ", ", image_w, ")");
  Tensor out = Tensor::empty({mask_probs.shape()[0], image_h, image_w}, DType::b8, boxes.device());
  SPLAT_KERNEL(out.device(), paste_masks, out, contiguous(mask_probs), contiguous(boxes),
               threshold);
  return out;
}

} // namespace splat::ops
