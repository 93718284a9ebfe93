#include "models/detection/instance_masks.h"

#include "core/error.h"
#include "ops/copy.h"
#include "ops/mask_target.h"

namespace splat::models {

BitmapMasks::BitmapMasks(Tensor bitmaps) : bitmaps_(std::move(bitmaps)) {
  SPLAT_CHECK(bitmaps_.defined() && bitmaps_.dim() == 3 &&
                  (bitmaps_.dtype() == DType::u8 || bitmaps_.dtype() == DType::b8),
              "BitmapMasks: expected (G, H, W) u8 or bool bitmaps, got ",
              bitmaps_.defined() ? shape_str(bitmaps_.shape()) : std::string("an undefined tensor"));
}

int64_t BitmapMasks::size() const { return bitmaps_.size(0); }

Tensor BitmapMasks::crop_and_resize(const Tensor& boxes, const Tensor& assigned, int64_t out_size) const {
  // The bitmaps live where the batch was decoded; the targets go where the RoIs are.
  return ops::mask_target(ops::to(bitmaps_, boxes.device()), boxes, assigned, out_size);
}

} // namespace splat::models
