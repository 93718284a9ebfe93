// DeltaXYWH box coder: argument checks and dispatch to the kernels (ops/cpu/box_coder.cpp,
// ops/cuda/box_coder.cu), which evaluate the formulas of ops/box_fns.h.
#include "ops/box_coder.h"

#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/box_coder.h"
#include "ops/cuda/box_coder.h"
#include "ops/device_dispatch.h"

#include <cmath>

namespace splat::ops {
namespace {

void check_coder(std::string_view op, const DeltaXYWHBBoxCoder& coder) {
  for (size_t k = 0; k < 4; ++k)
    SPLAT_CHECK(coder.stds[k] != 0 && std::isfinite(coder.stds[k]) && std::isfinite(coder.means[k]),
                op, ": stds[", k, "] = ", coder.stds[k], ", means[", k, "] = ", coder.means[k],
                " (stds must be finite and nonzero, means finite)");
  SPLAT_CHECK(coder.wh_ratio_clip > 0, op, ": wh_ratio_clip must be positive, got ",
              coder.wh_ratio_clip);
}

} // namespace

Tensor bbox_encode(const Tensor& proposals, const Tensor& gt, const DeltaXYWHBBoxCoder& coder) {
  check_same_device("bbox_encode", {&proposals, &gt});
  check_coder("bbox_encode", coder);
  check_boxes("bbox_encode", "proposals", proposals, BoxShape::rows);
  check_boxes("bbox_encode", "gt", gt, BoxShape::rows);
  check_same_dtype("bbox_encode", proposals, gt);
  SPLAT_CHECK(proposals.size(0) == gt.size(0), "bbox_encode: ", proposals.size(0),
              " proposals but ", gt.size(0), " gt boxes");
  Tensor out = Tensor::empty(proposals.shape(), proposals.dtype(), proposals.device());
  if (out.numel() > 0)
    SPLAT_KERNEL(out.device(), bbox_encode, out, contiguous(proposals.detach()),
                 contiguous(gt.detach()), coder);
  return out;
}

Tensor bbox_decode(const Tensor& rois, const Tensor& deltas, const DeltaXYWHBBoxCoder& coder,
                   std::optional<SizeHW> max_shape) {
  check_same_device("bbox_decode", {&rois, &deltas});
  check_coder("bbox_decode", coder);
  check_boxes("bbox_decode", "rois", rois, BoxShape::rows);
  SPLAT_CHECK(deltas.dim() == 2 && deltas.size(1) > 0 && deltas.size(1) % 4 == 0,
              "bbox_decode: deltas must have shape (N, 4 * num_classes), got ",
              shape_str(deltas.shape()));
  check_same_dtype("bbox_decode", rois, deltas);
  SPLAT_CHECK(rois.size(0) == deltas.size(0), "bbox_decode: ", rois.size(0), " rois but ",
              deltas.size(0), " rows of deltas");
  if (max_shape)
    SPLAT_CHECK(max_shape->height >= 0 && max_shape->width >= 0,
                "bbox_decode: negative max_shape (", max_shape->height, ", ", max_shape->width,
                ")");
  Tensor out = Tensor::empty(deltas.shape(), deltas.dtype(), deltas.device());
  if (out.numel() > 0)
    SPLAT_KERNEL(out.device(), bbox_decode, out, contiguous(rois.detach()),
                 contiguous(deltas.detach()), coder, max_shape);
  return out;
}

} // namespace splat::ops
