#include "data/draw.h"

#include "core/error.h"
#include "data/tensor_util.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

namespace splat::data {
namespace {

// How opaque a blended mask is: the picture stays visible under it.
constexpr double kMaskAlpha = 0.45;

// Plane k of contiguous (K, H, W) one-byte masks (u8 or bool) as a new (H, W) u8 tensor.
Tensor mask_plane(const Tensor& masks, int64_t k) {
  const int64_t hw = masks.size(1) * masks.size(2);
  Tensor m = Tensor::empty({masks.size(1), masks.size(2)}, DType::u8);
  std::memcpy(m.raw_data(), static_cast<const uint8_t*>(masks.raw_data()) + k * hw,
              static_cast<size_t>(hw));
  return m;
}

// Checks the image convention of this file and returns the pixel pointer.
uint8_t* pixels(const char* op, const Tensor& image) {
  SPLAT_CHECK(image.device().is_cpu() && image.dtype() == DType::u8 && image.dim() == 3 &&
                  image.size(2) == 3 && image.is_contiguous(),
              op, ": image must be a contiguous CPU u8 (H, W, 3) tensor, got ",
              dtype_name(image.dtype()), " ", shape_str(image.shape()), " on ", image.device());
  return image.data<uint8_t>();
}

void put(uint8_t* px, Rgb c) {
  px[0] = c.r;
  px[1] = c.g;
  px[2] = c.b;
}

// Fills [x0, x1) x [y0, y1), clipped to the image.
void fill_rect(const Tensor& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1, Rgb c) {
  uint8_t* p = pixels("fill_rect", image);
  const int64_t h = image.size(0), w = image.size(1);
  x0 = std::max<int64_t>(x0, 0), y0 = std::max<int64_t>(y0, 0);
  x1 = std::min(x1, w), y1 = std::min(y1, h);
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) put(p + (y * w + x) * 3, c);
}

// 5x7 glyphs: seven rows, bit 4 the leftmost column.
struct Glyph {
  char c;
  std::array<uint8_t, 7> rows;
};
constexpr Glyph kGlyphs[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
};
constexpr int kGlyphW = 5, kGlyphH = 7, kCellW = 6, kCellH = 8;

const Glyph& glyph_of(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kGlyphs)
    if (g.c == c) return g;
  return glyph_of('?');
}

} // namespace

Rgb palette_color(int64_t i) {
  // Saturated, mutually distinct hues (a colour-blind-aware qualitative palette, then extras).
  static constexpr Rgb kPalette[] = {
      {230, 25, 75},   {60, 180, 75},   {255, 225, 25},  {0, 130, 200},   {245, 130, 48},
      {145, 30, 180},  {70, 240, 240},  {240, 50, 230},  {210, 245, 60},  {250, 190, 212},
      {0, 128, 128},   {220, 190, 255}, {170, 110, 40},  {255, 250, 200}, {128, 0, 0},
      {170, 255, 195}, {128, 128, 0},   {255, 215, 180}, {0, 0, 128},     {128, 128, 128}};
  constexpr int64_t n = std::size(kPalette);
  return kPalette[((i % n) + n) % n];
}

void draw_box(const Tensor& image, double x1, double y1, double x2, double y2, Rgb color,
              int thickness) {
  pixels("draw_box", image);
  SPLAT_CHECK(thickness > 0, "draw_box: thickness must be positive, got ", thickness);
  const auto l = static_cast<int64_t>(std::lround(x1)), t = static_cast<int64_t>(std::lround(y1));
  const auto r = static_cast<int64_t>(std::lround(x2)), b = static_cast<int64_t>(std::lround(y2));
  if (r <= l || b <= t) return;
  const int64_t k = thickness;
  fill_rect(image, l, t, r, std::min(b, t + k), color); // top
  fill_rect(image, l, std::max(t, b - k), r, b, color); // bottom
  fill_rect(image, l, t, std::min(r, l + k), b, color); // left
  fill_rect(image, std::max(l, r - k), t, r, b, color); // right
}

