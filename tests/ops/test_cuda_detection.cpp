// Detection ops on the (emulated) CUDA device against the CPU kernels: box_iou / iof bit for bit
// on thousands of boxes (random, integer grid, degenerate, empty sides, strided), grid anchors
// and valid flags of the five RPN levels, the box coder (classes, clipping, clamp), the MaxIoU
// assigner over thousands of anchors (every configuration, ignore regions, corner cases), the
// sampler drawing the same boxes for one seed, and NMS / batched NMS keeping the same indices in
// the same order (thousands of boxes, ties, identical boxes, sizes around the 64-box blocks,
// max_kept); device-mismatch errors.
#include "ops/anchors.h"
#include "ops/assign.h"
#include "ops/box_coder.h"
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/nms.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/ops/box_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::grid_boxes;
using splat::test::kCuda;
using splat::test::random_boxes;
using splat::test::single;
using splat::test::tied_scores;
using In = std::vector<Tensor>;

namespace {

Tensor degenerate_boxes() {
  return splat::test::boxes_of({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 4,  0,  0,  0,  0, 4, 0, 0,
                                4, 4, 2, 2, 6, 6, 4, 4, 8, 8, -3, -3, -1, -1, 8, 8, 8, 9},
                               DType::f32);
}

} // namespace

TEST_SUITE_BEGIN("cuda detection" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: box_iou and iof equal the CPU's bit for bit") {
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    const Tensor a = random_boxes(1500, 200, 60, dt), b = random_boxes(120, 200, 60, dt);
    for (IouMode mode : {IouMode::iou, IouMode::iof}) {
      CAPTURE(static_cast<int>(mode));
      check_cuda_parity(single([mode](const In& in) { return box_iou(in[0], in[1], mode); }),
                        {a, b}, 0, 0);
      check_cuda_parity(single([mode](const In& in) {
                          return box_iou(slice(in[0], 0, 0, 999, 3), in[1], mode, 0);
                        }),
                        {a, b}, 0, 0);
    }
  }
  const Tensor g = grid_boxes(300), d = degenerate_boxes();
  check_cuda_parity(single([](const In& in) { return box_iou(in[0], in[1], IouMode::iou, 0); }),
                    {g, d}, 0, 0);
  check_cuda_parity(single([](const In& in) { return box_iou(in[0], in[0]); }), {d}, 0, 0);
  check_cuda_parity(single([](const In& in) { return box_iou(in[0], in[1]); }), {zeros({0, 4}), g},
                    0, 0);
  check_cuda_parity(single([](const In& in) { return box_iou(in[0], in[1]); }), {g, zeros({0, 4})},
                    0, 0);
}

TEST_CASE("cuda: area, clip, scale, flip and format conversions match the CPU") {
  const Tensor b = random_boxes(2000, 300, 80, DType::f64);
  check_cuda_parity(
      [](const In& in) {
        const Tensor v = slice(in[0], 0, 0, 2000, 3);
        return std::vector<Tensor>{box_area(v),
                                   clip_boxes(v, {200, 250}),
                                   scale_boxes(v, 0.5, 1.25),
                                   flip_boxes(v, 320),
                                   convert_boxes(v, BoxFormat::xyxy, BoxFormat::xywh),
                                   convert_boxes(v, BoxFormat::cxcywh, BoxFormat::xywh)};
      },
      {b}, 0, 0);
}

TEST_CASE("cuda: grid anchors and valid flags equal the CPU's for the five levels") {
  const AnchorGenerator gen;
  const std::vector<SizeHW> sizes = {{50, 84}, {25, 42}, {13, 21}, {7, 11}, {0, 6}};
  for (DType dt : {DType::f32, DType::f64}) {
    // The parity harness's one input only says which device to build the anchors on.
    check_cuda_parity(
        [&](const In& in) {
          std::vector<Tensor> out =
              grid_anchors(gen, sizes, {.dtype = dt, .device = in[0].device()});
          for (const Tensor& f : valid_flags(gen, sizes, {180, 300}, in[0].device()))
            out.push_back(f);
          return out;
        },
        {zeros({1})}, 0, 0);
  }
  const Tensor anchors = grid_anchors(gen, {{20, 30}, {10, 15}, {5, 8}, {3, 4}, {2, 2}})[0];
  const Tensor valid = valid_flags(gen, {{20, 30}, {10, 15}, {5, 8}, {3, 4}, {2, 2}}, {70, 100})[0];
  for (int64_t border : {-1, 0, 8})
    check_cuda_parity(single([&](const In& in) {
                        return anchor_inside_flags(in[0], in[1], {70, 100}, border);
                      }),
                      {anchors, valid}, 0, 0);
}

