#include "data/shapes.h"

#include "core/error.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>

namespace splat::data {
namespace {

constexpr const char* kShapeNames[kMaxShapeCategories] = {
    "rectangle", "ellipse", "triangle", "diamond",   "pentagon",
    "hexagon",   "star",    "cross",    "trapezoid", "arrow"};
constexpr double kPi = 3.14159265358979323846;
constexpr uint64_t kMinArea = 24;     // pixels; smaller shapes (mostly off-image) are redrawn
constexpr int kAttempts = 20;         // placements tried per shape

double uniform_in(SampleRng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }

// A colour from hue, saturation and value in [0, 1].
Rgb hsv(double h, double s, double v) {
  const double c = v * s, hp = h * 6, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1));
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hp) % 6) {
  case 0: r = c, g = x; break;
  case 1: r = x, g = c; break;
  case 2: g = c, b = x; break;
  case 3: g = x, b = c; break;
  case 4: r = x, b = c; break;
  default: r = c, b = x; break;
  }
  const double m = v - c;
  auto byte = [](double u) {
    return static_cast<uint8_t>(std::lround(std::clamp(u, 0.0, 1.0) * 255));
  };
  return {byte(r + m), byte(g + m), byte(b + m)};
}

// Backgrounds are muted (low saturation) so the saturated shapes stand out.
Rgb background_color(SampleRng& rng) {
  return hsv(rng.uniform(), uniform_in(rng, 0.0, 0.35), uniform_in(rng, 0.3, 0.9));
}
// The colour of a shape of category id `category` (1-based). Both kinds of colouring draw the
// same three numbers, so an image's geometry does not depend on `colors`.
Rgb shape_color(const ShapesOptions& o, int64_t category, SampleRng& rng) {
  double hue = rng.uniform();
  if (o.colors == ShapesOptions::Colors::by_kind)
    hue = (static_cast<double>(category - 1) + 0.25 + 0.5 * hue) / o.categories;
  return hsv(hue, uniform_in(rng, 0.65, 1.0), uniform_in(rng, 0.55, 1.0));
}

uint8_t mix(uint8_t a, uint8_t b, double t) {
  return static_cast<uint8_t>(std::lround(a + (static_cast<double>(b) - a) * t));
}

// Noise, a linear gradient, stripes at an angle, or a checkerboard.
void paint_background(const Tensor& image, SampleRng& rng) {
  const int64_t h = image.size(0), w = image.size(1);
  uint8_t* p = image.data<uint8_t>();
  const Rgb a = background_color(rng), b = background_color(rng);
  const int kind = static_cast<int>(rng.randint(0, 3));
  const double angle = uniform_in(rng, 0, kPi), ca = std::cos(angle), sa = std::sin(angle);
  const double period = uniform_in(rng, 4, 16);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      double t = 0;
      switch (kind) {
      case 0: t = rng.uniform() * 0.5; break;
      case 1:
        t = std::clamp((x * ca + y * sa) / (w * std::fabs(ca) + h * std::fabs(sa)), 0.0, 1.0);
        break;
      case 2: t = std::fmod(std::floor((x * ca + y * sa + 4096) / period), 2.0); break;
      default:
        t = static_cast<double>(
            (static_cast<int64_t>(x / period) + static_cast<int64_t>(y / period)) % 2);
      }
      uint8_t* px = p + (y * w + x) * 3;
      px[0] = mix(a.r, b.r, t);
      px[1] = mix(a.g, b.g, t);
      px[2] = mix(a.b, b.b, t);
    }
  }
}