void blend_mask(const Tensor& image, const Tensor& mask, Rgb color, double alpha) {
  uint8_t* p = pixels("blend_mask", image);
  SPLAT_CHECK(
      mask.device().is_cpu() && mask.dtype() == DType::u8 && mask.dim() == 2 &&
          mask.is_contiguous() && mask.size(0) == image.size(0) && mask.size(1) == image.size(1),
      "blend_mask: mask must be a contiguous CPU u8 (H, W) tensor matching the image ",
      shape_str(image.shape()), ", got ", dtype_name(mask.dtype()), " ", shape_str(mask.shape()));
  SPLAT_CHECK(alpha >= 0 && alpha <= 1, "blend_mask: alpha must be in [0, 1], got ", alpha);
  const uint8_t* m = mask.data<uint8_t>();
  const uint8_t c[3] = {color.r, color.g, color.b};
  const int64_t n = mask.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (m[i] == 0) continue;
    for (int ch = 0; ch < 3; ++ch) {
      const double v = (1 - alpha) * p[i * 3 + ch] + alpha * c[ch];
      p[i * 3 + ch] = static_cast<uint8_t>(std::lround(v));
    }
  }
}

int64_t text_width(std::string_view text, int scale) {
  return static_cast<int64_t>(text.size()) * kCellW * scale;
}
int64_t text_height(int scale) { return kCellH * scale; }

void draw_text(const Tensor& image, int64_t x, int64_t y, std::string_view text, Rgb color,
               Rgb background, int scale) {
  pixels("draw_text", image);
  SPLAT_CHECK(scale > 0, "draw_text: scale must be positive, got ", scale);
  fill_rect(image, x, y, x + text_width(text, scale), y + text_height(scale), background);
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph& g = glyph_of(text[i]);
    // One pixel of margin on the left and top of each cell.
    const int64_t gx = x + static_cast<int64_t>(i) * kCellW * scale + scale, gy = y + scale;
    for (int row = 0; row < kGlyphH; ++row)
      for (int col = 0; col < kGlyphW; ++col)
        if (g.rows[row] >> (kGlyphW - 1 - col) & 1)
          fill_rect(image, gx + col * scale, gy + row * scale, gx + (col + 1) * scale,
                    gy + (row + 1) * scale, color);
  }
}

int tag_scale(int64_t h, int64_t w) {
  return static_cast<int>(std::max<int64_t>(1, std::min(h, w) / 300));
}

void draw_tagged_box(const Tensor& image, const float* box, std::string_view text, Rgb color,
                     int scale) {
  draw_box(image, box[0], box[1], box[2], box[3], color, 2 * scale);
  const int64_t x = std::lround(box[0]), y = std::lround(box[1]) - text_height(scale);
  draw_text(image, x, std::max<int64_t>(y, 0), text, Rgb{255, 255, 255}, color, scale);
}

Tensor render_sample(const Sample& sample, const std::vector<std::string>& class_names,
                     const Normalization& norm) {
  const Tensor& chw = sample.image;
  SPLAT_CHECK(chw.defined() && chw.device().is_cpu() && chw.dtype() == DType::f32 &&
                  chw.dim() == 3 && chw.size(0) == 3,
              "render_sample: image must be a normalised (3, H, W) f32 CPU tensor, got ",
              chw.defined() ? shape_str(chw.shape()) : std::string("undefined"));
  const Tensor src = contiguous_cpu(chw);
  const int64_t h = src.size(1), w = src.size(2);
  Tensor out = Tensor::empty({h, w, 3}, DType::u8);
  const float* in = src.data<float>();
  uint8_t* p = out.data<uint8_t>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < h * w; ++i) {
      const double v = in[c * h * w + i] * norm.std[c] + norm.mean[c];
      p[i * 3 + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
    }

  const Target& t = sample.target;
  const int64_t n = t.boxes.defined() ? t.boxes.size(0) : 0;
  const Tensor boxes = n > 0 ? contiguous_cpu(t.boxes) : Tensor();
  const Tensor labels = n > 0 ? contiguous_cpu(t.labels) : Tensor();
  if (t.masks.defined() && n > 0) {
    const Tensor masks = contiguous_cpu(t.masks);
    SPLAT_CHECK(masks.dim() == 3 && masks.size(0) == n, "render_sample: masks ",
                shape_str(masks.shape()), " do not match ", n, " boxes");
    const int64_t mh = std::min(h, masks.size(1)), mw = std::min(w, masks.size(2));
    for (int64_t k = 0; k < n; ++k) {
      // The mask of object k, cropped or zero-extended to the image.
      Tensor m = Tensor::empty({h, w}, DType::u8);
      std::fill_n(m.data<uint8_t>(), h * w, uint8_t{0});
      for (int64_t y = 0; y < mh; ++y)
        std::memcpy(m.data<uint8_t>() + y * w,
                    masks.data<uint8_t>() + (k * masks.size(1) + y) * masks.size(2),
                    static_cast<size_t>(mw));
      blend_mask(out, m, palette_color(k), kMaskAlpha);
    }
  }
  const Rgb grey{160, 160, 160};
  const int scale = tag_scale(h, w);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t label = labels.data<int64_t>()[k];
    const std::string name = label >= 0 && label < static_cast<int64_t>(class_names.size())
                                 ? class_names[static_cast<size_t>(label)]
                                 : std::to_string(label);
    draw_tagged_box(out, boxes.data<float>() + k * 4, name, palette_color(k), scale);
  }
  if (t.ignore_boxes.defined() && t.ignore_boxes.numel() > 0) {
    const Tensor ign = contiguous_cpu(t.ignore_boxes);
    for (int64_t k = 0; k < ign.size(0); ++k)
      draw_tagged_box(out, ign.data<float>() + k * 4, "crowd", grey, scale);
  }
  return out;
}

