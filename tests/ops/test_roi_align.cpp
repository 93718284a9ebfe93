// RoIAlign and the multi-level extractor on the CPU: bins of a linear feature map against the
// closed form (bilinear sampling reproduces a linear function exactly, so a bin's mean is the
// function at the bin centre), samples outside the map, the non-aligned minimum size,
// float64 gradcheck (aligned or not, sampling ratios 0/1/2, several images, border and
// outside boxes), mmdet's level rule, multi-level gathering, empty RoIs, bad input.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/roi_align.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/roi_align_boxes.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::to_vector;

namespace {

// f(y, x) = 2x - 3y + 1 on an (h, w) map, channel c adds c.
Tensor linear_map(int64_t c, int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(2.0 * x - 3.0 * y + 1 + k);
  return from_vector<double>(v, {1, c, h, w});
}

} // namespace

TEST_CASE("roi_align: a linear map gives the function at each bin centre") {
  const Tensor f = linear_map(2, 20, 24);
  for (bool aligned : {true, false})
    for (int64_t ratio : {0, 1, 2, 3}) {
      CAPTURE(aligned);
      CAPTURE(ratio);
      // Boxes inside the map, in image coordinates of stride 2 (spatial_scale 0.5).
      const std::vector<double> boxes{0, 6, 8, 30, 26, 0, 10.5, 3.25, 40.75, 33.5};
      const RoiAlignOptions o{.output_h = 3,
                              .output_w = 4,
                              .spatial_scale = 0.5,
                              .sampling_ratio = ratio,
                              .aligned = aligned};
      const auto out = to_vector<double>(roi_align(f, from_vector<double>(boxes, {2, 5}), o));
      for (int64_t r = 0; r < 2; ++r) {
        const double* b = boxes.data() + r * 5;
        const double off = aligned ? 0.5 : 0.0;
        const double x1 = b[1] * 0.5 - off, y1 = b[2] * 0.5 - off;
        const double bw = (b[3] - b[1]) * 0.5 / 4, bh = (b[4] - b[2]) * 0.5 / 3;
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t ph = 0; ph < 3; ++ph)
            for (int64_t pw = 0; pw < 4; ++pw) {
              const double cx = x1 + (pw + 0.5) * bw, cy = y1 + (ph + 0.5) * bh;
              CHECK(out[static_cast<size_t>(((r * 2 + c) * 3 + ph) * 4 + pw)] ==
                    doctest::Approx(2 * cx - 3 * cy + 1 + c).epsilon(1e-12));
            }
      }
    }
}

TEST_CASE("roi_align: samples outside the map, clamping, and the non-aligned minimum size") {
  const Tensor f = linear_map(1, 4, 5);
  auto one = [&](std::vector<double> box, bool aligned, int64_t ratio) {
    const RoiAlignOptions o{
        .output_h = 1, .output_w = 1, .sampling_ratio = ratio, .aligned = aligned};
    return to_vector<double>(roi_align(f, from_vector<double>(box, {1, 5}), o))[0];
  };
  // Every sample beyond x < -1: zero.
  CHECK(one({0, -9, 0, -3, 2}, false, 2) == 0);
  // One sample at (y, x) = (1, -0.5) with aligned=false and box [-1, 0, 0, 2]: x in [-1, 0]
  // clamps to 0, so f(1, 0) = -2.
  CHECK(one({0, -1, 0, 0, 2}, false, 1) == doctest::Approx(-2));
  // A zero-width box grows to width 1; two adaptive samples along y: y = 3.5 clamps to the
  // last row (f(3, 1.5) = -5), y = 4.5 > H = 4 gives zero; the mean divides by both.
  CHECK(one({0, 1, 3, 1, 5}, false, 0) == doctest::Approx(-5.0 / 2));
  // A point box without `aligned` becomes 1x1: one adaptive sample at its centre + 0.5.
  CHECK(one({0, 2, 1, 2, 1}, false, 0) == doctest::Approx(2 * 2.5 - 3 * 1.5 + 1));
  // The same box aligned has size 0: no samples, output 0.
  CHECK(one({0, 2, 1, 2, 1}, true, 0) == 0);
}

TEST_CASE("roi_align: float64 gradcheck") {
  const Tensor f = leaf({2, 2, 6, 7});
  const Tensor rois = test::roi_boxes(10, 2, 12, 14, 3);
  for (bool aligned : {true, false})
    for (int64_t ratio : {0, 1, 2}) {
      CAPTURE(aligned);
      CAPTURE(ratio);
      const RoiAlignOptions o{.output_h = 2,
                              .output_w = 3,
                              .spatial_scale = 0.5,
                              .sampling_ratio = ratio,
                              .aligned = aligned};
      CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return roi_align(in[0], rois, o); },
                      {f});
    }
}

