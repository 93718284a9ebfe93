#include "models/detection/instance_masks.h"

#include "core/error.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/mask_target.h"
#include "ops/pointwise.h"
#include "ops/view.h"

namespace splat::models {

BitmapMasks::BitmapMasks(Tensor bitmaps) : bitmaps_(std::move(bitmaps)) {
  SPLAT_CHECK(bitmaps_.defined() && bitmaps_.dim() == 3 &&
                  (bitmaps_.dtype() == DType::u8 || bitmaps_.dtype() == DType::b8),
              "BitmapMasks: expected (G, H, W) u8 or bool bitmaps, got ",
              bitmaps_.defined() ? shape_str(bitmaps_.shape()) : std::string("an undefined tensor"));
}

int64_t BitmapMasks::size() const { return bitmaps_.size(0); }

Tensor BitmapMasks::crop_and_resize(const Tensor& boxes, const Tensor& assigned, int64_t out_size) const {
  SPLAT_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, "BitmapMasks: boxes must be (P, 4), got ",
              boxes.defined() ? shape_str(boxes.shape()) : std::string("an undefined tensor"));
  // mmdet's mask_target_single clips the RoIs to the masks' width and height first: the part of a
  // RoI past the image is not read as background, the target is the clipped box's crop.
  const auto w = static_cast<double>(bitmaps_.size(2)), h = static_cast<double>(bitmaps_.size(1));
  std::vector<Tensor> sides;
  for (int64_t k = 0; k < 4; ++k) sides.push_back(ops::clamp(ops::select(boxes, 1, k), 0.0, k % 2 == 0 ? w : h));
  // The bitmaps live where the batch was decoded; the targets go where the RoIs are.
  return ops::mask_target(ops::to(bitmaps_, boxes.device()), ops::stack(sides, 1), assigned, out_size);
}

} // namespace splat::models
