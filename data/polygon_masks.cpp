#include "data/polygon_masks.h"

#include "core/error.h"

#include <algorithm>

namespace splat::data {

namespace {

// Applies f(x, y) -> (x', y') to every vertex of every polygon.
template <class F> PolygonMasks map_vertices(const PolygonMasks& masks, int64_t h, int64_t w, F f) {
  PolygonMasks out{h, w, masks.instances};
  for (std::vector<Polygon>& instance : out.instances)
    for (Polygon& p : instance)
      for (size_t i = 0; i + 1 < p.size(); i += 2) f(p[i], p[i + 1]);
  return out;
}

void check_instance(const PolygonMasks& masks, int64_t index, std::string_view op) {
  SPLAT_CHECK(index >= 0 && index < static_cast<int64_t>(masks.instances.size()), op,
              ": instance index ", index, " out of range for ", masks.instances.size(),
              " instances");
}

} // namespace

std::optional<std::vector<Polygon>> valid_polygons(const std::vector<Polygon>& polygons) {
  std::vector<Polygon> kept;
  for (const Polygon& p : polygons)
    if (p.size() % 2 == 0 && p.size() >= 6) kept.push_back(p);
  if (kept.empty()) return std::nullopt;
  return kept;
}

PolygonMasks resize_polygons(const PolygonMasks& masks, int64_t out_h, int64_t out_w) {
  SPLAT_CHECK(masks.height > 0 && masks.width > 0 && out_h > 0 && out_w > 0,
              "resize_polygons: sizes must be positive, got ", masks.height, "x", masks.width,
              " -> ", out_h, "x", out_w);
  const double sx = static_cast<double>(out_w) / static_cast<double>(masks.width);
  const double sy = static_cast<double>(out_h) / static_cast<double>(masks.height);
  return map_vertices(masks, out_h, out_w, [&](double& x, double& y) {
    x *= sx;
    y *= sy;
  });
}

PolygonMasks flip_polygons(const PolygonMasks& masks) {
  const auto w = static_cast<double>(masks.width);
  return map_vertices(masks, masks.height, masks.width, [w](double& x, double&) { x = w - x; });
}

Tensor crop_and_resize(const PolygonMasks& masks, std::span<const std::array<float, 4>> boxes,
                       std::span<const int64_t> assigned, int64_t out_size) {
  SPLAT_CHECK(boxes.size() == assigned.size(), "crop_and_resize: ", boxes.size(), " boxes but ",
              assigned.size(), " assigned instances");
  SPLAT_CHECK(out_size > 0, "crop_and_resize: out_size must be positive, got ", out_size);
  const auto n = static_cast<int64_t>(boxes.size());
  Tensor out = Tensor::empty({n, out_size, out_size}, DType::u8);
  uint8_t* dst = out.data<uint8_t>();
  const auto max_x = static_cast<float>(masks.width), max_y = static_cast<float>(masks.height);
  const auto out_f = static_cast<float>(out_size);
  for (int64_t i = 0; i < n; ++i) {
    check_instance(masks, assigned[i], "crop_and_resize");
    const std::array<float, 4>& b = boxes[i];
    const float x1 = std::clamp(b[0], 0.0f, max_x), y1 = std::clamp(b[1], 0.0f, max_y);
    const float x2 = std::clamp(b[2], 0.0f, max_x), y2 = std::clamp(b[3], 0.0f, max_y);
    // numpy: an int over a float32 scalar stays float32; the float64 coordinates then meet it.
    const float sx = out_f / std::max(x2 - x1, 1.0f), sy = out_f / std::max(y2 - y1, 1.0f);
    std::vector<Polygon> cut = masks.instances[static_cast<size_t>(assigned[i])];
    for (Polygon& p : cut)
      for (size_t k = 0; k + 1 < p.size(); k += 2) {
        p[k] = (p[k] - static_cast<double>(x1)) * static_cast<double>(sx);
        p[k + 1] = (p[k + 1] - static_cast<double>(y1)) * static_cast<double>(sy);
      }
    rle_decode_into(rle_from_polygons(cut, out_size, out_size),
                    std::span<uint8_t>(dst + i * out_size * out_size,
                                       static_cast<size_t>(out_size * out_size)));
  }
  return out;
}

Tensor polygons_to_bitmaps(const PolygonMasks& masks) {
  const auto n = static_cast<int64_t>(masks.instances.size());
  const int64_t h = masks.height, w = masks.width;
  Tensor out = Tensor::empty({n, h, w}, DType::u8);
  uint8_t* dst = out.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    rle_decode_into(rle_from_polygons(masks.instances[static_cast<size_t>(i)], h, w),
                    std::span<uint8_t>(dst + i * h * w, static_cast<size_t>(h * w)));
  return out;
}

} // namespace splat::data
