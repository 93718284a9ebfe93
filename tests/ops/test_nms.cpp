// NMS on the CPU: hand-worked suppression, the strict threshold (IoU exactly at the threshold
// keeps both boxes), ties in score broken by index, identical and zero-area boxes, max_kept as
// a prefix, batched NMS only within groups, the defining properties of the result on random
// boxes (checked with an independent IoU), the score pre-selection helpers, errors.
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/nms.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/ops/box_helpers.h"

#include <algorithm>
#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::boxes_of;
using splat::test::noncontiguous;
using splat::test::random_boxes;
using splat::test::to_vector;
using I64 = std::vector<int64_t>;

namespace {

Tensor scores_of(const std::vector<double>& v) {
  return from_vector<double>(v, {static_cast<int64_t>(v.size())});
}

double naive_iou(const double* a, const double* b) {
  const double w = std::max(std::min(a[2], b[2]) - std::max(a[0], b[0]), 0.0);
  const double h = std::max(std::min(a[3], b[3]) - std::max(a[1], b[1]), 0.0);
  const double inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

// The result is exactly the greedy NMS: kept indices in (score desc, index asc) order, no kept
// pair of one group above the threshold, and every dropped box above the threshold with a kept
// box of its group ranked before it.
void check_nms_properties(const Tensor& boxes, const Tensor& scores, const Tensor& groups,
                          double thr, const Tensor& keep) {
  const auto b = to_vector<double>(boxes), s = to_vector<double>(scores);
  const auto g = groups.defined() ? to_vector<int64_t>(groups) : I64(s.size(), 0);
  const auto k = to_vector<int64_t>(keep);
  const auto n = static_cast<int64_t>(s.size());
  const auto before = [&](int64_t i, int64_t j) { return s[i] > s[j] || (s[i] == s[j] && i < j); };
  CHECK(std::is_sorted(k.begin(), k.end(), before));
  std::vector<char> kept(static_cast<size_t>(n), 0);
  for (int64_t i : k) kept[static_cast<size_t>(i)] = 1;
  for (size_t x = 0; x < k.size(); ++x)
    for (size_t y = x + 1; y < k.size(); ++y)
      if (g[k[x]] == g[k[y]]) CHECK_FALSE(naive_iou(&b[4 * k[x]], &b[4 * k[y]]) > thr);
  for (int64_t j = 0; j < n; ++j) {
    if (kept[j]) continue;
    bool covered = false;
    for (int64_t i : k)
      covered |= g[i] == g[j] && before(i, j) && naive_iou(&b[4 * i], &b[4 * j]) > thr;
    CHECK_MESSAGE(covered, "box ", j, " was dropped without a kept box suppressing it");
  }
}

} // namespace

TEST_CASE("nms: hand-worked suppression and order") {
  // Box 1 overlaps box 0 with IoU 0.81 / 1.19; box 2 is apart; box 3 overlaps box 2 a little.
  const Tensor b = boxes_of({0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 28, 28, 38, 38});
  CHECK(to_vector<int64_t>(nms(b, scores_of({0.9, 0.95, 0.5, 0.7}), 0.5)) == I64{1, 3, 2});
  CHECK(to_vector<int64_t>(nms(b, scores_of({0.9, 0.95, 0.5, 0.7}), 0.9)) == I64{1, 0, 3, 2});
  // Any overlap suppresses at threshold 0: box 3 touches box 2 (inter 4).
  CHECK(to_vector<int64_t>(nms(b, scores_of({0.9, 0.95, 0.5, 0.7}), 0.0)) == I64{1, 3});
  // The f32 path and a strided input give the same.
  CHECK(to_vector<int64_t>(nms(noncontiguous(to(b, DType::f32)),
                               to(scores_of({0.9, 0.95, 0.5, 0.7}), DType::f32), 0.5)) ==
        I64{1, 3, 2});
}

TEST_CASE("nms: IoU exactly at the threshold does not suppress") {
  // Inter 1, union 3: IoU 1/3. Inter 8, union 16: IoU 0.5.
  const Tensor third = boxes_of({0, 0, 2, 1, 1, 0, 3, 1});
  CHECK(to_vector<int64_t>(nms(third, scores_of({1, 0.5}), 1.0 / 3.0)) == I64{0, 1});
  CHECK(to_vector<int64_t>(nms(third, scores_of({1, 0.5}), 0.33)) == I64{0});
  const Tensor half = to(boxes_of({0, 0, 4, 4, 0, 0, 4, 2}), DType::f32);
  CHECK(to_vector<int64_t>(nms(half, to(scores_of({0.5, 1}), DType::f32), 0.5)) == I64{1, 0});
  CHECK(to_vector<int64_t>(nms(half, to(scores_of({0.5, 1}), DType::f32), 0.49)) == I64{1});
}

TEST_CASE("nms: equal scores keep the lower index; identical and zero-area boxes") {
  const Tensor same = boxes_of({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10});
  CHECK(to_vector<int64_t>(nms(same, scores_of({0.5, 0.9, 0.9, 0.1}), 0.5)) == I64{1});
  const Tensor apart = boxes_of({0, 0, 1, 1, 5, 5, 6, 6, 10, 10, 11, 11});
  CHECK(to_vector<int64_t>(nms(apart, scores_of({0.3, 0.3, 0.3}), 0.5)) == I64{0, 1, 2});
  // Two identical points: IoU 0/0 = NaN never suppresses (as torchvision).
  const Tensor points = boxes_of({1, 1, 1, 1, 1, 1, 1, 1});
  CHECK(to_vector<int64_t>(nms(points, scores_of({0.2, 0.4}), 0.1)) == I64{1, 0});
}

TEST_CASE("nms: max_kept keeps a prefix; empty input") {
  const Tensor b = random_boxes(400, 60, 30, DType::f64);
  const Tensor s = rand({400}, {.dtype = DType::f64});
  const auto all = to_vector<int64_t>(nms(b, s, 0.4));
  REQUIRE(all.size() > 10);
  for (int64_t m : {0, 1, 7}) {
    CAPTURE(m);
    CHECK(to_vector<int64_t>(nms(b, s, 0.4, m)) == I64(all.begin(), all.begin() + m));
  }
  CHECK(to_vector<int64_t>(nms(b, s, 0.4, 100000)) == all);
  const Tensor none = nms(zeros({0, 4}), zeros({0}), 0.5);
  CHECK(none.shape() == Shape{0});
  CHECK(none.dtype() == DType::i64);
}

TEST_CASE("nms and batched_nms: the result is the greedy NMS on random and crowded boxes") {
  for (int trial = 0; trial < 4; ++trial) {
    CAPTURE(trial);
    const Tensor b = random_boxes(500, trial % 2 ? 40 : 200, 40, DType::f64);
    const Tensor s = trial < 2 ? rand({500}, {.dtype = DType::f64})
                               : splat::test::tied_scores(500, 5, DType::f64);
    const double thr = 0.3 + 0.15 * trial;
    check_nms_properties(b, s, Tensor(), thr, nms(b, s, thr));
    const Tensor groups = randint(0, 6, {500});
    check_nms_properties(b, s, groups, thr, batched_nms(b, s, groups, thr));
  }
}

TEST_CASE("batched_nms: boxes of different groups never suppress each other") {
  const Tensor b = boxes_of({0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10});
  const Tensor s = scores_of({0.9, 0.8, 0.7, 0.95});
  CHECK(to_vector<int64_t>(batched_nms(b, s, from_vector<int64_t>({0, 1, 0, 1}, {4}), 0.5)) ==
        I64{3, 0});
  CHECK(to_vector<int64_t>(batched_nms(b, s, from_vector<int32_t>({0, 1, 2, 3}, {4}), 0.5)) ==
        I64{3, 0, 1, 2});
  CHECK(to_vector<int64_t>(batched_nms(b, s, from_vector<int64_t>({0, 1, 2, 3}, {4}), 0.5, 2)) ==
        I64{3, 0});
}

TEST_CASE("score_above and top_k_scores") {
  const Tensor s = scores_of({0.05, 0.3, 0.9, 0.3, 0.051, 0.9});
  CHECK(to_vector<int64_t>(score_above(s, 0.05)) == I64{1, 2, 3, 4, 5});
  CHECK(to_vector<int64_t>(score_above(s, 0.9)) == I64{});
  CHECK(to_vector<int64_t>(top_k_scores(s, 3)) == I64{2, 5, 1});
  CHECK(to_vector<int64_t>(top_k_scores(s, 0)) == I64{2, 5, 1, 3, 4, 0});
  CHECK(to_vector<int64_t>(top_k_scores(s, 6)) == I64{2, 5, 1, 3, 4, 0});
  CHECK(to_vector<int64_t>(top_k_scores(noncontiguous(s), 2)) == I64{2, 5});
}

TEST_CASE("nms: bad inputs give clear errors") {
  const Tensor b = random_boxes(3);
  CHECK_THROWS_WITH_ALL(nms(b, zeros({4}), 0.5), "nms", "3 boxes", "4 scores");
  CHECK_THROWS_WITH_ALL(nms(b, zeros({3}, {.dtype = DType::f64}), 0.5), "nms", "f32", "f64");
  CHECK_THROWS_WITH_ALL(nms(zeros({3, 5}), zeros({3}), 0.5), "nms", "(N, 4)", "[3, 5]");
  CHECK_THROWS_WITH_ALL(nms(b, zeros({3, 1}), 0.5), "nms", "scores", "[3, 1]");
  CHECK_THROWS_WITH_ALL(nms(b, zeros({3}), NAN), "iou_threshold is NaN");
  CHECK_THROWS_WITH_ALL(batched_nms(b, zeros({3}), zeros({3}), 0.5), "batched_nms", "idxs",
                        "integer");
  CHECK_THROWS_WITH_ALL(batched_nms(b, zeros({3}), zeros({2}, {.dtype = DType::i64}), 0.5),
                        "batched_nms", "2 idxs", "3 boxes");
}
