// Training and test transforms of the detectors' data pipeline (spec section 4, mmdet 2.x):
// Resize (keep ratio, multiscale `range` / `value`), RandomFlip (horizontal), Normalize, Pad.
//
// Conventions:
//  - Sample.image is (H, W, 3) u8 RGB (data/image.h) until normalize(), then (3, H, W) f32.
//  - Boxes are (n, 4) f32 x1 y1 x2 y2 in pixels of the current image, continuous coordinates
//    (a box covering the whole W-wide image has x1 = 0, x2 = W; no "+1").
//  - Masks are (n, H, W) u8 0/1 bitmaps of the current image, or polygons of it
//    (data/polygon_masks.h: mmdet's poly2mask=False), or neither when not loaded.
//  - Every transform takes the Sample by reference and replaces its tensors by new contiguous
//    CPU tensors; inputs may have any strides.
//  - Resampling: images bilinear with OpenCV's INTER_LINEAR geometry (half-pixel centres,
//    source coordinates clamped to the border, no antialiasing when shrinking), computed in
//    float and rounded to nearest; masks nearest with OpenCV's INTER_NEAREST rule (source index
//    floor(dst * src / dst_size), no half-pixel shift), as mmdet's BitmapMasks.rescale does.
//  - Randomness: a SampleRng keyed by (seed, epoch, sample index) - Philox4x32-10 with key =
//    seed and counter words (draw, lo32(index), hi32(index), epoch) - so a sample's
//    augmentation does not depend on which thread ran it or on other samples.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"
#include "data/polygon_masks.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace splat::data {

struct Target {
  Tensor boxes;  // (n, 4) f32, x1 y1 x2 y2
  Tensor labels; // (n) i64, contiguous 0-based class labels
  Tensor masks;  // (n, H, W) u8 0/1 bitmaps; undefined when not loaded as bitmaps
  std::optional<PolygonMasks> polygons; // n instances of the current image, when loaded as polygons
  Tensor ignore_boxes;                  // (k, 4) f32, iscrowd regions (undefined means none)
};

struct ImageMeta {
  std::string file_name;
  int64_t image_id = -1;
  int64_t ori_h = 0, ori_w = 0; // decoded image
  int64_t img_h = 0, img_w = 0; // after resize
  int64_t pad_h = 0, pad_w = 0; // after pad (equal to img_h/img_w before pad)
  double scale_factor = 1.0;    // the keep-ratio factor f of rescale_size
  // img_w / ori_w and img_h / ori_h: what box x and y coordinates were multiplied by (mmdet's
  // scale_factor array [w, h, w, h]); divide detections by these to return to the original image.
  double scale_w = 1.0, scale_h = 1.0;
  bool flipped = false;
};

struct Sample {
  Tensor image; // (H, W, 3) u8 RGB, then (3, H, W) f32 after normalize()
  Target target;
  ImageMeta meta;
};

// A keep-ratio target scale, as one of mmdet's img_scale tuples: the long side may be at most
// long_edge and the short side at most short_edge. Tuple order does not matter in mmdet, so
// scale(1333, 800) == scale(800, 1333).
struct Scale {
  int64_t long_edge = 1333;
  int64_t short_edge = 800;
};
Scale scale(int64_t a, int64_t b);

// Per-sample random numbers (see the conventions): draw k uses Philox block k of the sample.
class SampleRng {
public:
  SampleRng(uint64_t seed, uint64_t epoch, uint64_t index);
  double uniform();                        // [0, 1), 53 bits
  int64_t randint(int64_t lo, int64_t hi); // uniform integer in [lo, hi] (inclusive)

private:
  PhiloxBlock next();
  uint64_t seed_;
  uint32_t epoch_;
  uint64_t index_;
  uint32_t draw_ = 0;
};

// ---- Resize -------------------------------------------------------------------------------------

// mmcv's rescale_size with a (long_edge, short_edge) scale:
//   f = min(long_edge / max(h, w), short_edge / min(h, w)),
//   new_w = int(w * f + 0.5), new_h = int(h * f + 0.5)   (round half up, in double).
struct RescaledSize {
  int64_t h, w;
  double factor;
};
RescaledSize rescale_size(int64_t h, int64_t w, Scale s);

enum class MultiscaleMode {
  range, // long and short edges drawn uniformly from the integer ranges spanned by the list
  value, // one scale of the list, uniformly
};

// mmdet's Resize._random_scale: with one scale returns it; `range` needs exactly two scales.
Scale sample_scale(const std::vector<Scale>& scales, MultiscaleMode mode, SampleRng& rng);