// The outline of shape kind `kind` around the origin with radius about 1 (before scaling), as
// (x, y) pairs; `r` in [0.4, 1] varies the proportions of the kinds that have one.
std::vector<std::pair<double, double>> outline(int kind, double r) {
  std::vector<std::pair<double, double>> v;
  auto regular = [&](int n, double radius, double phase) {
    for (int i = 0; i < n; ++i)
      v.emplace_back(radius * std::cos(phase + 2 * kPi * i / n),
                     radius * std::sin(phase + 2 * kPi * i / n));
  };
  switch (kind) {
  case 0: v = {{-1, -r}, {1, -r}, {1, r}, {-1, r}}; break; // rectangle
  case 1:                                                  // ellipse
    for (int i = 0; i < 32; ++i)
      v.emplace_back(std::cos(2 * kPi * i / 32), r * std::sin(2 * kPi * i / 32));
    break;
  case 2: v = {{0, -1}, {0.95 * r + 0.05, 0.8}, {-0.95, 0.8}}; break; // triangle
  case 3: v = {{1, 0}, {0, r}, {-1, 0}, {0, -r}}; break;              // diamond
  case 4: regular(5, 1, -kPi / 2); break;                             // pentagon
  case 5: regular(6, 1, 0); break;                                    // hexagon
  case 6:                                                             // star
    for (int i = 0; i < 10; ++i) {
      const double rad = i % 2 == 0 ? 1.0 : 0.45, a = -kPi / 2 + kPi * i / 5;
      v.emplace_back(rad * std::cos(a), rad * std::sin(a));
    }
    break;
  case 7: { // cross
    const double t = 0.35;
    v = {{-t, -1}, {t, -1}, {t, -t}, {1, -t}, {1, t},   {t, t},
         {t, 1},   {-t, 1}, {-t, t}, {-1, t}, {-1, -t}, {-t, -t}};
    break;
  }
  case 8: v = {{-1, r}, {1, r}, {0.5, -r}, {-0.5, -r}}; break; // trapezoid
  default:                                                     // arrow
    v = {{-1, -0.25 * r}, {0.2, -0.25 * r}, {0.2, -0.7},   {1, 0},
         {0.2, 0.7},      {0.2, 0.25 * r},  {-1, 0.25 * r}};
  }
  return v;
}

// To 1/100 pixel, as written to the JSON (printed with two decimals, parsed back exactly).
double hundredths(double v) { return std::round(v * 100) / 100; }

// Half the shape's longer side: the outlines span about [-1, 1].
double random_half_size(const ShapesOptions& o, int64_t h, int64_t w, SampleRng& rng) {
  const double side = static_cast<double>(std::min(h, w));
  if (o.max_object == 0) return uniform_in(rng, 0.1, 0.3) * side;
  const double lo = std::min(o.min_object, side), hi = std::min(o.max_object, side);
  if (o.object_sizes == ShapesOptions::Sizes::uniform) return 0.5 * uniform_in(rng, lo, hi);
  return 0.5 * std::exp(uniform_in(rng, std::log(lo), std::log(hi)));
}

// A shape of half size `size` centred at (cx, cy).
Polygon random_polygon(int kind, double cx, double cy, double size, SampleRng& rng) {
  const double angle = uniform_in(rng, 0, 2 * kPi), c = std::cos(angle), s = std::sin(angle);
  const double r = uniform_in(rng, 0.4, 1.0);
  Polygon poly;
  for (auto [x, y] : outline(kind, r)) {
    poly.push_back(hundredths(cx + size * (c * x - s * y)));
    poly.push_back(hundredths(cy + size * (s * x + c * y)));
  }
  return poly;
}

uint64_t overlap(const Tensor& a, const Tensor& b) {
  const uint8_t *pa = a.data<uint8_t>(), *pb = b.data<uint8_t>();
  uint64_t n = 0;
  for (int64_t i = 0; i < a.numel(); ++i) n += (pa[i] & pb[i]) != 0;
  return n;
}

struct Placed {
  ShapeObject object;
  Tensor mask; // (H, W) u8, decoded from object.rle
  Rgb color;
};

// The fewest pixels a shape of this half size must show on the image to be kept: kMinArea, or
// for tiny shapes (asked for with a small min_object) about 1/4 of a thin one's full area.
uint64_t min_shape_area(const ShapesOptions& o, double size) {
  if (o.max_object == 0) return kMinArea;
  return std::clamp<uint64_t>(static_cast<uint64_t>(size * size / 4), 4, kMinArea);
}

// Whether `mask` (of area `area`) may go on top of the placed objects.
bool acceptable(const Tensor& mask, uint64_t area, uint64_t min_area, double max_occlusion,
                const std::vector<Placed>& placed) {
  if (area < min_area) return false;
  for (const Placed& p : placed)
    if (static_cast<double>(overlap(p.mask, mask)) >
        max_occlusion * static_cast<double>(p.object.area))
      return false;
  return true;
}

// Gaussian noise of standard deviation sigma on every channel of every pixel (Box-Muller).
void add_noise(const Tensor& image, double sigma, SampleRng& rng) {
  uint8_t* p = image.data<uint8_t>();
  const int64_t n = image.numel();
  for (int64_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2 * std::log(1 - rng.uniform())), a = 2 * kPi * rng.uniform();
    const double z[2] = {r * std::cos(a), r * std::sin(a)};
    for (int64_t k = 0; k < 2 && i + k < n; ++k)
      p[i + k] = static_cast<uint8_t>(std::clamp(std::lround(p[i + k] + sigma * z[k]), 0L, 255L));
  }
}

