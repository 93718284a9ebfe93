// Boxes on the CPU: box_iou / iof against hand-worked values and a naive loop (MMDetection's
// formula), eps behaviour on degenerate boxes, empty sides; area, clip, scale, flip and format
// conversions by hand and by round trips; non-contiguous inputs; error messages.
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/ops/box_helpers.h"

#include <algorithm>
#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::boxes_of;
using splat::test::check_close;
using splat::test::noncontiguous;
using splat::test::random_boxes;
using splat::test::to_vector;

namespace {

// MMDetection's bbox_overlaps written out for one pair, in double.
double naive_overlap(const double* a, const double* b, IouMode mode, double eps) {
  const double w = std::max(std::min(a[2], b[2]) - std::max(a[0], b[0]), 0.0);
  const double h = std::max(std::min(a[3], b[3]) - std::max(a[1], b[1]), 0.0);
  const double inter = w * h;
  const double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
  const double denom = mode == IouMode::iou ? area_a + area_b - inter : area_a;
  return inter / (eps > 0 ? std::max(denom, eps) : denom);
}

Tensor naive_iou(const Tensor& a, const Tensor& b, IouMode mode, double eps) {
  const auto va = to_vector<double>(a), vb = to_vector<double>(b);
  const int64_t n = a.size(0), m = b.size(0);
  std::vector<double> out(static_cast<size_t>(n * m));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      out[static_cast<size_t>(i * m + j)] = naive_overlap(
          &va[static_cast<size_t>(4 * i)], &vb[static_cast<size_t>(4 * j)], mode, eps);
  return from_vector<double>(out, {n, m});
}

} // namespace

TEST_CASE("box_iou and iof: hand-worked overlaps") {
  const Tensor a = boxes_of({0, 0, 2, 2, 0, 0, 4, 4});
  const Tensor b = boxes_of({1, 1, 3, 3, 5, 5, 6, 6, 0, 0, 2, 2});
  // [0,0,2,2] vs [1,1,3,3]: inter 1, union 7; vs a disjoint box: 0; vs itself: 1.
  // [0,0,4,4] contains the first and the last: inter 4 over union 16 (iou) or its area 16 (iof).
  check_close(box_iou(a, b), from_vector<double>({1 / 7., 0, 1, 4 / 16., 0, 4 / 16.}, {2, 3}),
              1e-15, 0);
  check_close(box_iou(a, b, IouMode::iof),
              from_vector<double>({1 / 4., 0, 1, 4 / 16., 0, 4 / 16.}, {2, 3}), 1e-15, 0);
  // iof is not symmetric: [0,0,2,2] covers a quarter of [0,0,4,4].
  check_close(box_iou(b, a, IouMode::iof), from_vector<double>({1 / 4., 1, 0, 0, 1, 1}, {3, 2}),
              1e-15, 0);
  // Touching edges do not overlap.
  check_close(box_iou(boxes_of({0, 0, 1, 1}), boxes_of({1, 0, 2, 1})),
              zeros({1, 1}, {.dtype = DType::f64}));
}

TEST_CASE("box_iou matches the naive formula on random boxes, f32 and f64, strided inputs") {
  for (DType dt : {DType::f64, DType::f32}) {
    const Tensor a = random_boxes(37, 50, 30, dt), b = random_boxes(23, 50, 30, dt);
    for (IouMode mode : {IouMode::iou, IouMode::iof}) {
      CAPTURE(static_cast<int>(mode));
      const double tol = dt == DType::f64 ? 1e-14 : 1e-6;
      check_close(box_iou(a, b, mode), to(naive_iou(a, b, mode, 1e-6), dt), tol, tol);
      check_close(box_iou(noncontiguous(a), transpose(contiguous(transpose(b, 0, 1)), 0, 1), mode),
                  box_iou(a, b, mode), 0, 0);
    }
  }
}

