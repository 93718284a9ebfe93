// A small training batch for the detector tests: 2 random images in a 64x96 batch (the second
// image's own area 56x80, padded to 64x96 as the size divisor 32 pads it), with GT boxes chosen
// by hand for the narrow Faster R-CNN's 3 classes. Deterministic in `seed`.
#pragma once

#include "models/detection/detector_input.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "ops/view.h"

#include <vector>

namespace splat::test {

// Image 0: two objects (classes 0 and 2), image 1: one object (class 1).
inline models::DetectorInput tiny_detector_input(DType dtype = DType::f32, Device device = Device::cpu(),
                                                 uint64_t seed = 5) {
  Generator gen(seed);
  models::DetectorInput in;
  in.images = ops::to(ops::randn({2, 3, 64, 96}, {.dtype = dtype}, &gen), device);
  in.infos.push_back({.img_shape = {64, 96}, .pad_shape = {64, 96}, .ori_shape = {64, 96}});
  in.infos.push_back({.img_shape = {56, 80}, .pad_shape = {64, 96}, .ori_shape = {56, 80}});
  const auto boxes = [&](std::vector<double> v) {
    return ops::to(ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}, device), dtype);
  };
  const auto labels = [&](std::vector<int64_t> v) {
    return ops::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}, device);
  };
  in.targets.push_back({boxes({8, 6, 40, 50, 50, 20, 90, 44}), labels({0, 2}), {}});
  in.targets.push_back({boxes({20, 10, 60, 40}), labels({1}), {}});
  return in;
}

// The same batch cut to its first image (what a batch-1 training step gets).
inline models::DetectorInput first_image_only(const models::DetectorInput& in) {
  models::DetectorInput one;
  one.images = ops::contiguous(ops::narrow(in.images, 0, 0, 1));
  one.infos = {in.infos.front()};
  one.targets = {in.targets.front()};
  return one;
}

} // namespace splat::test