void finish_object(ShapeObject& o) {
  o.area = rle_area(o.rle);
  const BoxXywh b = rle_to_bbox(o.rle);
  std::copy(b.begin(), b.end(), o.bbox);
}

// A cluster of 5-12 small discs of one category: a crowd region (one RLE for all).
std::optional<Placed> random_crowd(const ShapesOptions& o, int64_t h, int64_t w, SampleRng& rng,
                                   const std::vector<Placed>& placed) {
  const double side = static_cast<double>(std::min(h, w));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const double cx = uniform_in(rng, 0.2, 0.8) * static_cast<double>(w);
    const double cy = uniform_in(rng, 0.2, 0.8) * static_cast<double>(h);
    const double spread = uniform_in(rng, 0.08, 0.15) * side;
    const int64_t n = rng.randint(5, 12);
    std::vector<Polygon> discs;
    for (int64_t i = 0; i < n; ++i) {
      const double x = cx + uniform_in(rng, -spread, spread),
                   y = cy + uniform_in(rng, -spread, spread);
      const double radius = uniform_in(rng, 1.5, 3.5);
      Polygon disc;
      for (int k = 0; k < 12; ++k) {
        disc.push_back(x + radius * std::cos(2 * kPi * k / 12));
        disc.push_back(y + radius * std::sin(2 * kPi * k / 12));
      }
      discs.push_back(std::move(disc));
    }
    Placed p;
    p.object.category_id = rng.randint(1, o.categories);
    p.object.iscrowd = true;
    p.object.rle = rle_from_polygons(discs, h, w);
    finish_object(p.object);
    p.mask = rle_decode(p.object.rle);
    p.color = shape_color(o, p.object.category_id, rng);
    if (acceptable(p.mask, p.object.area, kMinArea, o.max_occlusion, placed)) return p;
  }
  return std::nullopt;
}

// The outline() kind of each category (category id k + 1 draws kind kinds[k]).
std::vector<int> category_kinds(const ShapesOptions& o) {
  std::vector<int> kinds;
  for (const std::string& name : o.kinds) {
    const auto* it = std::find(std::begin(kShapeNames), std::end(kShapeNames), name);
    SPLAT_CHECK(it != std::end(kShapeNames), "make-shapes: unknown shape kind '", name,
                "' (known: rectangle, ellipse, triangle, diamond, pentagon, hexagon, star, cross, "
                "trapezoid, arrow)");
    const int kind = static_cast<int>(it - std::begin(kShapeNames));
    SPLAT_CHECK(std::find(kinds.begin(), kinds.end(), kind) == kinds.end(),
                "make-shapes: shape kind '", name, "' is listed twice");
    kinds.push_back(kind);
  }
  if (o.kinds.empty())
    for (int k = 0; k < o.categories; ++k) kinds.push_back(k);
  return kinds;
}

} // namespace

void check_shapes_options(const ShapesOptions& o) {
  SPLAT_CHECK(o.categories >= 3 && o.categories <= kMaxShapeCategories,
              "make-shapes: categories must be in [3, ", kMaxShapeCategories, "], got ",
              o.categories);
  SPLAT_CHECK(o.kinds.empty() || o.kinds.size() == static_cast<size_t>(o.categories),
              "make-shapes: ", o.kinds.size(), " kinds named for ", o.categories, " categories");
  category_kinds(o); // checks the names
  SPLAT_CHECK(o.min_size >= 16 && o.min_size <= o.max_size,
              "make-shapes: need 16 <= min_size <= max_size, got min_size ", o.min_size,
              ", max_size ", o.max_size);
  SPLAT_CHECK(o.max_size <= 4096, "make-shapes: max_size ", o.max_size, " exceeds 4096");
  SPLAT_CHECK(o.train >= 0 && o.val >= 0, "make-shapes: image counts must be >= 0, got train ",
              o.train, ", val ", o.val);
  SPLAT_CHECK(o.jpeg_quality >= 1 && o.jpeg_quality <= 100,
              "make-shapes: jpeg_quality must be in [1, 100], got ", o.jpeg_quality);
  SPLAT_CHECK((o.min_object == 0 && o.max_object == 0) ||
                  (o.min_object >= 2 && o.min_object <= o.max_object),
              "make-shapes: need 2 <= min_object <= max_object (or both 0), got min_object ",
              o.min_object, ", max_object ", o.max_object);
  SPLAT_CHECK(o.max_occlusion >= 0 && o.max_occlusion < 1,
              "make-shapes: max_occlusion must be in [0, 1), got ", o.max_occlusion);
  SPLAT_CHECK(o.overlap_prob >= 0 && o.overlap_prob <= 1,
              "make-shapes: overlap_prob must be in [0, 1], got ", o.overlap_prob);
  SPLAT_CHECK(o.noise >= 0 && o.noise <= 128, "make-shapes: noise must be in [0, 128], got ",
              o.noise);
}

