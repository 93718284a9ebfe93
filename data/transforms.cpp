// Detector data transforms (conventions in data/transforms.h). Single-threaded on purpose: the
// loader runs one sample per worker thread.
#include "data/transforms.h"

#include "core/error.h"
#include "core/philox.h"
#include "data/tensor_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace splat::data {
namespace {

// ---- Argument checks ----------------------------------------------------------------------------

void check_u8_image(std::string_view op, const Tensor& image) {
  SPLAT_CHECK(image.defined(), op, ": image is an undefined tensor");
  SPLAT_CHECK(image.device().is_cpu() && image.dtype() == DType::u8 && image.dim() == 3 &&
                  image.size(2) == 3 && image.size(0) > 0 && image.size(1) > 0,
              op, ": image must be a cpu (H, W, 3) u8 RGB tensor with H, W > 0, got ",
              dtype_name(image.dtype()), " ", shape_str(image.shape()), " on ", image.device(),
              " (was it already normalised?)");
}

void check_boxes(std::string_view op, std::string_view what, const Tensor& boxes) {
  if (!boxes.defined()) return;
  check_cpu_tensor(op, what, boxes, DType::f32, 2);
  SPLAT_CHECK(boxes.size(1) == 4, op, ": ", what, " must be (n, 4) x1 y1 x2 y2, got ",
              shape_str(boxes.shape()));
}

// Target consistent with an image of h x w pixels.
void check_target(std::string_view op, const Target& t, int64_t h, int64_t w) {
  check_boxes(op, "target.boxes", t.boxes);
  check_boxes(op, "target.ignore_boxes", t.ignore_boxes);
  if (t.labels.defined()) {
    check_cpu_tensor(op, "target.labels", t.labels, DType::i64, 1);
    SPLAT_CHECK(t.boxes.defined() && t.labels.size(0) == t.boxes.size(0), op, ": target.labels ",
                shape_str(t.labels.shape()), " do not match target.boxes ",
                t.boxes.defined() ? shape_str(t.boxes.shape()) : std::string("(undefined)"));
  }
  if (t.masks.defined()) {
    check_cpu_tensor(op, "target.masks", t.masks, DType::u8, 3);
    SPLAT_CHECK(t.masks.size(1) == h && t.masks.size(2) == w, op, ": target.masks ",
                shape_str(t.masks.shape()), " do not match the image size ", h, " x ", w);
    SPLAT_CHECK(t.boxes.defined() && t.masks.size(0) == t.boxes.size(0), op, ": target.masks ",
                shape_str(t.masks.shape()), " and target.boxes ",
                t.boxes.defined() ? shape_str(t.boxes.shape()) : std::string("(undefined)"),
                " count different objects");
  }
  if (t.polygons) {
    SPLAT_CHECK(t.polygons->height == h && t.polygons->width == w, op, ": target.polygons of ",
                t.polygons->height, " x ", t.polygons->width, " do not match the image size ", h,
                " x ", w);
    SPLAT_CHECK(t.boxes.defined() &&
                    static_cast<int64_t>(t.polygons->instances.size()) == t.boxes.size(0),
                op, ": target.polygons has ", t.polygons->instances.size(),
                " instances but target.boxes is ",
                t.boxes.defined() ? shape_str(t.boxes.shape()) : std::string("(undefined)"));
  }
}

// ---- Shared tensor kernels ----------------------------------------------------------------------

// A new (n, 4) f32 tensor with f(x1, y1, x2, y2) applied to each row (in place on a float[4]).
template <class F> Tensor map_boxes(const Tensor& boxes, F f) {
  if (!boxes.defined()) return boxes;
  const Tensor in = contiguous_cpu(boxes);
  Tensor out = Tensor::empty(boxes.shape(), DType::f32);
  float* b = out.data<float>();
  if (in.numel() > 0)
    std::memcpy(b, in.data<float>(), static_cast<size_t>(in.numel()) * sizeof(float));
  for (int64_t i = 0; i < out.size(0); ++i) f(b + 4 * i);
  return out;
}

// Mirrors the middle dim of t viewed as (rows, width, block) elements of any dtype.
Tensor mirror_width(const Tensor& t, int64_t rows, int64_t width, int64_t block) {
  const Tensor in = contiguous_cpu(t);
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  const auto bytes = static_cast<int64_t>(t.itemsize()) * block;
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t x = 0; x < width; ++x)
      std::memcpy(dst + (r * width + x) * bytes, src + (r * width + width - 1 - x) * bytes,
                  static_cast<size_t>(bytes));
  return out;
}

