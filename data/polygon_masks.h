// Instance masks kept as polygons through the pipeline (mmdet 3.3's PolygonMasks, what its COCO
// mask configs load with poly2mask=False): only the mask targets are rasterised, per positive RoI
// at the target size, instead of decoding every instance at the image's size.
//
// Conventions: polygons are flat [x0, y0, x1, y1, ...] doubles (mmdet keeps them as float64
// arrays) in the current image's pixels, COCO's pixel convention (data/masks.h). An instance is
// the union of its polygons. height, width: the image the polygons live in (after pad, the
// padded size; padding moves no coordinate).
#pragma once

#include "core/tensor.h"
#include "data/masks.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace splat::data {

struct PolygonMasks {
  int64_t height = 0, width = 0;
  std::vector<std::vector<Polygon>> instances; // one entry per object, each at least one polygon
};

// mmdet's LoadAnnotations._process_masks on one annotation's polygons: keeps the polygons with
// an even number of coordinates and at least 3 points; nullopt when none is left (mmdet then
// ignores the whole instance, with a fake mask).
std::optional<std::vector<Polygon>> valid_polygons(const std::vector<Polygon>& polygons);

// PolygonMasks.resize to (out_h, out_w): x times out_w / width, y times out_h / height.
PolygonMasks resize_polygons(const PolygonMasks& masks, int64_t out_h, int64_t out_w);
// PolygonMasks.flip('horizontal'): x' = width - x.
PolygonMasks flip_polygons(const PolygonMasks& masks);

// mmdet's mask_target_single over PolygonMasks: for every RoI i, instance assigned[i] cut to
// boxes[i] and rasterised at out_size x out_size. The box is first clipped to the masks' width
// and height; each polygon is shifted by (-x1, -y1) and scaled by out_size / max(w, 1) and
// out_size / max(h, 1) (box sizes and scales in float32, as mmdet computes them from the float32
// proposals), then the instance's polygons are rasterised and merged by pycocotools' rules.
// boxes: P rows of x1 y1 x2 y2; assigned: P indices into instances. Returns (P, out, out) u8 0/1.
Tensor crop_and_resize(const PolygonMasks& masks, std::span<const std::array<float, 4>> boxes,
                       std::span<const int64_t> assigned, int64_t out_size);

// The masks rasterised at (height, width): (n, height, width) u8 0/1 (PolygonMasks.to_ndarray),
// for comparing with the bitmap path and drawing.
Tensor polygons_to_bitmaps(const PolygonMasks& masks);

} // namespace splat::data
