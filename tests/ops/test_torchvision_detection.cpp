// Parity with torchvision 0.14 (Debian's python3-torchvision) for box_iou, nms and batched_nms,
// from the fixtures of scripts/fixtures/torchvision_detection.py (random boxes, integer-grid
// boxes whose IoUs hit the threshold exactly, tied scores, identical and zero-area boxes, empty
// inputs). torchvision's box_iou has no eps, so the cases call box_iou with eps = 0 (NaN for two
// zero-area boxes, as recorded). The same cases run on the CPU and on the (emulated) CUDA device.
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/nms.h"
#include "tests/ops/cuda_parity.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_torch_parity;
using splat::test::one;
using splat::test::ParityCases;
using In = std::vector<Tensor>;

namespace {

// The fixture's cases with their inputs moved to `device` (results come back to the CPU).
ParityCases cases(Device device) {
  const auto on = [device](const Tensor& t) { return to(t, device); };
  const auto back = [](const Tensor& t) { return to(t, Device::cpu()); };
  const auto iou =
      one([=](const In& in) { return back(box_iou(on(in[0]), on(in[1]), IouMode::iou, 0)); });
  const auto nms_at = [=](double thr) {
    return one([=](const In& in) { return back(nms(on(in[0]), on(in[1]), thr)); });
  };
  const auto batched_at = [=](double thr) {
    return one(
        [=](const In& in) { return back(batched_nms(on(in[0]), on(in[1]), on(in[2]), thr)); });
  };
  return {
      {"iou_random_f32", iou},
      {"iou_random_f64", iou},
      {"iou_grid", iou},
      {"iou_degenerate", iou},
      {"iou_empty_left", iou},
      {"iou_empty_right", iou},
      {"nms_random_05", nms_at(0.5)},
      {"nms_random_07_f64", nms_at(0.7)},
      {"nms_crowded_03", nms_at(0.3)},
      {"nms_grid_ties_05", nms_at(0.5)},
      {"nms_identical", nms_at(0.5)},
      {"nms_degenerate", nms_at(0.5)},
      {"nms_empty", nms_at(0.5)},
      {"batched_random_05", batched_at(0.5)},
      {"batched_grid_ties_05", batched_at(0.5)},
      {"batched_f64_07", batched_at(0.7)},
  };
}

// f32 IoUs: torchvision divides in f32, splat in double then rounds: within 2 ulp.
constexpr double kRtol = 3e-7, kAtol = 1e-12;

} // namespace

TEST_CASE("torchvision parity: box_iou, nms, batched_nms") {
  check_torch_parity("torchvision_detection.safetensors", cases(Device::cpu()), kRtol, kAtol);
}

TEST_SUITE_BEGIN("cuda torchvision detection" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: torchvision parity of box_iou, nms, batched_nms") {
  check_torch_parity("torchvision_detection.safetensors", cases(splat::test::kCuda), kRtol, kAtol);
}

TEST_SUITE_END();
