// conv2d and conv_transpose2d on the (emulated) CUDA device: f64 gradcheck over configurations,
// parity with the CPU kernels (forward and every gradient) on larger f32 and f64 inputs, the
// chunked loops of the hand-written path, device mismatch errors.
#include "core/cuda/dnn.h"
#include "ops/conv.h"
#include "ops/cuda/conv.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

#include <cstdlib>
#include <string>
#include <string_view>

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::single;
using In = std::vector<Tensor>;

namespace {

Tensor grad_leaf(Shape shape, bool strided = false) {
  if (!strided) return leaf(std::move(shape), -1, 1, kCuda);
  Tensor t = splat::test::noncontiguous(leaf(std::move(shape), -1, 1, kCuda).detach());
  return t.requires_grad_();
}

Tensor random_leaf(Shape shape, DType dtype) {
  return ops::randn(std::move(shape), {.dtype = dtype}).requires_grad_();
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dOptions o;
  bool bias;
};

// Larger shapes for the CPU parity: ResNeSt's kinds of convolution at reduced width.
const std::vector<ConvCase>& parity_cases() {
  static const std::vector<ConvCase> c = {
      {"stem 3x3 s2", {2, 3, 24, 22}, {8, 3, 3, 3}, {.stride = 2, .padding = 1}, false},
      {"radix conv 3x3 groups 2",
       {2, 16, 14, 14},
       {32, 8, 3, 3},
       {.padding = 1, .groups = 2},
       true},
      {"pointwise", {2, 32, 9, 9}, {24, 32, 1, 1}, {}, false},
      {"three CPU bands", {1, 16, 64, 64}, {4, 16, 3, 3}, {.padding = 1}, false},
      {"split-attention fc", {4, 32, 1, 1}, {16, 16, 1, 1}, {.groups = 2}, true},
      {"depthwise dilated",
       {1, 8, 12, 10},
       {8, 1, 3, 3},
       {.padding = 2, .dilation = 2, .groups = 8},
       true},
      {"7x5 s(2,1) p(3,2)",
       {1, 4, 15, 13},
       {6, 4, 7, 5},
       {.stride = {2, 1}, .padding = {3, 2}},
       false},
  };
  return c;
}

} // namespace

TEST_SUITE_BEGIN("cuda conv" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: conv2d passes gradcheck in f64") {
  struct Case {
    Shape x, w;
    Conv2dOptions o;
    bool bias, strided;
  };
  const Case cases[] = {
      {{2, 4, 4, 4}, {4, 2, 3, 3}, {.padding = 1, .groups = 2}, true, false},
      {{1, 2, 5, 4},
       {2, 2, 2, 3},
       {.stride = 2, .padding = {0, 1}, .dilation = {2, 1}},
       false,
       true},
      {{1, 3, 4, 4}, {3, 1, 3, 3}, {.padding = 2, .groups = 3}, true, false},
      {{2, 3, 2, 3}, {2, 3, 1, 1}, {}, true, true},
      {{2, 4, 1, 1}, {4, 2, 1, 1}, {.groups = 2}, true, false},
  };
  for (const Case& c : cases) {
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.w));
    In in{grad_leaf(c.x, c.strided), grad_leaf(c.w)};
    if (c.bias) in.push_back(grad_leaf({c.w[0]}));
    CHECK_GRADCHECK([&](const In& v) { return conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.o); },
                    in);
  }
}

TEST_CASE("cuda: conv_transpose2d passes gradcheck in f64") {
  struct Case {
    Shape x, w;
    ConvTranspose2dOptions o;
    bool bias;
  };
  const Case cases[] = {
      {{2, 2, 2, 3}, {2, 3, 2, 2}, {.stride = 2}, true},
      {{1, 4, 2, 2},
       {4, 1, 3, 3},
       {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2},
       false},
      {{1, 2, 2, 2}, {2, 1, 2, 2}, {.output_padding = 1, .dilation = 2}, true},
  };
  for (const Case& c : cases) {
    CAPTURE(shape_str(c.x));
    In in{grad_leaf(c.x), grad_leaf(c.w)};
    if (c.bias) in.push_back(grad_leaf({c.w[1] * c.o.groups}));
    CHECK_GRADCHECK(
        [&](const In& v) { return conv_transpose2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.o); },
        in);
  }
}

