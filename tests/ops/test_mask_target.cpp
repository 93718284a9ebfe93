// Mask targets and mask pasting: parity with mmdet's computation in PyTorch (fixture
// scripts/fixtures/torch_mask_target.py) on the CPU and the emulated CUDA device, hand-checked
// cases (a box covering a full mask, a half-covered box, pasting a constant mask), CPU-vs-CUDA
// parity of paste_masks over many boxes, empty inputs, bad input.
#include "ops/copy.h"
#include "ops/mask_target.h"
#include "ops/random.h"
#include "tests/ops/cuda_parity.h"
#include "tests/ops/roi_align_boxes.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::ParityCases;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

ParityCases cases(Device d) {
  return {{"mask_target", test::one([d](const In& in) {
             return to(mask_target(to(in[0], d), to(in[1], d), to(in[2], d), 28), Device::cpu());
           })},
          {"paste_masks", test::one([d](const In& in) {
             return to(paste_masks(to(in[0], d), to(in[1], d), 30, 40), Device::cpu());
           })}};
}

} // namespace

TEST_CASE("mask_target and paste_masks: parity with mmdet's computation in PyTorch") {
  test::check_torch_parity("torch_mask_target.safetensors", cases(Device::cpu()), 0, 0);
}

TEST_CASE("mask_target: hand-checked crops") {
  // Mask 0 is all ones, mask 1 has ones in the left half (x < 8) of a 10 x 16 map.
  std::vector<uint8_t> m(2 * 10 * 16, 1);
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 8; x < 16; ++x) m[static_cast<size_t>(160 + y * 16 + x)] = 0;
  const Tensor masks = from_vector<uint8_t>(m, {2, 10, 16});
  const Tensor rois = from_vector<float>({1, 1, 9, 9, 0, 0, 4, 4, 4, 2, 12, 6}, {3, 4});
  const Tensor t = mask_target(masks, rois, from_vector<int64_t>({0, 1, 1}, {3}), 4);
  CHECK(t.dtype() == DType::f32);
  const auto v = to_vector<float>(t);
  for (size_t i = 0; i < 32; ++i) CHECK(v[i] == 1); // boxes inside the ones
  // Box [4, 12] x [2, 6] over the edge at x = 8: its left two columns are 1, the right two 0.
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x)
      CHECK(v[static_cast<size_t>(32 + y * 4 + x)] == (x < 2 ? 1 : 0));
  CHECK(mask_target(masks, zeros({0, 4}), zeros({0}, {.dtype = DType::i64})).shape() ==
        Shape{0, 28, 28});
}

TEST_CASE("paste_masks: a constant mask fills its box, the border rounds as bilinear sampling") {
  // A 4 x 4 mask of ones pasted on box [2, 1, 6, 5] of an 8 x 8 image: pixels whose centre lies
  // inside the box (with half a mask cell of linear fall-off to 0 outside) reach 0.5.
  const Tensor t = paste_masks(ones({1, 4, 4}), from_vector<float>({2, 1, 6, 5}, {1, 4}), 8, 8);
  CHECK(t.dtype() == DType::b8);
  const auto v = to_vector<bool>(t);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      CAPTURE(y);
      CAPTURE(x);
      CHECK(v[static_cast<size_t>(y * 8 + x)] == (x >= 2 && x < 6 && y >= 1 && y < 5));
    }
  CHECK(paste_masks(zeros({0, 28, 28}), zeros({0, 4}), 5, 6).shape() == Shape{0, 5, 6});
}

TEST_CASE("mask_target and paste_masks: bad input gives a clear error") {
  const Tensor masks = zeros({2, 8, 8}, {.dtype = DType::u8}), rois = zeros({3, 4});
  const Tensor idx = zeros({3}, {.dtype = DType::i64});
  CHECK_THROWS_WITH_ALL(mask_target(zeros({2, 8, 8}), rois, idx), "mask_target",
                        "u8 or bool bitmaps", "f32");
  CHECK_THROWS_WITH_ALL(mask_target(masks, zeros({3, 5}), idx), "rois must be (P, 4)", "[3, 5]");
  CHECK_THROWS_WITH_ALL(mask_target(masks, rois, zeros({2}, {.dtype = DType::i64})),
                        "assigned must be i64 or i32 of shape (3)", "[2]");
  CHECK_THROWS_WITH_ALL(mask_target(masks, rois, full({3}, 2, {.dtype = DType::i64})),
                        "assigned ground-truth index 2 is outside [0, 2)");
  CHECK_THROWS_WITH_ALL(paste_masks(zeros({3, 28, 14}), rois, 8, 8), "paste_masks",
                        "mask_probs must be (P, M, M)", "[3, 28, 14]");
  CHECK_THROWS_WITH_ALL(paste_masks(zeros({2, 28, 28}), rois, 8, 8), "3 boxes for 2 masks");
  CHECK_THROWS_WITH_ALL(paste_masks(zeros({3, 28, 28}, {.dtype = DType::f64}), rois, 8, 8),
                        "dtype mismatch");
}

TEST_SUITE_BEGIN("cuda mask_target" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda mask_target and paste_masks: PyTorch parity and parity with the CPU") {
  test::check_torch_parity("torch_mask_target.safetensors", cases(test::kCuda), 0, 0);
  // 300 boxes (border, outside, tiny, huge, degenerate) pasted into a 50 x 60 image.
  const Tensor boxes = narrow(test::roi_boxes(300, 1, 50, 60, 12), 1, 1, 4);
  const Tensor probs = ops::rand({300, 28, 28}, {.dtype = DType::f64});
  test::check_cuda_parity(
      test::single([](const In& in) { return paste_masks(in[0], in[1], 50, 60); }), {probs, boxes},
      0, 0);
}

TEST_SUITE_END();
