// The synthetic "shapes" dataset (`splat make-shapes`): a small COCO-format instance dataset the
// project generates itself, used by the demo and the training tests.
//
// Each image has a random size (each side uniform in [min_size, max_size], so aspect ratios vary),
// a textured background (noise, a linear gradient, stripes or a checkerboard) and 1-6 filled
// shapes in random colours. A shape's size is 20-60% of the image's shorter side, or, with
// min_object/max_object set, drawn log-uniformly in that range of pixels (as object sizes spread
// in natural images: as many small as large ones). Optional Gaussian pixel noise over the whole
// painted image (sensor noise) makes edges and colours less clean. Shape colours are random, or
// with colors = by_kind drawn from a hue band per category. Categories are shape kinds:
// the first `categories` of rectangle, ellipse, triangle, diamond, pentagon, hexagon, star, cross,
// trapezoid, arrow, or the ones `kinds` names. Shapes are rotated at random and their proportions
// vary, so some kinds can look alike (a diamond near r = 1 is a rotated square, small pentagons
// and ellipses are a few pixels apart): `kinds` picks a set whose labels the pixels decide.
//
// Annotations, all consistent with the masks a COCO reader makes from them:
// - segmentation: one polygon per shape with the vertices rounded to 1/100 pixel as written to the
//   JSON (ellipses as 32-gons). Like COCO's amodal crowd-free instances, the polygon is the WHOLE
//   shape; later shapes are painted on top of earlier ones. Occlusion is kept partial: a new
//   shape is rejected (and redrawn) when it would cover more than max_occlusion (default 40%)
//   of any earlier shape's mask; overlap_prob places shapes onto earlier ones to make it common. The image is painted from exactly the masks the COCO polygon rasteriser
//   (data/masks.h) makes from the written polygons, so masks and pixels agree.
// - bbox: the xywh bounding box of that mask (pycocotools toBbox), area: its pixel count.
// - iscrowd: about one image in six also gets a crowd region: a cluster of small blobs of one
//   category annotated together as one iscrowd = 1 annotation with an uncompressed RLE.
// Generation is deterministic given the seed (Philox; no dependency on thread count).
#pragma once

#include "core/tensor.h"
#include "data/masks.h"

#include <cstdint>
#include <string>
#include <vector>

namespace splat::data {

constexpr int kMaxShapeCategories = 10;

struct ShapesOptions {
  int64_t train = 64, val = 16;          // images per split
  int64_t min_size = 64, max_size = 160; // image side range in pixels
  uint64_t seed = 0;
  int categories = 5; // 3..10
  // The kinds that are the categories, by name, in category-id order (id k + 1 is kinds[k]);
  // empty: the first `categories` kinds. When set, categories must be its size.
  std::vector<std::string> kinds;
  int jpeg_quality = 92;
  // A shape's longer side in pixels (before rotation), in [min_object, max_object] and at most
  // the image's shorter side, drawn as object_sizes says; both 0: 20-60% of the shorter side,
  // uniformly.
  double min_object = 0, max_object = 0;
  // log_uniform: as many shapes of 10-20 px as of 90-180 px (natural images' spread, many small
  // objects); uniform: every length equally likely (most shapes large).
  enum class Sizes : uint8_t { log_uniform, uniform } object_sizes = Sizes::log_uniform;
  double max_occlusion = 0.4; // of an earlier shape's area that a later one may cover, in [0, 1)
  // Probability that a shape is centred inside an earlier one's box instead of anywhere (making
  // occlusion common; without it, small shapes rarely touch).
  double overlap_prob = 0;
  double noise = 0;           // std of the Gaussian noise added to every pixel (0-255 levels)
  // random: any saturated hue for any kind, so only the outline tells the kind (the hard set);
  // by_kind: category k's hues lie in a band of its own (centre (k + 0.5) / categories, half
  // width a quarter of the spacing), as in toy sets where colour and outline both tell the class.
  enum class Colors : uint8_t { random, by_kind } colors = Colors::random;
};

// One annotation of a generated image (category_id is 1-based, as in the JSON).
struct ShapeObject {
  int64_t category_id = 0;
  bool iscrowd = false;
  Polygon polygon;     // the written polygon (empty for a crowd region)
  Rle rle;             // the mask: from the polygon, or the crowd region's own
  double bbox[4] = {}; // x, y, w, h of the mask
  uint64_t area = 0;
};

struct ShapesImage {
  Tensor image; // (H, W, 3) u8
  std::vector<ShapeObject> objects;
};

// Throws Error naming the first invalid option (counts, sizes, categories, JPEG quality); what
// make_shapes and generate_shapes_image check first.
void check_shapes_options(const ShapesOptions& options);

// The categories' names (category id k + 1 is names[k]): kinds, or the first `categories` kinds.
std::vector<std::string> shape_category_names(const ShapesOptions& options);

// Image `index` of a split (0 train, 1 val) for these options: deterministic in (seed, split,
// index) alone.
ShapesImage generate_shapes_image(const ShapesOptions& options, int split, int64_t index);

// The options, one "key = value" line each (what a config's generated folder is stamped with,
// train/trainer/train_data.h).
std::string shapes_options_text(const ShapesOptions& options);

// Writes dir/annotations/instances_{train,val}.json and dir/{train,val}/NNNNNN.jpg. Throws Error
// for invalid options or unwritable paths.
void make_shapes(const std::string& dir, const ShapesOptions& options);

} // namespace splat::data