// OpenCV INTER_LINEAR taps along one axis: source index i0, the clamped neighbour i1 and the
// weight of i1. OpenCV computes the source coordinate in float from a double scale.
struct LinearTaps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w1;
};
LinearTaps linear_taps(int64_t src, int64_t dst) {
  LinearTaps t;
  t.i0.resize(dst), t.i1.resize(dst), t.w1.resize(dst);
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  for (int64_t d = 0; d < dst; ++d) {
    float f = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
    auto i = static_cast<int64_t>(std::floor(f));
    f -= static_cast<float>(i);
    if (i < 0) i = 0, f = 0;
    if (i >= src - 1) i = src - 1, f = 0;
    t.i0[d] = i;
    t.i1[d] = std::min(i + 1, src - 1);
    t.w1[d] = f;
  }
  return t;
}

// OpenCV INTER_NEAREST source indices: floor(d * src / dst), no half-pixel shift.
std::vector<int64_t> nearest_taps(int64_t src, int64_t dst) {
  std::vector<int64_t> idx(dst);
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  for (int64_t d = 0; d < dst; ++d)
    idx[d] = std::min(static_cast<int64_t>(std::floor(static_cast<double>(d) * scale)), src - 1);
  return idx;
}

void check_out_size(std::string_view op, int64_t out_h, int64_t out_w) {
  SPLAT_CHECK(out_h > 0 && out_w > 0, op, ": output size must be positive, got ", out_h, " x ",
              out_w);
}

} // namespace

// ---- Scales and randomness ----------------------------------------------------------------------

Scale scale(int64_t a, int64_t b) {
  SPLAT_CHECK(a > 0 && b > 0, "scale: edges must be positive, got (", a, ", ", b, ")");
  return {std::max(a, b), std::min(a, b)};
}

SampleRng::SampleRng(uint64_t seed, uint64_t epoch, uint64_t index)
    : seed_(seed), epoch_(static_cast<uint32_t>(epoch)), index_(index) {
  SPLAT_CHECK(epoch <= UINT32_MAX, "SampleRng: epoch ", epoch, " does not fit 32 bits");
}

PhiloxBlock SampleRng::next() {
  SPLAT_CHECK(draw_ < UINT32_MAX, "SampleRng: more than 2^32 - 1 draws for one sample");
  return philox4x32_10(PhiloxBlock{{draw_++, static_cast<uint32_t>(index_),
                                    static_cast<uint32_t>(index_ >> 32), epoch_}},
                       static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
}

double SampleRng::uniform() { return philox_uniform<double>(next()); }

int64_t SampleRng::randint(int64_t lo, int64_t hi) {
  SPLAT_CHECK(lo <= hi, "SampleRng::randint: empty range [", lo, ", ", hi, "]");
  return philox_randint(next(), lo, static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1);
}

RescaledSize rescale_size(int64_t h, int64_t w, Scale s) {
  SPLAT_CHECK(h > 0 && w > 0, "rescale_size: image size must be positive, got ", h, " x ", w);
  SPLAT_CHECK(s.long_edge > 0 && s.short_edge > 0, "rescale_size: scale must be positive, got (",
              s.long_edge, ", ", s.short_edge, ")");
  const double f =
      std::min(static_cast<double>(s.long_edge) / static_cast<double>(std::max(h, w)),
               static_cast<double>(s.short_edge) / static_cast<double>(std::min(h, w)));
  const auto nh = static_cast<int64_t>(static_cast<double>(h) * f + 0.5);
  const auto nw = static_cast<int64_t>(static_cast<double>(w) * f + 0.5);
  SPLAT_CHECK(nh > 0 && nw > 0, "rescale_size: image ", h, " x ", w, " rescaled to (", s.long_edge,
              ", ", s.short_edge, ") would be ", nh, " x ", nw, " (aspect ratio too extreme)");
  return {nh, nw, f};
}

Scale sample_scale(const std::vector<Scale>& scales, MultiscaleMode mode, SampleRng& rng) {
  SPLAT_CHECK(!scales.empty(), "sample_scale: no scales given");
  if (scales.size() == 1) return scales[0];
  if (mode == MultiscaleMode::value)
    return scales[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(scales.size()) - 1))];
  SPLAT_CHECK(scales.size() == 2, "sample_scale: mode range needs exactly 2 scales, got ",
              scales.size());
  const auto [lo_long, hi_long] = std::minmax(scales[0].long_edge, scales[1].long_edge);
  const auto [lo_short, hi_short] = std::minmax(scales[0].short_edge, scales[1].short_edge);
  // mmdet draws the long edge first, then the short one.
  const int64_t long_edge = rng.randint(lo_long, hi_long);
  const int64_t short_edge = rng.randint(lo_short, hi_short);
  return {long_edge, short_edge};
}

