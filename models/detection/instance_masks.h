// The ground-truth instance masks of one image as the mask head reads them (mmdet's
// BaseInstanceMasks): only crop_and_resize, which makes the mask targets of the positive RoIs.
// models/ sits beside data/, not above it (design.md section 1), so the polygon masks the COCO
// configs use (mmdet's PolygonMasks, poly2mask=False) implement this interface in train/, where
// the data layer's pycocotools rasteriser is reachable; bitmaps (BitmapMasks) implement it here.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <memory>

namespace splat::models {

class InstanceMasks {
public:
  virtual ~InstanceMasks() = default;
  // Number of instances (one per GT box of the image).
  virtual int64_t size() const = 0;
  // For every RoI i, instance assigned[i]'s mask cut to boxes[i] ([x1, y1, x2, y2] in the
  // resized image's pixels) and resampled to out_size x out_size, binary: (P, out_size, out_size)
  // of boxes' dtype on boxes' device holding 0 and 1. boxes: (P, 4); assigned: (P) i64.
  virtual Tensor crop_and_resize(const Tensor& boxes, const Tensor& assigned, int64_t out_size) const = 0;
};

// mmdet's BitmapMasks: (G, H, W) u8 or bool bitmaps at the resized (padded) image's size,
// cropped by RoIAlign and thresholded at 0.5 (ops::mask_target), each RoI first clipped to the
// bitmaps' width and height as mmdet's mask_target_single does.
class BitmapMasks final : public InstanceMasks {
public:
  explicit BitmapMasks(Tensor bitmaps);
  int64_t size() const override;
  Tensor crop_and_resize(const Tensor& boxes, const Tensor& assigned, int64_t out_size) const override;

private:
  Tensor bitmaps_;
};

} // namespace splat::models
