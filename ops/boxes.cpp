// Boxes: the overlap matrix runs a kernel (ops/cpu/boxes.cpp, ops/cuda/boxes.cu); area, clip,
// scale, flip and format changes are compositions of pointwise ops on the four coordinates
// (cheap, on the input's device, and differentiable for free).
#include "ops/boxes.h"

#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/boxes.h"
#include "ops/cuda/boxes.h"
#include "ops/device_dispatch.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/view.h"

#include <array>
#include <cmath>

namespace splat::ops {

void check_boxes(std::string_view op, std::string_view arg, const Tensor& t, BoxShape shape) {
  SPLAT_CHECK(t.defined(), op, ": ", arg, " is undefined");
  SPLAT_CHECK(is_floating(t.dtype()), op, ": ", arg, " must be floating (f32 or f64), got ",
              t.dtype());
  const bool rows = shape == BoxShape::rows;
  SPLAT_CHECK((rows ? t.dim() == 2 : t.dim() >= 1) && t.size(-1) == 4, op, ": ", arg,
              " must have shape ", rows ? "(N, 4)" : "(..., 4)", ", got ", shape_str(t.shape()));
}

namespace {

using Coords = std::array<Tensor, 4>;

Coords coords(const Tensor& boxes) {
  return {select(boxes, -1, 0), select(boxes, -1, 1), select(boxes, -1, 2), select(boxes, -1, 3)};
}

Tensor pack(const Coords& c) { return stack({c[0], c[1], c[2], c[3]}, -1); }

// Any format to corners.
Coords to_xyxy(const Coords& c, BoxFormat from) {
  switch (from) {
  case BoxFormat::xyxy: return c;
  case BoxFormat::xywh: return {c[0], c[1], add(c[0], c[2]), add(c[1], c[3])};
  case BoxFormat::cxcywh: {
    const Tensor hw = mul(c[2], 0.5), hh = mul(c[3], 0.5);
    return {sub(c[0], hw), sub(c[1], hh), add(c[0], hw), add(c[1], hh)};
  }
  }
  return c;
}

Coords from_xyxy(const Coords& c, BoxFormat to) {
  switch (to) {
  case BoxFormat::xyxy: return c;
  case BoxFormat::xywh: return {c[0], c[1], sub(c[2], c[0]), sub(c[3], c[1])};
  case BoxFormat::cxcywh:
    return {mul(add(c[0], c[2]), 0.5), mul(add(c[1], c[3]), 0.5), sub(c[2], c[0]), sub(c[3], c[1])};
  }
  return c;
}

} // namespace

Tensor box_iou(const Tensor& a, const Tensor& b, IouMode mode, double eps) {
  check_boxes("box_iou", "a", a, BoxShape::rows);
  check_boxes("box_iou", "b", b, BoxShape::rows);
  check_same_device("box_iou", {&a, &b});
  check_same_dtype("box_iou", a, b);
  SPLAT_CHECK(eps >= 0 && std::isfinite(eps), "box_iou: eps must be finite and >= 0, got ", eps);
  Tensor out = Tensor::empty({a.size(0), b.size(0)}, a.dtype(), a.device());
  if (out.numel() > 0)
    SPLAT_KERNEL(a.device(), box_iou, out, contiguous(a.detach()), contiguous(b.detach()), mode,
                 eps);
  return out;
}

Tensor box_area(const Tensor& boxes) {
  check_boxes("box_area", "boxes", boxes);
  const Coords c = coords(boxes);
  return mul(sub(c[2], c[0]), sub(c[3], c[1]));
}

Tensor clip_boxes(const Tensor& boxes, SizeHW image) {
  check_boxes("clip_boxes", "boxes", boxes);
  SPLAT_CHECK(image.height >= 0 && image.width >= 0, "clip_boxes: image size (", image.height, ", ",
              image.width, ") is negative");
  const Coords c = coords(boxes);
  const auto w = static_cast<double>(image.width), h = static_cast<double>(image.height);
  return pack({clamp(c[0], 0.0, w), clamp(c[1], 0.0, h), clamp(c[2], 0.0, w), clamp(c[3], 0.0, h)});
}

Tensor scale_boxes(const Tensor& boxes, double scale_x, double scale_y) {
  check_boxes("scale_boxes", "boxes", boxes);
  const Coords c = coords(boxes);
  return pack({mul(c[0], scale_x), mul(c[1], scale_y), mul(c[2], scale_x), mul(c[3], scale_y)});
}

Tensor flip_boxes(const Tensor& boxes, int64_t width) {
  check_boxes("flip_boxes", "boxes", boxes);
  const Coords c = coords(boxes);
  const auto w = static_cast<double>(width);
  return pack({w - c[2], c[1], w - c[0], c[3]});
}

Tensor convert_boxes(const Tensor& boxes, BoxFormat from, BoxFormat to) {
  check_boxes("convert_boxes", "boxes", boxes);
  // Equal formats copy the values as they are (a trip through corners would round them).
  if (from == to) return pack(coords(boxes));
  return pack(from_xyxy(to_xyxy(coords(boxes), from), to));
}

} // namespace splat::ops