// ---- Resampling ---------------------------------------------------------------------------------

Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w) {
  check_cpu_tensor("resize_bilinear", "image", image, DType::u8, 3);
  check_out_size("resize_bilinear", out_h, out_w);
  const int64_t h = image.size(0), w = image.size(1), c = image.size(2);
  SPLAT_CHECK(h > 0 && w > 0 && c > 0, "resize_bilinear: empty image ", shape_str(image.shape()));
  const Tensor in = contiguous_cpu(image);
  Tensor out = Tensor::empty({out_h, out_w, c}, DType::u8);
  const LinearTaps tx = linear_taps(w, out_w), ty = linear_taps(h, out_h);
  const uint8_t* src = in.data<uint8_t>();
  uint8_t* dst = out.data<uint8_t>();
  // Horizontally interpolated source rows, cached: consecutive output rows share source rows.
  // A miss evicts the slot not holding `keep`, the other row the current output row needs.
  std::vector<float> rows[2] = {std::vector<float>(out_w * c), std::vector<float>(out_w * c)};
  int64_t cached[2] = {-1, -1};
  auto horizontal = [&](int64_t sy, int64_t keep) -> const float* {
    for (int k = 0; k < 2; ++k)
      if (cached[k] == sy) return rows[k].data();
    const int k = cached[0] == keep ? 1 : 0;
    const uint8_t* line = src + sy * w * c;
    float* r = rows[k].data();
    for (int64_t x = 0; x < out_w; ++x) {
      const uint8_t* a = line + tx.i0[x] * c;
      const uint8_t* b = line + tx.i1[x] * c;
      const float f = tx.w1[x];
      for (int64_t ch = 0; ch < c; ++ch)
        r[x * c + ch] = static_cast<float>(a[ch]) * (1.0f - f) + static_cast<float>(b[ch]) * f;
    }
    cached[k] = sy;
    return r;
  };
  for (int64_t y = 0; y < out_h; ++y) {
    const float* r0 = horizontal(ty.i0[y], ty.i1[y]);
    const float* r1 = horizontal(ty.i1[y], ty.i0[y]);
    const float f = ty.w1[y];
    uint8_t* o = dst + y * out_w * c;
    for (int64_t i = 0; i < out_w * c; ++i) {
      const float v = r0[i] * (1.0f - f) + r1[i] * f;
      o[i] = static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f));
    }
  }
  return out;
}

Tensor resize_nearest(const Tensor& masks, int64_t out_h, int64_t out_w) {
  check_cpu_tensor("resize_nearest", "masks", masks, DType::u8, 3);
  check_out_size("resize_nearest", out_h, out_w);
  const int64_t n = masks.size(0), h = masks.size(1), w = masks.size(2);
  Tensor out = Tensor::empty({n, out_h, out_w}, DType::u8);
  if (n == 0) return out;
  SPLAT_CHECK(h > 0 && w > 0, "resize_nearest: empty masks ", shape_str(masks.shape()));
  const Tensor in = contiguous_cpu(masks);
  const std::vector<int64_t> sx = nearest_taps(w, out_w), sy = nearest_taps(h, out_h);
  const uint8_t* src = in.data<uint8_t>();
  uint8_t* dst = out.data<uint8_t>();
  for (int64_t m = 0; m < n; ++m)
    for (int64_t y = 0; y < out_h; ++y) {
      const uint8_t* line = src + (m * h + sy[y]) * w;
      uint8_t* o = dst + (m * out_h + y) * out_w;
      for (int64_t x = 0; x < out_w; ++x) o[x] = line[sx[x]];
    }
  return out;
}

// ---- Sample transforms --------------------------------------------------------------------------

