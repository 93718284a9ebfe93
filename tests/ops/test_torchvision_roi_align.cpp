// RoIAlign against torchvision.ops.roi_align (fixture scripts/fixtures/torchvision_roi_align.py):
// aligned and legacy, sampling ratios 0, 1 and 2, output 3 x 4, spatial scale 0.5, float32;
// forward and the feature gradient, on the CPU and on the (emulated) CUDA device.
#include "ops/copy.h"
#include "ops/roi_align.h"
#include "tests/ops/cuda_parity.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::ParityCases;
using In = std::vector<Tensor>;

namespace {

ParityCases cases(Device device) {
  ParityCases c;
  for (bool aligned : {true, false})
    for (int64_t ratio : {0, 1, 2}) {
      const std::string name = std::string("roi_align_") + (aligned ? "aligned" : "legacy") + "_s" +
                               std::to_string(ratio);
      const RoiAlignOptions o{.output_h = 3,
                              .output_w = 4,
                              .spatial_scale = 0.5,
                              .sampling_ratio = ratio,
                              .aligned = aligned};
      c[name] = test::one([o, device](const In& in) {
        // On CUDA the leaf stays on the CPU (its gradient is compared there); the copy is
        // differentiable, so the gradient flows back through it.
        return to(roi_align(to(in[0], device), to(in[1], device), o), Device::cpu());
      });
    }
  return c;
}

} // namespace

TEST_CASE("roi_align: torchvision parity on the CPU") {
  test::check_torch_parity("torchvision_roi_align.safetensors", cases(Device::cpu()), 1e-5, 1e-6);
}

TEST_SUITE_BEGIN("cuda roi_align torchvision" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda roi_align: torchvision parity on the device") {
  test::check_torch_parity("torchvision_roi_align.safetensors", cases(test::kCuda), 1e-5, 1e-6);
}

TEST_SUITE_END();
