// DeltaXYWH box coder on the CPU: encode worked out by hand, encode-then-decode round trips
// with means/stds, the dw/dh clamp at |log(16/1000)|, clipping to the image, class-batched
// decoding against per-class slices, non-contiguous inputs, errors.
#include "ops/box_coder.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/ops/box_helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::boxes_of;
using splat::test::check_close;
using splat::test::noncontiguous;
using splat::test::random_boxes;
using splat::test::to_vector;

namespace {
const DeltaXYWHBBoxCoder kRcnn{.means = {0, 0, 0, 0}, .stds = {0.1, 0.1, 0.2, 0.2}};
const DeltaXYWHBBoxCoder kSkewed{.means = {0.1, -0.2, 0.05, 0.3}, .stds = {0.5, 0.25, 2, 0.7}};
} // namespace

TEST_CASE("bbox_encode: worked example with the R-CNN stds") {
  // Proposal centre (5, 5) size 10 x 10; GT centre (10, 15) size 10 x 20.
  const Tensor p = boxes_of({0, 0, 10, 10}), g = boxes_of({5, 5, 15, 25});
  check_close(bbox_encode(p, g), from_vector<double>({0.5, 1.0, 0, std::log(2.0)}, {1, 4}), 1e-15,
              0);
  check_close(bbox_encode(p, g, kRcnn),
              from_vector<double>({5, 10, 0, std::log(2.0) / 0.2}, {1, 4}), 1e-14, 0);
}

TEST_CASE("encode then decode returns the GT boxes (f32, f64, means and stds, strided)") {
  for (DType dt : {DType::f64, DType::f32}) {
    // Size ratios between 1/60 and 60: inside the clamp of 1000/16.
    const Tensor p = random_boxes(50, 100, 60, dt, 1.0), g = random_boxes(50, 100, 60, dt, 1.0);
    for (const DeltaXYWHBBoxCoder& c : {DeltaXYWHBBoxCoder{}, kRcnn, kSkewed}) {
      const Tensor d = bbox_encode(noncontiguous(p), g, c);
      const double tol = dt == DType::f64 ? 1e-12 : 2e-5;
      check_close(bbox_decode(p, noncontiguous(d), c), g, tol, tol);
    }
  }
}

TEST_CASE("bbox_decode clamps dw and dh to |log(16/1000)| and clips to max_shape") {
  // RoI centre (10, 10), size 4 x 2; dw = 10 and dh = -10 clamp to +/- log(62.5).
  const Tensor r = boxes_of({8, 9, 12, 11});
  const Tensor d = from_vector<double>({0.5, -1, 10, -10}, {1, 4});
  // gw = 4 * 62.5 = 250, gh = 2 / 62.5 = 0.032; centre (12, 8).
  check_close(bbox_decode(r, d), boxes_of({12 - 125, 8 - 0.016, 12 + 125, 8 + 0.016}), 1e-12,
              1e-12);
  check_close(bbox_decode(r, d, {}, SizeHW{.height = 6, .width = 100}), boxes_of({0, 6, 100, 6}),
              1e-12, 1e-12);
  // The clamp only bounds the deltas: just inside the limit nothing changes.
  const double m = std::abs(std::log(16.0 / 1000.0));
  const Tensor inside = from_vector<double>({0, 0, m - 1e-9, -(m - 1e-9)}, {1, 4});
  const Tensor beyond = from_vector<double>({0, 0, m + 5, -(m + 5)}, {1, 4});
  check_close(bbox_decode(r, beyond), bbox_decode(r, inside), 1e-7, 1e-7);
  // A custom ratio clip.
  const Tensor wide =
      bbox_decode(r, from_vector<double>({0, 0, 10, 0}, {1, 4}), {.wh_ratio_clip = 0.5});
  CHECK(to_vector<double>(wide)[2] - to_vector<double>(wide)[0] == doctest::Approx(8));
}

TEST_CASE("bbox_decode: class-batched deltas decode each class slice against its RoI") {
  const Tensor r = random_boxes(30, 100, 50, DType::f64, 1.0);
  const Tensor d = mul(randn({30, 12}, {.dtype = DType::f64}), 0.5);
  const Tensor all = bbox_decode(r, d, kRcnn, SizeHW{80, 90});
  REQUIRE(all.shape() == Shape{30, 12});
  for (int64_t c = 0; c < 3; ++c) {
    CAPTURE(c);
    check_close(narrow(all, 1, 4 * c, 4),
                bbox_decode(r, contiguous(narrow(d, 1, 4 * c, 4)), kRcnn, SizeHW{80, 90}), 0, 0);
  }
  CHECK(bbox_decode(zeros({0, 4}), zeros({0, 8})).shape() == Shape{0, 8});
  CHECK(bbox_encode(zeros({0, 4}), zeros({0, 4})).shape() == Shape{0, 4});
}

TEST_CASE("box coder: bad inputs give clear errors") {
  const Tensor b = random_boxes(3);
  CHECK_THROWS_WITH_ALL(bbox_encode(b, random_boxes(2)), "bbox_encode", "3 proposals", "2 gt");
  CHECK_THROWS_WITH_ALL(bbox_encode(b, b, {.stds = {1, 0, 1, 1}}), "bbox_encode", "stds[1] = 0");
  CHECK_THROWS_WITH_ALL(bbox_decode(b, zeros({3, 6})), "bbox_decode", "(N, 4 * num_classes)",
                        "[3, 6]");
  CHECK_THROWS_WITH_ALL(bbox_decode(b, zeros({2, 4})), "bbox_decode", "3 rois", "2 rows");
  CHECK_THROWS_WITH_ALL(bbox_decode(b, zeros({3, 4}, {.dtype = DType::f64})), "bbox_decode", "f32",
                        "f64");
  CHECK_THROWS_WITH_ALL(bbox_decode(b, zeros({3, 4}), {.wh_ratio_clip = 0}), "wh_ratio_clip");
}