void resize(Sample& sample, Scale s) {
  check_u8_image("resize", sample.image);
  const int64_t h = sample.image.size(0), w = sample.image.size(1);
  check_target("resize", sample.target, h, w);
  const RescaledSize size = rescale_size(h, w, s);
  sample.image = resize_bilinear(sample.image, size.h, size.w);
  // mmdet keeps these factors in a float32 array and multiplies float32 boxes by them.
  const auto fw = static_cast<float>(static_cast<double>(size.w) / static_cast<double>(w));
  const auto fh = static_cast<float>(static_cast<double>(size.h) / static_cast<double>(h));
  const auto max_x = static_cast<float>(size.w), max_y = static_cast<float>(size.h);
  auto scale_clip = [&](float* b) {
    b[0] = std::clamp(b[0] * fw, 0.0f, max_x);
    b[1] = std::clamp(b[1] * fh, 0.0f, max_y);
    b[2] = std::clamp(b[2] * fw, 0.0f, max_x);
    b[3] = std::clamp(b[3] * fh, 0.0f, max_y);
  };
  Target& t = sample.target;
  t.boxes = map_boxes(t.boxes, scale_clip);
  t.ignore_boxes = map_boxes(t.ignore_boxes, scale_clip);
  if (t.masks.defined()) t.masks = resize_nearest(t.masks, size.h, size.w);
  if (t.polygons) t.polygons = resize_polygons(*t.polygons, size.h, size.w);
  ImageMeta& m = sample.meta;
  m.ori_h = h, m.ori_w = w;
  m.img_h = m.pad_h = size.h;
  m.img_w = m.pad_w = size.w;
  m.scale_factor = size.factor;
  m.scale_w = static_cast<double>(size.w) / static_cast<double>(w);
  m.scale_h = static_cast<double>(size.h) / static_cast<double>(h);
}

void flip_horizontal(Sample& sample) {
  check_u8_image("flip_horizontal", sample.image);
  const int64_t h = sample.image.size(0), w = sample.image.size(1);
  check_target("flip_horizontal", sample.target, h, w);
  sample.image = mirror_width(sample.image, h, w, 3);
  const auto fw = static_cast<float>(w);
  auto mirror = [fw](float* b) {
    const float x1 = b[0];
    b[0] = fw - b[2];
    b[2] = fw - x1;
  };
  Target& t = sample.target;
  t.boxes = map_boxes(t.boxes, mirror);
  t.ignore_boxes = map_boxes(t.ignore_boxes, mirror);
  if (t.masks.defined()) t.masks = mirror_width(t.masks, t.masks.size(0) * h, w, 1);
  if (t.polygons) t.polygons = flip_polygons(*t.polygons);
  sample.meta.flipped = !sample.meta.flipped;
}

void random_flip(Sample& sample, double p, SampleRng& rng) {
  SPLAT_CHECK(p >= 0 && p <= 1, "random_flip: probability must be in [0, 1], got ", p);
  if (rng.uniform() < p) flip_horizontal(sample);
}

void normalize(Sample& sample, const Normalization& norm) {
  check_u8_image("normalize", sample.image);
  const Tensor in = contiguous_cpu(sample.image);
  const int64_t h = in.size(0), w = in.size(1), hw = h * w;
  Tensor out = Tensor::empty({3, h, w}, DType::f32);
  const uint8_t* src = in.data<uint8_t>();
  float* dst = out.data<float>();
  float mean[3], inv_std[3];
  for (int c = 0; c < 3; ++c) {
    SPLAT_CHECK(norm.std[c] > 0, "normalize: std[", c, "] must be positive, got ", norm.std[c]);
    mean[c] = static_cast<float>(norm.mean[c]);
    inv_std[c] = static_cast<float>(1.0 / norm.std[c]);
  }
  for (int64_t i = 0; i < hw; ++i)
    for (int64_t c = 0; c < 3; ++c)
      dst[c * hw + i] = (static_cast<float>(src[i * 3 + c]) - mean[c]) * inv_std[c];
  sample.image = out;
}

int64_t round_up(int64_t n, int64_t divisor) {
  SPLAT_CHECK(divisor >= 1, "round_up: divisor must be >= 1, got ", divisor);
  return (n + divisor - 1) / divisor * divisor;
}