TEST_CASE("roi_align: strided features and rois, float32, empty rois") {
  const Tensor f = leaf({2, 3, 8, 9}).detach();
  const Tensor rois = test::roi_boxes(12, 2, 16, 18, 4);
  const RoiAlignOptions o{.output_h = 3, .output_w = 3, .spatial_scale = 0.5};
  const Tensor expected = roi_align(f, rois, o);
  const Tensor fs = transpose(contiguous(transpose(f, 1, 3)), 1, 3);
  check_close(roi_align(fs, test::noncontiguous(rois), o), expected, 0, 0);
  check_close(roi_align(to(f, DType::f32), to(rois, DType::f32), o), expected, 1e-5, 1e-5);
  const Tensor fe = leaf({2, 3, 8, 9});
  const Tensor out = roi_align(fe, zeros({0, 5}, {.dtype = DType::f64}), o);
  CHECK(out.shape() == Shape{0, 3, 3, 3});
  autograd::backward({out}, {zeros_like(out)});
  check_close(fe.grad(), zeros_like(fe), 0, 0);
}

TEST_CASE("map_roi_levels: mmdet's rule, finest scale 56, clamped to the levels") {
  // sqrt areas 20, 111.9, 112, 223, 224, 448, 5000, and a negative-area box.
  const std::vector<double> side{20, 111.9, 112, 223, 224, 448, 5000};
  std::vector<double> v;
  for (double s : side) v.insert(v.end(), {0, 10, 10, 10 + s, 10 + s});
  v.insert(v.end(), {0, 10, 10, 5, 30});
  const Tensor rois = from_vector<double>(v, {8, 5});
  CHECK(to_vector<int64_t>(map_roi_levels(rois, 4)) ==
        std::vector<int64_t>{0, 0, 1, 1, 2, 3, 3, 0});
  CHECK(to_vector<int64_t>(map_roi_levels(rois, 2)) ==
        std::vector<int64_t>{0, 0, 1, 1, 1, 1, 1, 0});
  CHECK(to_vector<int64_t>(map_roi_levels(rois, 4, 112)) ==
        std::vector<int64_t>{0, 0, 0, 0, 1, 2, 3, 0});
  CHECK(map_roi_levels(zeros({0, 5}), 4).shape() == Shape{0});
}

TEST_CASE("multi_level_roi_align: each RoI pooled from its level, gradients to every level") {
  const std::vector<double> strides{4, 8, 16, 32};
  std::vector<Tensor> feats;
  for (int64_t l = 0; l < 4; ++l) feats.push_back(leaf({2, 1, 16 >> l, 12 >> l}));
  // Boxes of every level around a 64 x 48 image, in mixed level order.
  const std::vector<double> v{0, 0, 0, 500, 480, 1, 5,   5,  40,  50,  0, 30, 20, 190, 160,
                              1, 0, 0, 120, 120, 0, 100, 80, 130, 100, 1, 12, 40, 262, 290};
  const Tensor rois = from_vector<double>(v, {6, 5});
  const RoiAlignOptions o{.output_h = 3, .output_w = 2};
  const Tensor out = multi_level_roi_align(feats, rois, strides, o);
  const auto levels = to_vector<int64_t>(map_roi_levels(rois, 4));
  CHECK(levels == std::vector<int64_t>{3, 0, 1, 1, 0, 2});
  for (int64_t r = 0; r < 6; ++r) {
    CAPTURE(r);
    const size_t l = static_cast<size_t>(levels[static_cast<size_t>(r)]);
    RoiAlignOptions ol = o;
    ol.spatial_scale = 1 / strides[l];
    check_close(select(out, 0, r), select(roi_align(feats[l], narrow(rois, 0, r, 1), ol), 0, 0), 0,
                0);
  }
  CHECK_GRADCHECK(
      [&](const std::vector<Tensor>& in) { return multi_level_roi_align(in, rois, strides, o); },
      feats);
  CHECK(multi_level_roi_align(feats, zeros({0, 5}, {.dtype = DType::f64}), strides, o).shape() ==
        Shape{0, 1, 3, 2});
}

TEST_CASE("roi_align: bad input gives a clear error") {
  const Tensor f = zeros({2, 3, 8, 8}), rois = zeros({4, 5});
  CHECK_THROWS_WITH_ALL(roi_align(f, zeros({4, 4}), {}), "roi_align", "rois must be (K, 5)",
                        "[4, 4]");
  CHECK_THROWS_WITH_ALL(roi_align(zeros({3, 8, 8}), rois, {}), "features must be (N, C, H, W)",
                        "[3, 8, 8]");
  CHECK_THROWS_WITH_ALL(roi_align(f, zeros({4, 5}, {.dtype = DType::f64}), {}), "dtype mismatch");
  CHECK_THROWS_WITH_ALL(roi_align(f, from_vector<float>({2, 0, 0, 1, 1}, {1, 5}), {}),
                        "roi 0 has batch index 2", "[0, 2)");
  CHECK_THROWS_WITH_ALL(roi_align(f, rois, {.sampling_ratio = -1}), "sampling_ratio must be >= 0");
  CHECK_THROWS_WITH_ALL(roi_align(f, rois, {.output_h = 0}), "output size must be positive");
  CHECK_THROWS_WITH_ALL(roi_align(f, rois, {.spatial_scale = 0}), "spatial_scale");
  CHECK_THROWS_WITH_ALL(multi_level_roi_align({f, f}, rois, {4}, {}),
                        "2 feature maps and 1 strides");
  CHECK_THROWS_WITH_ALL(multi_level_roi_align({f, zeros({2, 4, 4, 4})}, rois, {4, 8}, {}), "one C",
                        "[2, 4, 4, 4]");
}
