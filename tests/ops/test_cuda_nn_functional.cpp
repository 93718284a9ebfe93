// softmax, the losses, linear, dropout and the resampling ops on the emulated CUDA device:
// CPU-vs-CUDA parity (forward and backward) on larger inputs in float32 and float64, including
// rows longer than a block, strided (non-last) softmax dims and many short rows; float64
// gradcheck on the device; the same dropout mask as the CPU for one seed; the bad-target error.
#include "core/philox.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/resize.h"
#include "ops/softmax.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::single;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

Tensor randn_grad(Shape shape, DType dtype, double scale = 1) {
  return mul(randn(std::move(shape), {.dtype = dtype}), scale).requires_grad_();
}

// Tolerances for a dtype: float32 sums differ in order between the devices.
struct Tol {
  double rtol, atol;
};
Tol tol(DType d) { return d == DType::f32 ? Tol{1e-4, 1e-5} : Tol{1e-10, 1e-12}; }

} // namespace

TEST_SUITE_BEGIN("cuda nn functional" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: softmax and log_softmax match the CPU: long rows, strided dims, short rows") {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  // 64 x 1000 classes (a warp per row, 32 elements per lane); rows of 3000 (a block per row,
  // longer than the block); a non-last dim with inner 35; many rows of 3; a middle dim with
  // inner 2 and 300 elements (lanes on y with few columns); a first dim.
  const Case cases[] = {{{64, 1000}, -1}, {{3, 3000}, 1},   {{6, 7, 35}, 1},
                        {{300, 3}, 1},    {{2, 300, 2}, 1}, {{9, 40}, 0}};
  for (const Case& c : cases) {
    // float64 on the smaller shapes only: the emulator's cost grows with the threads launched.
    for (DType dtype : {DType::f32, DType::f64}) {
      if (dtype == DType::f64 && c.shape[0] * c.shape[1] > 10000) continue;
      CAPTURE(dtype);
      CAPTURE(c.dim);
      const Tensor x = randn_grad(c.shape, dtype, 4);
      check_cuda_parity(
          [&](const In& in) {
            return std::vector<Tensor>{softmax(in[0], c.dim), log_softmax(in[0], c.dim)};
          },
          {x}, tol(dtype).rtol, tol(dtype).atol);
    }
  }
  // A strided view goes through the same kernels after the op's copy.
  check_cuda_parity(single([](const In& in) { return softmax(transpose(in[0], 0, 1), -1); }),
                    {randn_grad({50, 6}, DType::f32)}, 1e-5, 1e-6);
}

TEST_CASE("cuda: softmax -inf entries and all -inf rows agree with the CPU") {
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor x = from_vector<double>({-inf, 0, 1, -inf, -inf, -inf, 2, -inf, 3}, {3, 3});
  check_close(softmax(to(x, kCuda), 1), softmax(x, 1), 1e-12, 1e-12);
  check_close(log_softmax(to(x, kCuda), 1), log_softmax(x, 1), 1e-12, 1e-12);
  check_close(softmax(to(x, kCuda), 0), softmax(x, 0), 1e-12, 1e-12);
}