std::vector<std::string> shape_category_names(const ShapesOptions& options) {
  check_shapes_options(options);
  std::vector<std::string> names;
  for (int kind : category_kinds(options)) names.emplace_back(kShapeNames[kind]);
  return names;
}

ShapesImage generate_shapes_image(const ShapesOptions& options, int split, int64_t index) {
  check_shapes_options(options);
  SampleRng rng(options.seed, static_cast<uint64_t>(split), static_cast<uint64_t>(index));
  const int64_t h = rng.randint(options.min_size, options.max_size);
  const int64_t w = rng.randint(options.min_size, options.max_size);
  ShapesImage out;
  out.image = Tensor::empty({h, w, 3}, DType::u8);
  paint_background(out.image, rng);

  const std::vector<int> kinds = category_kinds(options);
  std::vector<Placed> placed;
  const int64_t count = rng.randint(1, 6);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t category = rng.randint(0, options.categories - 1);
    const int kind = kinds[static_cast<size_t>(category)];
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      Placed p;
      p.object.category_id = category + 1;
      const double size = random_half_size(options, h, w, rng);
      double cx = uniform_in(rng, 0, static_cast<double>(w));
      double cy = uniform_in(rng, 0, static_cast<double>(h));
      if (options.overlap_prob > 0 && !placed.empty() && rng.uniform() < options.overlap_prob) {
        // Centred in an earlier shape's box, so that it likely hides part of that one.
        const double* b = placed[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(placed.size()) - 1))].object.bbox;
        cx = b[0] + b[2] * rng.uniform(), cy = b[1] + b[3] * rng.uniform();
      }
      p.object.polygon = random_polygon(kind, cx, cy, size, rng);
      p.object.rle = rle_from_polygon(p.object.polygon, h, w);
      finish_object(p.object);
      p.mask = rle_decode(p.object.rle);
      p.color = shape_color(options, p.object.category_id, rng);
      if (acceptable(p.mask, p.object.area, min_shape_area(options, size), options.max_occlusion,
                     placed)) {
        placed.push_back(std::move(p));
        break;
      }
    }
  }
  if (rng.randint(0, 5) == 0)
    if (auto crowd = random_crowd(options, h, w, rng, placed))
      placed.push_back(std::move(*crowd));
  for (Placed& p : placed) {
    blend_mask(out.image, p.mask, p.color, 1.0);
    out.objects.push_back(std::move(p.object));
  }
  if (options.noise > 0) add_noise(out.image, options.noise, rng);
  return out;
}

namespace {

// Appends printf-formatted text.
template <class... Args> void append(std::string& s, const char* fmt, Args... args) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  s.append(buf, static_cast<size_t>(n));
}

std::string image_file_name(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld.jpg", static_cast<long long>(index + 1));
  return buf;
}

void append_number_list(std::string& s, const double* v, size_t n, const char* fmt) {
  s += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) s += ", ";
    append(s, fmt, v[i]);
  }
  s += ']';
}

void append_annotation(std::string& s, const ShapeObject& o, int64_t id, int64_t image_id) {
  append(s, "{\"id\": %lld, ", static_cast<long long>(id));
  append(s, "\"image_id\": %lld, ", static_cast<long long>(image_id));
  append(s, "\"category_id\": %lld, \"bbox\": ", static_cast<long long>(o.category_id));
  append_number_list(s, o.bbox, 4, "%.17g");
  append(s, ", \"area\": %llu, ", static_cast<unsigned long long>(o.area));
  append(s, "\"iscrowd\": %d, \"segmentation\": ", o.iscrowd ? 1 : 0);
  if (o.iscrowd) {
    s += "{\"counts\": [";
    for (size_t i = 0; i < o.rle.counts.size(); ++i)
      append(s, i > 0 ? ", %u" : "%u", o.rle.counts[i]);
    append(s, "], \"size\": [%lld, ", static_cast<long long>(o.rle.height));
    append(s, "%lld]}}", static_cast<long long>(o.rle.width));
  } else {
    s += '[';
    append_number_list(s, o.polygon.data(), o.polygon.size(), "%.2f");
    s += "]}";
  }
}