TEST_CASE("cuda: conv2d matches the CPU on larger inputs, f32 and f64") {
  for (const DType dtype : {DType::f32, DType::f64}) {
    for (const ConvCase& c : parity_cases()) {
      CAPTURE(std::string(c.name));
      CAPTURE(dtype);
      In in{random_leaf(c.x, dtype), random_leaf(c.w, dtype)};
      if (c.bias) in.push_back(random_leaf({c.w[0]}, dtype));
      const double tol = dtype == DType::f32 ? 1e-4 : 1e-11;
      check_cuda_parity(
          single([&](const In& v) { return conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.o); }),
          in, tol, tol);
    }
  }
}

TEST_CASE("cuda: conv_transpose2d matches the CPU, f32") {
  const In mask_head{random_leaf({2, 16, 7, 7}, DType::f32), random_leaf({16, 8, 2, 2}, DType::f32),
                     random_leaf({8}, DType::f32)};
  check_cuda_parity(
      single([](const In& v) { return conv_transpose2d(v[0], v[1], v[2], {.stride = 2}); }),
      mask_head, 1e-4, 1e-4);
  const In grouped{random_leaf({2, 8, 5, 6}, DType::f32), random_leaf({8, 3, 3, 3}, DType::f32)};
  check_cuda_parity(single([](const In& v) {
                      return conv_transpose2d(
                          v[0], v[1], Tensor(),
                          {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
                    }),
                    grouped, 1e-4, 1e-4);
}

TEST_CASE("cuda: conv2d and conv_transpose2d give the same results when the hand-written path "
          "works in chunks of images") {
  const In conv{random_leaf({5, 4, 6, 6}, DType::f64), random_leaf({6, 2, 3, 3}, DType::f64),
                random_leaf({6}, DType::f64)};
  const In transposed{random_leaf({3, 6, 4, 4}, DType::f64), random_leaf({6, 2, 2, 2}, DType::f64)};
  // Two images' column matrices at a time (4 * 9 * 36 elements each), then one.
  for (const int64_t cap : {2 * 4 * 9 * 36, 1}) {
    CAPTURE(cap);
    ops::cuda::set_max_column_elements_for_testing(cap);
    check_cuda_parity(
        single([](const In& v) { return conv2d(v[0], v[1], v[2], {.padding = 1, .groups = 2}); }),
        conv, 1e-11, 1e-11);
    check_cuda_parity(
        single([](const In& v) { return conv_transpose2d(v[0], v[1], Tensor(), {.stride = 2}); }),
        transposed, 1e-11, 1e-11);
  }
  ops::cuda::set_max_column_elements_for_testing(0);
}

TEST_CASE("cuda: conv2d of an empty batch is empty and its weight gradient is zero") {
  Tensor x = ops::randn({0, 4, 5, 5}, {.device = kCuda}).requires_grad_();
  Tensor w = ops::randn({6, 2, 3, 3}, {.device = kCuda}).requires_grad_();
  const Tensor y = conv2d(x, w, Tensor(), {.padding = 1, .groups = 2});
  CHECK(y.shape() == Shape{0, 6, 5, 5});
  autograd::backward(y, ops::zeros(y.shape(), {.device = kCuda}));
  splat::test::check_close(w.grad(), ops::zeros(w.shape()), 0, 0);
}

TEST_CASE("cuda: conv2d names the devices when its arguments live on different ones") {
  const Tensor x = ops::randn({1, 2, 4, 4}, {.device = kCuda});
  const Tensor w = ops::randn({2, 2, 3, 3});
  CHECK_THROWS_WITH_ALL(conv2d(x, w), "conv2d", "different devices", "cuda:0", "cpu");
  CHECK_THROWS_WITH_ALL(conv2d(x, ops::to(w, kCuda), ops::zeros({2})), "conv2d",
                        "different devices");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, w), "conv_transpose2d", "different devices");
}

TEST_CASE("cuda: conv uses cuDNN only in the real build, and not with SPLAT_DISABLE_CUDNN=1") {
  const char* v = std::getenv("SPLAT_DISABLE_CUDNN");
  const bool disabled = v != nullptr && std::string_view(v) == "1";
  CHECK(splat::cuda::dnn::enabled() == (splat::cuda::is_real_build() && !disabled));
}

TEST_SUITE_END();