TEST_CASE("cuda: cross_entropy and bce_with_logits match the CPU") {
  // 81 classes as the R-CNN head; every 7th target ignored.
  std::vector<int64_t> tv = to_vector<int64_t>(randint(0, 81, {96}));
  for (size_t i = 0; i < tv.size(); i += 7) tv[i] = -100;
  const Tensor t = from_vector<int64_t>(tv, {96});
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype);
    const Tensor w = rand({96}, {.dtype = dtype});
    const Tensor x = randn_grad({96, 81}, dtype, 3);
    check_cuda_parity(
        [&](const In& in) {
          std::vector<Tensor> out;
          for (Reduction r : {Reduction::none, Reduction::sum, Reduction::mean}) {
            out.push_back(cross_entropy(in[0], in[1], -100, {.reduction = r}));
            out.push_back(cross_entropy(in[0], in[1], -100, {.reduction = r, .weight = in[2]}));
          }
          return out;
        },
        {x, t, w}, tol(dtype).rtol, tol(dtype).atol);
    check_cuda_parity(single([&](const In& in) {
                        return cross_entropy(in[0], in[1], -100,
                                             {.weight = in[2], .avg_factor = 100.0});
                      }),
                      {x, t, w}, tol(dtype).rtol, tol(dtype).atol);
    // A single class and a wide row (more classes than a block's lanes).
    check_cuda_parity(single([](const In& in) { return cross_entropy(in[0], in[1]); }),
                      {randn_grad({5, 1}, dtype), zeros({5}, {.dtype = DType::i64})},
                      tol(dtype).rtol, tol(dtype).atol);
    check_cuda_parity(single([](const In& in) { return cross_entropy(in[0], in[1]); }),
                      {randn_grad({3, 700}, dtype), from_vector<int64_t>({699, 0, 350}, {3})},
                      tol(dtype).rtol, tol(dtype).atol);

    const Tensor bx = randn_grad({16, 3, 7, 5}, dtype, 5);
    const Tensor bt = rand({16, 3, 7, 5}, {.dtype = dtype});
    const Tensor bw = rand({16, 1, 1, 5}, {.dtype = dtype});
    check_cuda_parity(
        [&](const In& in) {
          std::vector<Tensor> out;
          for (Reduction r : {Reduction::none, Reduction::sum, Reduction::mean})
            out.push_back(
                binary_cross_entropy_with_logits(in[0], in[1], {.reduction = r, .weight = in[2]}));
          return out;
        },
        {bx, bt, bw}, tol(dtype).rtol, tol(dtype).atol);
    // Strided logits (a slice of every other column).
    check_cuda_parity(single([&](const In& in) {
                        return binary_cross_entropy_with_logits(slice(in[0], 1, 0, 6, 2), in[1]);
                      }),
                      {randn_grad({40, 6}, dtype), rand({40, 3}, {.dtype = dtype})},
                      tol(dtype).rtol, tol(dtype).atol);
  }
}

TEST_CASE("cuda: an invalid target names its value and position") {
  const Tensor x = randn({5, 4}, {.device = kCuda});
  CHECK_THROWS_WITH_ALL(cross_entropy(x, to(from_vector<int64_t>({0, 1, -100, 9, 7}, {5}), kCuda)),
                        "cross_entropy", "target 9 at position 3", "4 classes");
}

TEST_CASE("cuda: l1, smooth_l1, mse and linear match the CPU") {
  const Tensor x = randn_grad({32, 4}, DType::f32), t = randn({32, 4});
  const Tensor w = rand({32, 1});
  check_cuda_parity(
      [](const In& in) {
        const LossOptions o{.weight = in[2], .avg_factor = 20.0};
        return std::vector<Tensor>{l1_loss(in[0], in[1], o),
                                   smooth_l1_loss(in[0], in[1], 1.0 / 9, o),
                                   mse_loss(in[0], in[1], {.reduction = Reduction::sum})};
      },
      {x, t, w}, 1e-5, 1e-6);
  for (DType dtype : {DType::f32, DType::f64})
    check_cuda_parity(
        single([](const In& in) { return linear(in[0], in[1], in[2]); }),
        {randn_grad({4, 30, 64}, dtype), randn_grad({48, 64}, dtype), randn_grad({48}, dtype)},
        tol(dtype).rtol, 1e-5);
}

TEST_CASE("cuda: dropout draws the CPU's mask for the same seed") {
  const Tensor x = randn({37, 53});
  Generator on_cpu(21), on_cuda(21);
  const Tensor expected = dropout(x, 0.35, true, &on_cpu);
  const Tensor got = dropout(to(x, kCuda), 0.35, true, &on_cuda);
  CHECK(got.device() == kCuda);
  check_close(got, expected, 0, 0);
}