TEST_CASE("cuda: the box coder matches the CPU (classes, clipping, the clamp)") {
  const DeltaXYWHBBoxCoder coder{.means = {0.1, -0.1, 0.05, 0}, .stds = {0.1, 0.1, 0.2, 0.2}};
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    // Not bit for bit: g++ and nvcc may fuse different multiply-adds of the formulas, and f32
    // centre differences cancel (|d| up to ~1e-5 absolute after dividing by stds of 0.1).
    const double tol = dt == DType::f32 ? 2e-5 : 1e-12;
    const Tensor p = random_boxes(1000, 200, 80, dt, 1), g = random_boxes(1000, 200, 80, dt, 1);
    check_cuda_parity(single([&](const In& in) { return bbox_encode(in[0], in[1], coder); }),
                      {p, g}, tol, tol);
    // Deltas of 5 classes, some far beyond the clamp.
    const Tensor d = to(mul(randn({1000, 20}, {.dtype = DType::f64}), 3.0), dt);
    check_cuda_parity(single([&](const In& in) { return bbox_decode(in[0], in[1], coder); }),
                      {p, d}, tol, tol);
    check_cuda_parity(single([&](const In& in) {
                        return bbox_decode(slice(in[0], 0, 0, 1000, 2), slice(in[1], 0, 0, 1000, 2),
                                           coder, SizeHW{150, 220});
                      }),
                      {p, d}, tol, tol);
  }
}

TEST_CASE("cuda: the MaxIoU assigner equals the CPU's on thousands of anchors") {
  const Tensor anchors =
      grid_anchors(AnchorGenerator{}, {{30, 40}, {15, 20}, {8, 10}, {4, 5}, {2, 3}})[0];
  const Tensor gt = random_boxes(12, 120, 90, DType::f32, 8);
  const Tensor labels = randint(0, 80, {12});
  const Tensor ignore = random_boxes(3, 120, 60, DType::f32, 10);
  const MaxIouAssigner configs[] = {
      {.pos_iou_thr = 0.7, .neg_iou_thr = 0.3, .min_pos_iou = 0.3},
      {.pos_iou_thr = 0.5, .neg_iou_thr = 0.5, .min_pos_iou = 0.5, .match_low_quality = false},
      {.pos_iou_thr = 0.6,
       .neg_iou_thr = {0.1, 0.4},
       .min_pos_iou = 0.2,
       .gt_max_assign_all = false,
       .ignore_iof_thr = 0.5}};
  for (const MaxIouAssigner& c : configs) {
    const auto assign = [&c](const In& in) {
      const AssignResult r = max_iou_assign(c, in[0], in[1], in[2], in[3]);
      return std::vector<Tensor>{r.gt_inds, r.max_overlaps, r.labels};
    };
    check_cuda_parity(assign, {anchors, gt, labels, ignore}, 0, 0);
    check_cuda_parity(assign, {grid_boxes(500), grid_boxes(9), randint(0, 5, {9}), grid_boxes(2)},
                      0, 0);
    // No GT; no anchors.
    check_cuda_parity(assign, {anchors, zeros({0, 4}), zeros({0}, {.dtype = DType::i64}), ignore},
                      0, 0);
    check_cuda_parity(assign, {zeros({0, 4}), gt, labels, ignore}, 0, 0);
  }
}

