// BitmapMasks: the mask targets of RoIs cut from GT bitmaps (the semantics themselves are
// ops::mask_target's, checked against PyTorch in tests/ops/test_mask_target.cpp); here the
// interface: sizes, where the targets land, and the errors.
#include "models/detection/instance_masks.h"
#include "ops/copy.h"
#include "tests/helpers.h"

using namespace splat;

namespace {

// Two 8x10 instances: a 4x4 square at x 2..5, y 1..4, and the right half of the image.
Tensor two_bitmaps() {
  Tensor m = ops::zeros({2, 8, 10}, {.dtype = DType::u8});
  uint8_t* p = m.data<uint8_t>();
  for (int y = 1; y < 5; ++y)
    for (int x = 2; x < 6; ++x) p[y * 10 + x] = 1;
  for (int y = 0; y < 8; ++y)
    for (int x = 5; x < 10; ++x) p[80 + y * 10 + x] = 1;
  return m;
}

Tensor boxes_f32(std::vector<float> v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size() / 4), 4});
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

Tensor labels_i64(std::vector<int64_t> v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::i64);
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

} // namespace

// RoIAlign samples between pixel centres (aligned: pixel i covers [i, i+1)), so a RoI from the
// first to the last foreground pixel centre reads only foreground.
TEST_CASE("BitmapMasks: a RoI inside its instance is all ones, on the other's empty part all zeros") {
  const models::BitmapMasks masks(two_bitmaps());
  CHECK(masks.size() == 2);
  // RoI 0 spans the square's pixel centres; RoI 1 is the left half read from the right-half instance.
  const Tensor t = masks.crop_and_resize(boxes_f32({2.5f, 1.5f, 5.5f, 4.5f, 0, 0, 5, 8}), labels_i64({0, 1}), 28);
  REQUIRE(t.shape() == Shape{2, 28, 28});
  CHECK(t.dtype() == DType::f32);
  const float* p = t.data<float>();
  double first = 0, second = 0;
  for (int i = 0; i < 28 * 28; ++i) first += p[i], second += p[28 * 28 + i];
  CHECK(first == 28 * 28);
  CHECK(second == 0);
}

// mmdet's mask_target_single clips a RoI to the masks before cropping: a RoI reaching past the
// image gives the target of its part inside (here all ones), not one with a background border.
TEST_CASE("BitmapMasks: a RoI past the image is clipped to it first") {
  const models::BitmapMasks masks(two_bitmaps());
  const Tensor clipped = masks.crop_and_resize(boxes_f32({5.5f, -3, 9.5f, 8, 5.5f, 0, 10, 8}), labels_i64({1, 1}), 14);
  const Tensor inside = masks.crop_and_resize(boxes_f32({5.5f, 0, 9.5f, 8, 5.5f, 0, 10, 8}), labels_i64({1, 1}), 14);
  test::check_close(clipped, inside, 0, 0);
  const Tensor past = masks.crop_and_resize(boxes_f32({5.5f, 0, 14, 12}), labels_i64({1}), 14);
  const float* p = past.data<float>();
  double ones = 0;
  for (int i = 0; i < 14 * 14; ++i) ones += p[i];
  CHECK(ones == 14 * 14);
}

TEST_CASE("BitmapMasks: the targets come back on the boxes' device, equal to the CPU's" *
          doctest::skip(test::no_cuda_device())) {
  const models::BitmapMasks masks(two_bitmaps());
  const Tensor boxes = boxes_f32({1.5f, 0.25f, 7, 6, 3, 2, 9.5f, 7.75f, 0, 0, 10, 8});
  const Tensor assigned = labels_i64({0, 1, 1});
  const Tensor cpu = masks.crop_and_resize(boxes, assigned, 14);
  const Device cuda = Device::cuda(0);
  const Tensor gpu = masks.crop_and_resize(ops::to(boxes, cuda), ops::to(assigned, cuda), 14);
  CHECK(gpu.device() == cuda);
  test::check_close(ops::to(gpu, Device::cpu()), cpu, 0, 0);
}

TEST_CASE("BitmapMasks: masks that are not (G, H, W) bytes and indices out of range are errors") {
  CHECK_THROWS_WITH_AS(models::BitmapMasks(ops::zeros({8, 10}, {.dtype = DType::u8})),
                       doctest::Contains("(G, H, W) u8 or bool"), Error);
  CHECK_THROWS_WITH_AS(models::BitmapMasks(ops::zeros({2, 8, 10})), doctest::Contains("(G, H, W) u8 or bool"),
                       Error);
  const models::BitmapMasks masks(two_bitmaps());
  CHECK_THROWS_WITH_AS(masks.crop_and_resize(boxes_f32({0, 0, 4, 4}), labels_i64({2}), 28),
                       doctest::Contains("outside [0, 2)"), Error);
}
