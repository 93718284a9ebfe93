// RoIAlign on the emulated CUDA device: float64 gradcheck (aligned or not, sampling ratios 0 and
// 2), CPU-vs-CUDA parity of the output and the feature gradient (float32 and float64) with
// 2000 RoIs mixing random, border, outside, tiny, huge and degenerate boxes, empty RoI sets,
// the multi-level extractor, and a backward that is the same bit for bit on every run.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/roi_align.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"
#include "tests/ops/roi_align_boxes.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;

TEST_SUITE_BEGIN("cuda roi_align" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda roi_align: float64 gradcheck") {
  const Tensor f = leaf({2, 1, 5, 6}, -1, 1, kCuda);
  const Tensor rois = ops::to(test::roi_boxes(9, 2, 10, 12, 8), kCuda);
  for (bool aligned : {true, false})
    for (int64_t ratio : {0, 2}) {
      CAPTURE(aligned);
      CAPTURE(ratio);
      const RoiAlignOptions o{.output_h = 2,
                              .output_w = 2,
                              .spatial_scale = 0.5,
                              .sampling_ratio = ratio,
                              .aligned = aligned};
      CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return roi_align(in[0], rois, o); },
                      {f});
    }
}

TEST_CASE("cuda roi_align: parity with the CPU, thousands of boxes, borders, empty") {
  for (DType dt : {DType::f32, DType::f64})
    for (int64_t k : {2000, 0}) {
      CAPTURE(dt);
      CAPTURE(k);
      const Tensor f = ops::to(ops::randn({2, 3, 25, 34}), dt).requires_grad_();
      const Tensor rois = ops::to(test::roi_boxes(k, 2, 100, 136, 9), dt);
      const double tol = dt == DType::f32 ? 1e-4 : 1e-10;
      const RoiAlignOptions o{.output_h = 7, .output_w = 5, .spatial_scale = 0.25, .aligned = true};
      check_cuda_parity(
          test::single([o](const std::vector<Tensor>& in) { return roi_align(in[0], in[1], o); }),
          {f, rois}, tol, tol);
      // Not aligned, fixed sampling ratio, strided features on the device.
      const RoiAlignOptions legacy{.output_h = 3,
                                   .output_w = 4,
                                   .spatial_scale = 0.25,
                                   .sampling_ratio = 2,
                                   .aligned = false};
      check_cuda_parity(test::single([legacy](const std::vector<Tensor>& in) {
                          return roi_align(transpose(in[0], 2, 3), in[1], legacy);
                        }),
                        {ops::transpose(f.detach(), 2, 3).requires_grad_(), rois}, tol, tol);
    }
}

// Hundreds of RoIs over one small map send thousands of contributions to each pixel, in the
// order the threads happen to run (the emulator, as a GPU, varies it between launches): float
// atomics would round differently each run, the fixed-point sums do not.
TEST_CASE("cuda roi_align: the feature gradient is the same bit for bit on every run") {
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    const Tensor f = ops::to(ops::to(ops::randn({2, 4, 12, 16}), dt), kCuda);
    const Tensor rois = ops::to(ops::to(test::roi_boxes(600, 2, 48, 64, 3), dt), kCuda);
    const RoiAlignOptions o{.output_h = 7, .output_w = 7, .spatial_scale = 0.25, .aligned = true};
    const Tensor dout = ops::to(ops::to(ops::randn({600, 4, 7, 7}), dt), kCuda);
    auto gradient = [&] {
      const Tensor x = f.detach().requires_grad_();
      autograd::backward({roi_align(x, rois, o)}, {dout});
      return ops::to(x.grad(), Device::cpu());
    };
    const Tensor first = gradient();
    for (int run = 0; run < 3; ++run) test::check_equal(gradient(), first);
  }
}

TEST_CASE("cuda roi_align: a non-finite output gradient gives NaN feature gradients, not garbage") {
  const Tensor f = ops::to(ops::randn({1, 1, 6, 6}), kCuda).requires_grad_();
  const Tensor rois = ops::to(ops::to(test::roi_boxes(4, 1, 24, 24, 5), DType::f32), kCuda);
  Tensor dout = ops::full({4, 1, 2, 2}, 1.0);
  dout.data<float>()[3] = INFINITY;
  autograd::backward({roi_align(f, rois, {.output_h = 2, .output_w = 2, .spatial_scale = 0.25})},
                     {ops::to(dout, kCuda)});
  const Tensor g = ops::to(f.grad(), Device::cpu());
  for (int64_t i = 0; i < g.numel(); ++i) CHECK(std::isnan(g.data<float>()[i]));
}

TEST_CASE("cuda multi_level_roi_align: parity with the CPU") {
  const std::vector<double> strides{4, 8, 16, 32};
  std::vector<Tensor> in;
  for (int64_t l = 0; l < 4; ++l)
    in.push_back(ops::randn({2, 2, 64 >> l, 80 >> l}).requires_grad_());
  in.push_back(ops::to(test::roi_boxes(300, 2, 256, 320, 10), DType::f32));
  check_cuda_parity(test::single([strides](const std::vector<Tensor>& t) {
                      return multi_level_roi_align({t[0], t[1], t[2], t[3]}, t[4], strides,
                                                   {.output_h = 7, .output_w = 7});
                    }),
                    in, 1e-5, 1e-5);
}

TEST_SUITE_END();