// One split: images written to dir/<split>/, the annotation file to json_path.
void write_split(const std::filesystem::path& dir, const std::string& split_name, int split,
                 int64_t count, const ShapesOptions& options) {
  const std::filesystem::path image_dir = dir / split_name;
  std::filesystem::create_directories(image_dir);
  std::vector<std::vector<ShapeObject>> objects(static_cast<size_t>(count));
  std::vector<std::pair<int64_t, int64_t>> sizes(static_cast<size_t>(count));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
  // Images are independent (each has its own random stream), so they are made in parallel.
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < count; ++i) {
    const auto k = static_cast<size_t>(i);
    try {
      ShapesImage img = generate_shapes_image(options, split, i);
      write_jpeg((image_dir / image_file_name(i)).string(), img.image, options.jpeg_quality);
      sizes[k] = {img.image.size(0), img.image.size(1)};
      objects[k] = std::move(img.objects);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);

  std::string json = "{\"info\": {\"description\": \"splat synthetic shapes\"},\n\"images\": [";
  for (int64_t i = 0; i < count; ++i) {
    const auto [h, w] = sizes[static_cast<size_t>(i)];
    json += i > 0 ? ",\n" : "\n";
    append(json, "{\"id\": %lld, ", static_cast<long long>(i + 1));
    json += "\"file_name\": \"" + image_file_name(i) + "\", ";
    append(json, "\"height\": %lld, ", static_cast<long long>(h));
    append(json, "\"width\": %lld}", static_cast<long long>(w));
  }
  json += "],\n\"annotations\": [";
  int64_t id = 0;
  for (int64_t i = 0; i < count; ++i) {
    for (const ShapeObject& o : objects[static_cast<size_t>(i)]) {
      json += id > 0 ? ",\n" : "\n";
      append_annotation(json, o, ++id, i + 1);
    }
  }
  json += "],\n\"categories\": [";
  const auto names = shape_category_names(options);
  for (size_t k = 0; k < names.size(); ++k) {
    json += k > 0 ? ",\n" : "\n";
    append(json, "{\"id\": %zu, ", k + 1);
    json += "\"name\": \"" + names[k] + "\", \"supercategory\": \"shape\"}";
  }
  json += "]}\n";
  const std::filesystem::path json_path =
      dir / "annotations" / ("instances_" + split_name + ".json");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(json_path.c_str(), "wb"),
                                                    std::fclose);
  SPLAT_CHECK(f != nullptr, "make-shapes: cannot open ", json_path.string(), " for writing");
  SPLAT_CHECK(std::fwrite(json.data(), 1, json.size(), f.get()) == json.size() &&
                  std::fflush(f.get()) == 0,
              "make-shapes: writing ", json_path.string(), " failed");
}

} // namespace

std::string shapes_options_text(const ShapesOptions& o) {
  std::string kinds;
  for (const std::string& k : shape_category_names(o)) kinds += (kinds.empty() ? "" : ", ") + k;
  return str("train = ", o.train, "\nval = ", o.val, "\nmin_size = ", o.min_size, "\nmax_size = ", o.max_size,
             "\nseed = ", o.seed, "\nkinds = ", kinds, "\njpeg_quality = ", o.jpeg_quality,
             "\nmin_object = ", o.min_object, "\nmax_object = ", o.max_object, "\nobject_sizes = ",
             o.object_sizes == ShapesOptions::Sizes::uniform ? "uniform" : "log_uniform", "\nmax_occlusion = ",
             o.max_occlusion, "\noverlap_prob = ", o.overlap_prob, "\nnoise = ", o.noise, "\ncolors = ",
             o.colors == ShapesOptions::Colors::by_kind ? "by_kind" : "random", "\n");
}

void make_shapes(const std::string& dir, const ShapesOptions& options) {
  check_shapes_options(options);
  const std::filesystem::path root(dir);
  std::filesystem::create_directories(root / "annotations");
  write_split(root, "train", 0, options.train, options);
  write_split(root, "val", 1, options.val, options);
}

} // namespace splat::data