// Bilinear resize of image (H, W, C) u8 to (out_h, out_w, C) u8 (conventions above).
Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w);
// Nearest resize of masks (n, H, W) u8 to (n, out_h, out_w) u8 (conventions above).
Tensor resize_nearest(const Tensor& masks, int64_t out_h, int64_t out_w);

// Resizes image, masks (bitmaps nearest, polygons scaled) and boxes of a u8 sample to
// rescale_size(H, W, s): boxes (and ignore boxes) are multiplied by new_w / W and new_h / H and
// clipped to [0, new_w] x [0, new_h] (mmdet's bbox_clip_border), in f32 as mmdet. Applied once, to
// the decoded image: sets meta.ori_* to the input size, img_* and pad_* to the new size,
// scale_factor, scale_w, scale_h. Target tensors that are undefined are left undefined.
void resize(Sample& sample, Scale s);

// ---- Flip, normalize, pad -----------------------------------------------------------------------

// Horizontal flip of a u8 sample: image and masks mirrored (polygons x' = W - x), boxes x1' = W -
// x2, x2' = W - x1. Toggles meta.flipped.
void flip_horizontal(Sample& sample);
// Flips with probability p (one rng draw, taken even when p is 0 or 1, so later draws do not
// shift with p): flips when uniform() < p.
void random_flip(Sample& sample, double p, SampleRng& rng);

// Per-channel normalisation of RGB images, in f32 as mmcv's imnormalize (cv2 converts its f64
// scalars to the image's f32): (x - f32(mean[c])) * f32(1 / std[c]).
struct Normalization {
  std::array<double, 3> mean;
  std::array<double, 3> std;
};
// The ResNeSt configs' values (spec section 4), RGB order.
inline constexpr Normalization kResNeStNormalization{{123.68, 116.779, 103.939},
                                                     {58.393, 57.12, 57.375}};
// (H, W, 3) u8 -> (3, H, W) f32.
void normalize(Sample& sample, const Normalization& norm);

// Zero-pads planes (P, H, W), f32 or u8, at the bottom and right to (P, h, w), h >= H, w >= W.
Tensor pad_to(const Tensor& planes, int64_t h, int64_t w);
// The smallest multiple of divisor (>= 1) that is >= n.
int64_t round_up(int64_t n, int64_t divisor);

// Pads the normalised (3, H, W) image and the bitmap masks at the bottom and right with zeros up
// to multiples of size_divisor; sets meta.pad_h, meta.pad_w. Boxes and polygon coordinates are
// unchanged (the polygons' size becomes the padded one).
void pad(Sample& sample, int64_t size_divisor);

// ---- Pipelines ----------------------------------------------------------------------------------

// Which sample a pipeline call is for: keys the SampleRng.
struct SampleKey {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  uint64_t index = 0;
};

// Input: a Sample with a u8 (H, W, 3) image, its target in original pixels and meta.file_name /
// image_id. Output: normalised, padded (3, Hp, Wp) f32 image, transformed target, full meta.
class Pipeline {
public:
  virtual ~Pipeline() = default;
  virtual Sample operator()(Sample sample, const SampleKey& key) const = 0;
};

struct TrainPipelineConfig {
  std::vector<Scale> scales{{1333, 640}, {1333, 800}}; // the Faster/Cascade "mstrain-range"
  MultiscaleMode mode = MultiscaleMode::range;
  double flip_prob = 0.5;
  Normalization norm = kResNeStNormalization;
  int64_t size_divisor = 32;
};

// Resize(sample_scale) -> random_flip -> normalize -> pad, as mmdet 2.x's train pipeline.
class TrainPipeline : public Pipeline {
public:
  explicit TrainPipeline(TrainPipelineConfig config = {});
  Sample operator()(Sample sample, const SampleKey& key) const override;
  const TrainPipelineConfig& config() const { return config_; }

private:
  TrainPipelineConfig config_;
};

struct TestPipelineConfig {
  Scale scale{1333, 800};
  Normalization norm = kResNeStNormalization;
  int64_t size_divisor = 32;
};

// Single-scale resize -> normalize -> pad; no randomness (the key is ignored).
class TestPipeline : public Pipeline {
public:
  explicit TestPipeline(TestPipelineConfig config = {});
  Sample operator()(Sample sample, const SampleKey& key) const override;
  const TestPipelineConfig& config() const { return config_; }

private:
  TestPipelineConfig config_;
};

} // namespace splat::data