TEST_CASE("box_iou: eps turns 0/0 of degenerate boxes into 0; eps = 0 gives NaN as torchvision") {
  const Tensor z = boxes_of({1, 1, 1, 1, 0, 0, 4, 0}); // a point and a segment
  const Tensor with_eps = box_iou(z, z);
  for (double v : to_vector<double>(with_eps)) CHECK(v == 0);
  const auto raw = to_vector<double>(box_iou(z, z, IouMode::iou, 0));
  for (double v : raw) CHECK(std::isnan(v));
  // A zero-area box against a real one: 0 either way.
  CHECK(to_vector<double>(box_iou(z, boxes_of({0, 0, 2, 2}), IouMode::iou, 0)) ==
        std::vector<double>{0, 0});
}

TEST_CASE("box_iou with an empty side") {
  const Tensor a = random_boxes(3), none = zeros({0, 4});
  CHECK(box_iou(none, a).shape() == Shape{0, 3});
  CHECK(box_iou(a, none).shape() == Shape{3, 0});
  CHECK(box_iou(none, none, IouMode::iof).shape() == Shape{0, 0});
}

TEST_CASE("box_area, clip, scale, flip: hand-worked values, any leading dims") {
  const Tensor b = boxes_of({-2, 1, 5, 9, 3, 4, 12, 20});
  check_close(box_area(b), from_vector<double>({56, 144}, {2}));
  check_close(clip_boxes(b, {.height = 10, .width = 8}), boxes_of({0, 1, 5, 9, 3, 4, 8, 10}));
  check_close(scale_boxes(b, 2, 0.5), boxes_of({-4, 0.5, 10, 4.5, 6, 2, 24, 10}));
  // MMDetection v2: x1' = w - x2, x2' = w - x1.
  check_close(flip_boxes(b, 10), boxes_of({5, 1, 12, 9, -2, 4, 7, 20}));
  check_close(flip_boxes(flip_boxes(b, 10), 10), b);
  const Tensor batched = reshape(b, {2, 1, 4});
  CHECK(box_area(batched).shape() == Shape{2, 1});
  check_close(reshape(clip_boxes(noncontiguous(batched), {10, 8}), {2, 4}), clip_boxes(b, {10, 8}));
}

TEST_CASE("convert_boxes: COCO xywh and centre formats, round trips") {
  const Tensor b = boxes_of({1, 2, 4, 8, -3, 0, 5, 1});
  check_close(convert_boxes(b, BoxFormat::xyxy, BoxFormat::xywh),
              boxes_of({1, 2, 3, 6, -3, 0, 8, 1}));
  check_close(convert_boxes(b, BoxFormat::xyxy, BoxFormat::cxcywh),
              boxes_of({2.5, 5, 3, 6, 1, 0.5, 8, 1}));
  const Tensor r = random_boxes(20, 100, 40, DType::f64);
  for (BoxFormat f : {BoxFormat::xyxy, BoxFormat::xywh, BoxFormat::cxcywh}) {
    CAPTURE(static_cast<int>(f));
    const Tensor there = convert_boxes(noncontiguous(r), BoxFormat::xyxy, f);
    check_close(convert_boxes(there, f, BoxFormat::xyxy), r, 1e-12, 1e-12);
    check_close(convert_boxes(there, f, f), there, 0, 0);
  }
}

TEST_CASE("box ops: bad inputs give clear errors") {
  const Tensor good = random_boxes(2);
  CHECK_THROWS_WITH_ALL(box_iou(zeros({2, 3}), good), "box_iou", "a", "(N, 4)", "[2, 3]");
  CHECK_THROWS_WITH_ALL(box_iou(good, zeros({2, 4}, {.dtype = DType::i64})), "box_iou", "b",
                        "floating", "i64");
  CHECK_THROWS_WITH_ALL(box_iou(good, to(good, DType::f64)), "box_iou", "f32", "f64");
  CHECK_THROWS_WITH_ALL(box_iou(reshape(good, {1, 2, 4}), good), "box_iou", "(N, 4)", "[1, 2, 4]");
  CHECK_THROWS_WITH_ALL(box_iou(good, good, IouMode::iou, -1), "box_iou", "eps", "-1");
  CHECK_THROWS_WITH_ALL(clip_boxes(zeros({4}), {-1, 3}), "clip_boxes", "negative", "-1");
  CHECK_THROWS_WITH_ALL(convert_boxes(zeros({3, 5}), BoxFormat::xyxy, BoxFormat::xywh),
                        "convert_boxes", "[3, 5]");
}
