// Anchor generator on the CPU: base anchors of every level against values worked out by hand
// from MMDetection's formulas (w = s * 8 / sqrt(r), h = s * 8 * sqrt(r), centred at 0), the
// grid layout against a naive loop, valid flags for an unpadded image smaller than the feature
// map, anchor_inside_flags with allowed_border -1 / 0 / 2, errors.
#include "ops/anchors.h"
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/ops/box_helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::boxes_of;
using splat::test::check_close;
using splat::test::to_vector;

TEST_CASE("base anchors of the five RPN levels, worked out by hand") {
  const AnchorGenerator gen; // the spec's defaults
  REQUIRE(gen.num_base_anchors() == 3);
  const double r2 = std::sqrt(2.0);
  for (int64_t l = 0; l < 5; ++l) {
    CAPTURE(l);
    const double s = 4.0 * std::pow(2.0, static_cast<double>(l)); // base size = stride
    // Ratio 0.5 (h / w): w = 8 s sqrt(2), h = 8 s / sqrt(2); ratio 1: 8 s square; ratio 2:
    // transposed.
    const Tensor expected = boxes_of({-4 * r2 * s, -2 * r2 * s, 4 * r2 * s, 2 * r2 * s, //
                                      -4 * s, -4 * s, 4 * s, 4 * s,                     //
                                      -2 * r2 * s, -4 * r2 * s, 2 * r2 * s, 4 * r2 * s});
    check_close(base_anchors(gen, l, {.dtype = DType::f64}), expected, 1e-15, 1e-12);
    // f32 follows MMDetection's f32 arithmetic: within an ulp or two of the exact values.
    check_close(base_anchors(gen, l), to(expected, DType::f32), 3e-7, 0);
    // The spec's anchor sizes (sqrt of the area): 32, 64, 128, 256, 512 for every ratio.
    check_close(sqrt(box_area(base_anchors(gen, l, {.dtype = DType::f64}))),
                full({3}, 8 * s, {.dtype = DType::f64}), 1e-14, 0);
  }
}

TEST_CASE("base anchors: several scales are ordered ratio-major, centre offset moves the centre") {
  AnchorGenerator gen{
      .strides = {16}, .ratios = {1.0, 4.0}, .scales = {1.0, 2.0}, .center_offset = 0.5};
  // Centre 0.5 * 16 = 8; ratio 1 scale 1: 16 square; scale 2: 32; ratio 4: w = 16 s / 2, h = 16 s
  // * 2.
  check_close(base_anchors(gen, 0, {.dtype = DType::f64}),
              boxes_of({0, 0, 16, 16, -8, -8, 24, 24, 4, -8, 12, 24, 0, -24, 16, 40}));
  gen.base_sizes = {10};
  check_close(base_anchors(gen, 0, {.dtype = DType::f64}),
              boxes_of({0, 0, 10, 10, -5, -5, 15, 15, 2.5, -5, 7.5, 15, 0, -15, 10, 25}));
}

TEST_CASE("grid anchors: rows (y, x, a) row-major, shifted by the stride, for every level") {
  const AnchorGenerator gen;
  const std::vector<SizeHW> sizes = {{3, 5}, {2, 3}, {1, 2}, {2, 1}, {0, 4}};
  for (DType dt : {DType::f64, DType::f32}) {
    const std::vector<Tensor> anchors = grid_anchors(gen, sizes, {.dtype = dt});
    REQUIRE(anchors.size() == 5);
    for (size_t l = 0; l < 5; ++l) {
      CAPTURE(l);
      const auto [h, w] = sizes[l];
      REQUIRE(anchors[l].shape() == Shape{h * w * 3, 4});
      CHECK(anchors[l].dtype() == dt);
      const auto base =
          to_vector<double>(base_anchors(gen, static_cast<int64_t>(l), {.dtype = dt}));
      const auto got = to_vector<double>(anchors[l]);
      const auto stride = static_cast<double>(gen.strides[l]);
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          for (int64_t a = 0; a < 3; ++a)
            for (int64_t k = 0; k < 4; ++k) {
              const double shift = (k % 2 == 0 ? x : y) * stride;
              CHECK(got[static_cast<size_t>(((y * w + x) * 3 + a) * 4 + k)] ==
                    doctest::Approx(base[static_cast<size_t>(a * 4 + k)] + shift).epsilon(1e-7));
            }
    }
  }
  // A worked entry: level 0, cell (y 1, x 2), ratio 1: [-16, -16, 16, 16] + (8, 4, 8, 4).
  check_close(select(grid_anchors(gen, sizes, {.dtype = DType::f64})[0], 0, (1 * 5 + 2) * 3 + 1),
              from_vector<double>({-8, -12, 24, 20}, {4}));
}