Tensor draw_detections(const Tensor& image, const Tensor& boxes, const Tensor& labels,
                       const Tensor& scores, const std::vector<std::string>& class_names,
                       const Tensor& masks) {
  check_cpu_tensor("draw_detections", "image", image, DType::u8, 3);
  check_cpu_tensor("draw_detections", "boxes", boxes, DType::f32, 2);
  check_cpu_tensor("draw_detections", "labels", labels, DType::i64, 1);
  check_cpu_tensor("draw_detections", "scores", scores, DType::f32, 1);
  const int64_t n = boxes.size(0);
  SPLAT_CHECK(image.size(2) == 3 && boxes.size(1) == 4 && labels.size(0) == n &&
                  scores.size(0) == n,
              "draw_detections: image ", shape_str(image.shape()), ", boxes ",
              shape_str(boxes.shape()), ", labels ", shape_str(labels.shape()), " and scores ",
              shape_str(scores.shape()), " are not an (H, W, 3) image and K detections");
  Tensor out = Tensor::empty(image.shape(), DType::u8);
  std::memcpy(out.raw_data(), contiguous_cpu(image).raw_data(), static_cast<size_t>(image.numel()));
  const Tensor b = contiguous_cpu(boxes), l = contiguous_cpu(labels), s = contiguous_cpu(scores);
  const int scale = tag_scale(out.size(0), out.size(1));
  // Lowest score first, so the most confident tags end up on top where boxes overlap.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t i, int64_t j) { return s.data<float>()[i] < s.data<float>()[j]; });
  if (masks.defined()) {
    SPLAT_CHECK(masks.device().is_cpu() && (masks.dtype() == DType::u8 || masks.dtype() == DType::b8) &&
                    masks.dim() == 3 && masks.size(0) == n && masks.size(1) == out.size(0) &&
                    masks.size(2) == out.size(1),
                "draw_detections: masks must be CPU u8 or bool (", n, ", ", out.size(0), ", ",
                out.size(1), "), got ", dtype_name(masks.dtype()), " ", shape_str(masks.shape()));
    const Tensor m = contiguous_cpu(masks);
    for (const int64_t k : order)
      blend_mask(out, mask_plane(m, k), palette_color(std::max<int64_t>(l.data<int64_t>()[k], 0)),
                 kMaskAlpha);
  }
  for (const int64_t k : order) {
    const int64_t label = l.data<int64_t>()[k];
    const bool named = label >= 0 && label < static_cast<int64_t>(class_names.size());
    char score[16];
    std::snprintf(score, sizeof score, " %.2f", static_cast<double>(s.data<float>()[k]));
    const std::string text =
        (named ? class_names[static_cast<size_t>(label)] : std::to_string(label)) + score;
    draw_tagged_box(out, b.data<float>() + k * 4, text, palette_color(std::max<int64_t>(label, 0)), scale);
  }
  return out;
}

} // namespace splat::data
