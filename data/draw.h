// Drawing on images for browse-dataset and the synthetic shapes dataset.
//
// Images are CPU tensors of dtype u8, shape (H, W, 3), RGB, contiguous (data/image.h); masks are
// (H, W) u8 with nonzero meaning inside. Everything clips to the image: shapes partly or wholly
// outside draw what falls inside and nothing else. Drawing is in place.
#pragma once

#include "core/tensor.h"
#include "data/transforms.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace splat::data {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(Rgb, Rgb) = default;
};

// A fixed palette of well-separated colours, indexed cyclically (labels -> colours).
Rgb palette_color(int64_t i);

// Outline of the pixel rectangle [x1, x2) x [y1, y2) (box coordinates as in Target.boxes, so the
// right and bottom edges are drawn at x2 - 1 and y2 - 1 after rounding), `thickness` pixels
// inward.
void draw_box(const Tensor& image, double x1, double y1, double x2, double y2, Rgb color,
              int thickness = 1);

// pixel = (1 - alpha) * pixel + alpha * color where mask is nonzero (alpha 1 paints).
// mask must have the image's height and width.
void blend_mask(const Tensor& image, const Tensor& mask, Rgb color, double alpha);

// Text in the built-in 5x7 bitmap font, each glyph cell 6x8 pixels times `scale`, top-left at
// (x, y), on a filled background box so it reads over any content. Letters are drawn upper-case;
// characters without a glyph draw as '?'.
void draw_text(const Tensor& image, int64_t x, int64_t y, std::string_view text, Rgb color,
               Rgb background, int scale = 1);
// Width and height in pixels that draw_text covers.
int64_t text_width(std::string_view text, int scale = 1);
int64_t text_height(int scale = 1);

// A box outline with a text tag (white on the box colour) above its top-left corner, moved inside
// the image when the box touches the top edge; line and text sizes follow `scale`.
void draw_tagged_box(const Tensor& image, const float* box, std::string_view text, Rgb color,
                     int scale);
// The line and text scale for a picture of this height and width: grows with the picture so tags
// stay legible on large images.
int tag_scale(int64_t h, int64_t w);

// A picture of a transformed sample as browse-dataset shows it: the normalised (3, Hp, Wp) image
// de-normalised with `norm` (padding included, so it shows as the mean colour), each object's
// mask blended translucently and its box outlined in the colour of its index, a label tag
// (class_names[label], or the number when out of range) above each box, ignore boxes in grey
// tagged "crowd". Masks may be undefined. Returns a new (Hp, Wp, 3) u8 image.
Tensor render_sample(const Sample& sample, const std::vector<std::string>& class_names,
                     const Normalization& norm);

// A copy of the u8 (H, W, 3) image with detections drawn: box k of boxes (K, 4) f32 x1 y1 x2 y2
// in the image's pixels, outlined in its class's palette colour and tagged
// "class_names[label] 0.87" (the number when the label is out of range). masks: undefined, or
// (K, H, W) u8/bool over the image, each blended translucently in its box's colour under the
// boxes (Mask R-CNN's detections).
Tensor draw_detections(const Tensor& image, const Tensor& boxes, const Tensor& labels,
                       const Tensor& scores, const std::vector<std::string>& class_names,
                       const Tensor& masks = Tensor());

} // namespace splat::data