TEST_CASE("valid flags: cells beyond ceil(pad_shape / stride) are invalid, per level") {
  const AnchorGenerator gen;
  // Batch padded to 64 x 96, this image's pad_shape 40 x 50.
  const std::vector<SizeHW> sizes = {{16, 24}, {8, 12}, {4, 6}, {2, 3}, {1, 2}};
  const std::vector<Tensor> flags = valid_flags(gen, sizes, {40, 50});
  REQUIRE(flags.size() == 5);
  for (size_t l = 0; l < 5; ++l) {
    CAPTURE(l);
    const auto [h, w] = sizes[l];
    const int64_t stride = gen.strides[l];
    const int64_t vh = std::min((40 + stride - 1) / stride, h),
                  vw = std::min((50 + stride - 1) / stride, w);
    REQUIRE(flags[l].shape() == Shape{h * w * 3});
    CHECK(flags[l].dtype() == DType::b8);
    const auto got = to_vector<int>(flags[l]);
    for (int64_t i = 0; i < h * w * 3; ++i) {
      const int64_t y = i / 3 / w, x = i / 3 % w;
      CHECK(got[static_cast<size_t>(i)] == (y < vh && x < vw));
    }
  }
  // Level 0: 10 of 16 rows and 13 of 24 columns; level 4 (stride 64): the one cell of each row.
  CHECK(sum(flags[0]).item<int64_t>() == 10 * 13 * 3);
  CHECK(sum(flags[4]).item<int64_t>() == 3);
}

TEST_CASE("anchor_inside_flags: allowed_border -1 keeps valid flags, b >= 0 tests the image") {
  // Image 10 (h) x 20 (w).
  const Tensor anchors = boxes_of({0,   0,   19, 9,   // inside
                                   0,   0,   20, 9,   // x2 == width: outside for b = 0
                                   -1,  2,   5,  5,   // x1 < 0
                                   3,   -2,  8,  10,  // y1 < 0 and y2 == height
                                   -30, -30, 60, 60,  // far outside
                                   1,   1,   2,  2}); // inside but flagged invalid
  const Tensor valid = from_vector<bool>({true, true, true, true, true, false}, {6});
  const SizeHW image{10, 20};
  CHECK(to_vector<int>(anchor_inside_flags(anchors, valid, image, -1)) ==
        std::vector<int>{1, 1, 1, 1, 1, 0});
  CHECK(to_vector<int>(anchor_inside_flags(anchors, valid, image, 0)) ==
        std::vector<int>{1, 0, 0, 0, 0, 0});
  CHECK(to_vector<int>(anchor_inside_flags(anchors, valid, image, 2)) ==
        std::vector<int>{1, 1, 1, 1, 0, 0});
}

TEST_CASE("anchors: bad configurations and inputs give clear errors") {
  const AnchorGenerator gen;
  CHECK_THROWS_WITH_ALL(grid_anchors(gen, {{2, 2}}), "grid_anchors", "1 feature sizes", "5 levels");
  CHECK_THROWS_WITH_ALL(base_anchors(gen, 5), "base_anchors", "level 5", "5 levels");
  CHECK_THROWS_WITH_ALL(base_anchors(AnchorGenerator{.ratios = {}}, 0), "ratios", "0 ratios");
  CHECK_THROWS_WITH_ALL(base_anchors(AnchorGenerator{.strides = {4, 8}, .base_sizes = {4}}, 0),
                        "1 base sizes", "2 levels");
  CHECK_THROWS_WITH_ALL(base_anchors(gen, 0, {.dtype = DType::i64}), "base_anchors", "i64");
  CHECK_THROWS_WITH_ALL(
      anchor_inside_flags(zeros({3, 4}), ones({2}, {.dtype = DType::b8}), {4, 4}, 0),
      "anchor_inside_flags", "valid", "(3)", "[2]");
}