Tensor pad_to(const Tensor& planes, int64_t h, int64_t w) {
  SPLAT_CHECK(planes.defined() && planes.device().is_cpu() && planes.dim() == 3 &&
                  (planes.dtype() == DType::f32 || planes.dtype() == DType::u8),
              "pad_to: planes must be a cpu (P, H, W) f32 or u8 tensor, got ",
              planes.defined() ? str(dtype_name(planes.dtype()), " ", shape_str(planes.shape()))
                               : std::string("an undefined tensor"));
  const int64_t p = planes.size(0), ih = planes.size(1), iw = planes.size(2);
  SPLAT_CHECK(h >= ih && w >= iw, "pad_to: target size ", h, " x ", w, " is smaller than planes ",
              shape_str(planes.shape()));
  const Tensor in = contiguous_cpu(planes);
  Tensor out = Tensor::empty({p, h, w}, planes.dtype());
  const auto item = static_cast<int64_t>(planes.itemsize());
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  // All-zero bytes are 0.0f and 0u.
  std::memset(dst, 0, static_cast<size_t>(out.numel() * item));
  for (int64_t k = 0; k < p; ++k)
    for (int64_t y = 0; y < ih; ++y)
      std::memcpy(dst + ((k * h + y) * w) * item, src + ((k * ih + y) * iw) * item,
                  static_cast<size_t>(iw * item));
  return out;
}

void pad(Sample& sample, int64_t size_divisor) {
  const Tensor& img = sample.image;
  check_cpu_tensor("pad", "image", img, DType::f32, 3);
  SPLAT_CHECK(img.size(0) == 3, "pad: image must be a normalised (3, H, W) f32 tensor, got ",
              shape_str(img.shape()));
  const int64_t h = img.size(1), w = img.size(2);
  check_target("pad", sample.target, h, w);
  const int64_t ph = round_up(h, size_divisor), pw = round_up(w, size_divisor);
  sample.image = pad_to(img, ph, pw);
  if (sample.target.masks.defined()) sample.target.masks = pad_to(sample.target.masks, ph, pw);
  if (sample.target.polygons) {
    sample.target.polygons->height = ph;
    sample.target.polygons->width = pw;
  }
  sample.meta.pad_h = ph;
  sample.meta.pad_w = pw;
}

// ---- Pipelines ----------------------------------------------------------------------------------

namespace {
void check_common(std::string_view op, const Normalization& norm, int64_t size_divisor) {
  for (int c = 0; c < 3; ++c)
    SPLAT_CHECK(norm.std[c] > 0, op, ": norm.std[", c, "] must be positive, got ", norm.std[c]);
  SPLAT_CHECK(size_divisor >= 1, op, ": size_divisor must be >= 1, got ", size_divisor);
}
void check_scale(std::string_view op, Scale s) {
  SPLAT_CHECK(s.long_edge > 0 && s.short_edge > 0 && s.long_edge >= s.short_edge, op,
              ": scales must be (long_edge, short_edge) with long >= short > 0, got (", s.long_edge,
              ", ", s.short_edge, ")");
}
} // namespace

TrainPipeline::TrainPipeline(TrainPipelineConfig config) : config_(std::move(config)) {
  SPLAT_CHECK(!config_.scales.empty(), "TrainPipeline: no scales");
  for (const Scale& s : config_.scales) check_scale("TrainPipeline", s);
  SPLAT_CHECK(config_.mode != MultiscaleMode::range || config_.scales.size() <= 2,
              "TrainPipeline: multiscale mode range needs 1 or 2 scales, got ",
              config_.scales.size());
  SPLAT_CHECK(config_.flip_prob >= 0 && config_.flip_prob <= 1,
              "TrainPipeline: flip_prob must be in [0, 1], got ", config_.flip_prob);
  check_common("TrainPipeline", config_.norm, config_.size_divisor);
}

Sample TrainPipeline::operator()(Sample sample, const SampleKey& key) const {
  SampleRng rng(key.seed, key.epoch, key.index);
  resize(sample, sample_scale(config_.scales, config_.mode, rng));
  random_flip(sample, config_.flip_prob, rng);
  normalize(sample, config_.norm);
  pad(sample, config_.size_divisor);
  return sample;
}

TestPipeline::TestPipeline(TestPipelineConfig config) : config_(config) {
  check_scale("TestPipeline", config_.scale);
  check_common("TestPipeline", config_.norm, config_.size_divisor);
}

Sample TestPipeline::operator()(Sample sample, const SampleKey&) const {
  resize(sample, config_.scale);
  normalize(sample, config_.norm);
  pad(sample, config_.size_divisor);
  return sample;
}

} // namespace splat::data