TEST_CASE("cuda: nearest upsampling and bilinear interpolation match the CPU") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype);
    const Tensor x = randn_grad({2, 3, 13, 10}, dtype);
    const std::array<int64_t, 2> sizes[] = {{26, 20}, {17, 31}, {5, 4}};
    check_cuda_parity(single([](const In& in) { return upsample_nearest2d(in[0], 2); }), {x},
                      tol(dtype).rtol, tol(dtype).atol);
    for (auto size : sizes) {
      CAPTURE(size[0]);
      CAPTURE(size[1]);
      check_cuda_parity(
          [size](const In& in) {
            return std::vector<Tensor>{upsample_nearest2d(in[0], size),
                                       interpolate_bilinear2d(in[0], size),
                                       interpolate_bilinear2d(in[0], size, true)};
          },
          {x}, tol(dtype).rtol, tol(dtype).atol);
    }
  }
  // A strided (permuted) input.
  check_cuda_parity(single([](const In& in) {
                      return interpolate_bilinear2d(permute(in[0], {0, 3, 1, 2}), {9, 7});
                    }),
                    {randn_grad({2, 6, 5, 3}, DType::f32)}, 1e-5, 1e-6);
}

TEST_CASE("cuda gradcheck: softmax, losses, linear, dropout and resampling on the device") {
  for (int64_t dim : {0, 1, -1}) {
    CAPTURE(dim);
    CHECK_GRADCHECK([dim](const In& in) { return softmax(in[0], dim); },
                    {leaf({3, 4, 2}, -1, 1, kCuda)});
    CHECK_GRADCHECK([dim](const In& in) { return log_softmax(in[0], dim); },
                    {leaf({3, 4, 2}, -1, 1, kCuda)});
  }
  const Tensor t = to(from_vector<int64_t>({2, -100, 0, 3}, {4}), kCuda);
  const Tensor w = to(from_vector<double>({0.5, 1, 2, 0.25}, {4}), kCuda);
  for (Reduction r : {Reduction::none, Reduction::sum, Reduction::mean})
    CHECK_GRADCHECK([&](const In& in) { return cross_entropy(in[0], t, -100, {.reduction = r}); },
                    {leaf({4, 5}, -2, 2, kCuda)});
  CHECK_GRADCHECK(
      [&](const In& in) { return cross_entropy(in[0], t, -100, {.weight = w, .avg_factor = 3.0}); },
      {leaf({4, 5}, -2, 2, kCuda)});
  const Tensor t01 = rand({3, 4}, {.dtype = DType::f64, .device = kCuda});
  const Tensor tw = rand({3, 1}, {.dtype = DType::f64, .device = kCuda});
  for (Reduction r : {Reduction::none, Reduction::sum, Reduction::mean})
    CHECK_GRADCHECK(
        [&](const In& in) {
          return binary_cross_entropy_with_logits(in[0], t01, {.reduction = r, .weight = tw});
        },
        {leaf({3, 4}, -4, 4, kCuda)});
  CHECK_GRADCHECK(
      [&](const In& in) {
        return add(smooth_l1_loss(add(in[0], t01), t01, 0.5, {.weight = tw, .avg_factor = 2.0}),
                   mse_loss(in[0], t01));
      },
      {leaf({3, 4}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) { return linear(in[0], in[1], in[2]); },
      {leaf({2, 3}, -1, 1, kCuda), leaf({4, 3}, -1, 1, kCuda), leaf({4}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) {
        Generator gen(4);
        return dropout(in[0], 0.5, true, &gen);
      },
      {leaf({3, 5}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return upsample_nearest2d(in[0], 2); },
                  {leaf({1, 2, 2, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return upsample_nearest2d(in[0], {5, 3});
      },
      {leaf({1, 1, 3, 4}, -1, 1, kCuda)});
  for (bool align : {false, true}) {
    CAPTURE(align);
    CHECK_GRADCHECK(
        [align](const In& in) {
          return interpolate_bilinear2d(in[0], {5, 7}, align);
        },
        {leaf({1, 1, 3, 4}, -1, 1, kCuda)});
    CHECK_GRADCHECK(
        [align](const In& in) {
          return interpolate_bilinear2d(in[0], {2, 3}, align);
        },
        {leaf({1, 2, 5, 4}, -1, 1, kCuda)});
  }
}

TEST_SUITE_END();
