// Axis-aligned boxes: pairwise overlaps, area, clipping, scaling, flipping and format changes.
//
// Convention: a box is (x1, y1, x2, y2) with x2 >= x1, y2 >= y1 in pixels, and its width is
// x2 - x1 (no "+1", as in MMDetection v2 and torchvision). Boxes sit in the last dim of a
// floating tensor (f32 or f64) of shape (..., 4). Functions return new tensors on the input's
// device; the compositions (area, clip, scale, flip, convert) are differentiable, box_iou is
// not (no detector loss needs it).
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <string_view>

namespace splat::ops {

// Height and width of an image or a feature map, in pixels / cells.
struct SizeHW {
  int64_t height = 0;
  int64_t width = 0;
};

// The argument check of every detection op: throws unless t is a floating (f32, f64) tensor
// of shape (..., 4) (BoxShape::any) or (N, 4) (BoxShape::rows), naming op, arg and the shape.
enum class BoxShape : uint8_t { any, rows };
void check_boxes(std::string_view op, std::string_view arg, const Tensor& t,
                 BoxShape shape = BoxShape::any);

// iou: intersection / union; iof: intersection / area of the first box ("intersection over
// foreground", MMDetection's mode='iof', used to find boxes inside crowd regions).
enum class IouMode : uint8_t { iou, iof };

// a: (N, 4), b: (M, 4), one dtype and device -> (N, M) with out[i][j] the overlap of a[i] and
// b[j]. As MMDetection's bbox_overlaps: the denominator (union, or area of a[i] for iof) is
// raised to at least eps, so degenerate boxes give 0 instead of NaN; eps = 0 gives torchvision's
// box_iou (0 / 0 = NaN for two zero-area boxes). Either side may be empty. Products are formed
// in double, so the same inputs give bit-identical results on every device and compiler.
Tensor box_iou(const Tensor& a, const Tensor& b, IouMode mode = IouMode::iou, double eps = 1e-6);

// boxes: (..., 4) -> (...): (x2 - x1) * (y2 - y1).
Tensor box_area(const Tensor& boxes);

// boxes: (..., 4) with x clamped to [0, width] and y to [0, height] (MMDetection's clip to
// img_shape).
Tensor clip_boxes(const Tensor& boxes, SizeHW image);

// boxes: (..., 4) with x multiplied by scale_x and y by scale_y (a resize by those factors;
// divide by them to map back to the original image).
Tensor scale_boxes(const Tensor& boxes, double scale_x, double scale_y);

// boxes: (..., 4) mirrored left-right in an image of the given width, MMDetection v2's rule:
// (x1, y1, x2, y2) -> (width - x2, y1, width - x1, y2).
Tensor flip_boxes(const Tensor& boxes, int64_t width);

// Box encodings: xyxy corners; xywh is COCO's (x1, y1, w, h) with w = x2 - x1; cxcywh is
// (centre x, centre y, w, h) with the centre (x1 + x2) / 2.
enum class BoxFormat : uint8_t { xyxy, xywh, cxcywh };

// boxes: (..., 4) in format `from` -> (..., 4) in format `to`.
Tensor convert_boxes(const Tensor& boxes, BoxFormat from, BoxFormat to);

} // namespace splat::ops
