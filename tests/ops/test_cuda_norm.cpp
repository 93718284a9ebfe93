// CUDA batch norm on the emulated device: parity with the CPU (forward, gradients, running
// stats) on a (8, 64, 28, 28) float32 batch and on float64, eval mode and BN + ReLU, the building
// blocks (statistics, merge with empty sets, backward sums and elementwise), shapes that leave
// most threads of a block idle, and float64 gradcheck on the device.
#include "autograd/grad_mode.h"
#include "ops/join.h"
#include "ops/norm.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;
using In = std::vector<Tensor>;

namespace {

// batch_norm in training on (x, weight, bias), with the updated running stats as outputs.
std::vector<Tensor> train_step(const In& in) {
  const TensorOptions o{in[0].dtype(), in[0].device()};
  const Tensor rm = zeros({in[0].size(1)}, o), rv = ones({in[0].size(1)}, o);
  const Tensor y = batch_norm(in[0], rm, rv, in[1], in[2], true, 0.1, 1e-5);
  return {y, rm, rv};
}

std::vector<Tensor> stats_of(const Tensor& x) {
  const BatchStats s = batch_norm_stats(x);
  return {s.count, s.mean, s.m2};
}

} // namespace

TEST_SUITE_BEGIN("cuda norm" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: batch_norm training matches the CPU on a (8, 64, 28, 28) float32 batch") {
  const Tensor x = add(ops::randn({8, 64, 28, 28}), 2.0).requires_grad_();
  const Tensor w = ops::randn({64}).requires_grad_(), b = ops::randn({64}).requires_grad_();
  check_cuda_parity(train_step, {x, w, b}, 1e-4, 1e-5);
}

TEST_CASE("cuda: batch_norm matches the CPU in float64: train, eval, 2-D, no affine, BN + ReLU") {
  const TensorOptions o{.dtype = DType::f64};
  for (const Shape& shape : {Shape{4, 5, 7, 3}, Shape{37, 6}, Shape{1, 3, 300}}) {
    CAPTURE(shape_str(shape));
    const Tensor x = ops::randn(shape, o).requires_grad_();
    const Tensor w = ops::randn({shape[1]}, o).requires_grad_();
    const Tensor b = ops::randn({shape[1]}, o).requires_grad_();
    const Tensor rm = ops::randn({shape[1]}, o), rv = add(ops::rand({shape[1]}, o), 0.5);
    check_cuda_parity(train_step, {x, w, b}, 1e-10, 1e-10);
    check_cuda_parity(
        [](const In& in) {
          return std::vector<Tensor>{batch_norm(in[0], in[1], in[2], {}, {}, false),
                                     batch_norm(in[0], in[1], in[2], {}, {}, true)};
        },
        {x, rm, rv}, 1e-10, 1e-10);
    check_cuda_parity(
        [](const In& in) {
          NoGradGuard no_grad;
          return std::vector<Tensor>{
              batch_norm_relu_inference(in[0], in[1], in[2], in[3], in[4], 1e-3)};
        },
        {x.detach(), rm, rv, w.detach(), b.detach()}, 1e-12, 1e-12);
  }
}

TEST_CASE("cuda: batch-norm building blocks match the CPU, merging empty and unequal sets") {
  const TensorOptions o{.dtype = DType::f64};
  const Tensor x = add(ops::randn({6, 3, 5, 4}, o), 5.0);
  check_cuda_parity([](const In& in) { return stats_of(in[0]); }, {x}, 1e-12, 1e-12);
  check_cuda_parity(
      [](const In& in) {
        // Chunks of 2, 0 and 4 images, merged on the device, equal the whole batch's stats.
        std::vector<Tensor> c, m, s;
        for (auto [start, len] : {std::pair{0, 2}, {2, 0}, {2, 4}}) {
          const auto st = stats_of(narrow(in[0], 0, start, len));
          c.push_back(st[0]);
          m.push_back(st[1]);
          s.push_back(st[2]);
        }
        const BatchStats merged = batch_norm_merge_stats({stack(c), stack(m), stack(s)});
        check_close(merged.mean, batch_norm_stats(in[0]).mean, 1e-12, 1e-12);
        check_close(merged.m2, batch_norm_stats(in[0]).m2, 1e-10, 1e-10);
        return std::vector<Tensor>{merged.count, merged.mean, merged.m2};
      },
      {x}, 1e-12, 1e-12);
  const Tensor dy = ops::randn(x.shape(), o), mean = ops::randn({3}, o);
  const Tensor invstd = add(ops::rand({3}, o), 0.5), w = ops::randn({3}, o);
  check_cuda_parity(
      [](const In& in) {
        const BatchNormGradSums s = batch_norm_backward_reduce(in[0], in[1], in[2]);
        return std::vector<Tensor>{
            s.sum_dy, s.sum_dy_xmu,
            batch_norm_backward_elemt(in[0], in[1], in[2], in[3], in[4], s, 57.0),
            batch_norm_backward_elemt(in[0], in[1], in[2], in[3], {}, s, 120.0),
            batch_norm_elemt(in[1], in[2], in[3], in[4], {}, Activation::relu)};
      },
      {dy, x, mean, invstd, w}, 1e-12, 1e-12);
}

TEST_CASE("cuda: batch_norm float64 gradcheck on the device, train and eval") {
  for (bool training : {true, false}) {
    CAPTURE(training);
    const Tensor x = leaf({2, 2, 1, 3}, -2, 2, kCuda);
    const Tensor w = leaf({2}, -1, 1, kCuda), b = leaf({2}, -1, 1, kCuda);
    const Tensor rm = to(ops::randn({2}, {.dtype = DType::f64}), kCuda);
    const Tensor rv = to(add(ops::rand({2}, {.dtype = DType::f64}), 0.5), kCuda);
    CHECK_GRADCHECK(
        [&](const In& in) {
          return batch_norm(in[0], clone(rm), clone(rv), in[1], in[2], training);
        },
        {x, w, b});
  }
  const Tensor x2 = leaf({3, 2}, -2, 2, kCuda);
  CHECK_GRADCHECK([](const In& in) { return batch_norm(in[0], {}, {}, {}, {}, true); }, {x2});
}

TEST_CASE("cuda: batch norm and pooling name mismatched devices") {
  const Tensor x = to(ops::randn({2, 3, 4, 4}), kCuda);
  CHECK_THROWS_WITH_ALL(batch_norm(x, {}, {}, ones({3}), {}, true), "batch_norm",
                        "weight is on cpu but x is on cuda:0");
  CHECK_THROWS_WITH_ALL(batch_norm(x, to(zeros({3}), kCuda), ones({3}), {}, {}, false),
                        "running_var is on cpu");
}

TEST_SUITE_END();