TEST_CASE("cuda: the random sampler picks the same boxes as the CPU for one seed") {
  const Tensor gt = random_boxes(5, 100, 40, DType::f32, 10);
  const Tensor jittered = add(index_select(gt, 0, randint(0, 5, {200})), rand({200, 4}));
  const Tensor boxes = cat({random_boxes(1500, 100, 50), jittered}, 0);
  const Tensor labels = randint(0, 80, {5});
  for (const RandomSampler& s :
       {RandomSampler{.num = 512, .pos_fraction = 0.25},
        RandomSampler{.num = 256, .pos_fraction = 0.5, .add_gt_as_proposals = false},
        RandomSampler{.num = 256, .pos_fraction = 0.5, .neg_pos_ub = 3}}) {
    check_cuda_parity(
        [&s](const In& in) {
          const AssignResult a = max_iou_assign(
              {.pos_iou_thr = 0.5, .neg_iou_thr = 0.5, .min_pos_iou = 0.5}, in[0], in[1], in[2]);
          Generator gen(2024);
          const SamplingResult r = random_sample(s, a, in[0], in[1], in[2], &gen);
          return std::vector<Tensor>{r.pos_inds,   r.neg_inds,       r.pos_is_gt,
                                     r.pos_bboxes, r.pos_gt_bboxes,  r.pos_gt_labels,
                                     r.neg_bboxes, r.assign.gt_inds, r.pos_assigned_gt_inds};
        },
        {boxes, gt, labels}, 0, 0);
  }
}

TEST_CASE("cuda: nms and batched_nms keep the same indices in the same order as the CPU") {
  const auto run_nms = [](double thr, int64_t max_kept) {
    return single([=](const In& in) { return nms(in[0], in[1], thr, max_kept); });
  };
  const auto run_batched = [](double thr) {
    return single([=](const In& in) { return batched_nms(in[0], in[1], in[2], thr); });
  };
  // Thousands of boxes, crowded, f32 and f64; tied scores.
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor b = random_boxes(3000, 400, 60, dt), s = to(rand({3000}), dt);
    check_cuda_parity(run_nms(0.5, -1), {b, s}, 0, 0);
    check_cuda_parity(run_nms(0.7, 100), {b, tied_scores(3000, 10, dt)}, 0, 0);
  }
  // IoUs exactly at the threshold and heavy ties; identical and degenerate boxes.
  const Tensor g = grid_boxes(700);
  check_cuda_parity(run_nms(0.5, -1), {g, tied_scores(700)}, 0, 0);
  check_cuda_parity(run_batched(0.5), {g, tied_scores(700), randint(0, 3, {700})}, 0, 0);
  const Tensor d = degenerate_boxes();
  check_cuda_parity(run_nms(0.3, -1), {d, tied_scores(d.size(0), 2)}, 0, 0);
  // Sizes around the 64-box blocks, max_kept inside a block and at its end.
  for (int64_t n : {1, 63, 64, 65, 129}) {
    CAPTURE(n);
    const Tensor b = random_boxes(n, 60, 40);
    check_cuda_parity(run_nms(0.4, -1), {b, rand({n})}, 0, 0);
    check_cuda_parity(run_nms(0.4, 3), {b, rand({n})}, 0, 0);
  }
  check_cuda_parity(run_nms(0.5, 0), {random_boxes(100), rand({100})}, 0, 0);
  check_cuda_parity(run_nms(0.5, -1), {zeros({0, 4}), zeros({0})}, 0, 0);
  const Tensor many = random_boxes(2000, 300, 60);
  check_cuda_parity(run_batched(0.6), {many, rand({2000}), randint(0, 5, {2000})}, 0, 0);
  check_cuda_parity(single([](const In& in) { return top_k_scores(in[0], 50); }),
                    {tied_scores(500)}, 0, 0);
  check_cuda_parity(single([](const In& in) { return score_above(in[0], 0.5); }),
                    {tied_scores(500)}, 0, 0);
}

TEST_CASE("cuda: detection ops reject tensors on different devices") {
  const Tensor host = random_boxes(3), dev = to(host, kCuda);
  CHECK_THROWS_WITH_ALL(box_iou(host, dev), "box_iou", "cpu", "cuda:0");
  CHECK_THROWS_WITH_ALL(nms(dev, zeros({3}), 0.5), "nms", "cpu", "cuda:0");
  CHECK_THROWS_WITH_ALL(bbox_decode(host, dev), "bbox_decode", "cuda:0");
  CHECK_THROWS_WITH_ALL(max_iou_assign({}, dev, host), "max_iou_assign", "cuda:0");
  CHECK_THROWS_WITH_ALL(
      batched_nms(dev, to(zeros({3}), kCuda), zeros({3}, {.dtype = DType::i64}), 0.5),
      "batched_nms", "cuda:0");
}

TEST_SUITE_END();
