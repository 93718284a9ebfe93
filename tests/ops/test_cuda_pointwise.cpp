// CUDA pointwise and copy kernels: parity with the CPU kernels (forward and backward) on
// broadcast, strided and zero-size inputs, and float64 gradcheck on the emulated device.
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::single;
using In = std::vector<Tensor>;

TEST_SUITE_BEGIN("cuda pointwise" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: unary ops match the CPU on contiguous, strided and empty inputs") {
  for (UnaryOp op : {UnaryOp::neg, UnaryOp::abs, UnaryOp::exp, UnaryOp::log, UnaryOp::sqrt,
                     UnaryOp::rsqrt, UnaryOp::square, UnaryOp::relu, UnaryOp::sigmoid, UnaryOp::tanh,
                     UnaryOp::logical_not}) {
    CAPTURE(info(op).name);
    const bool positive = op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::rsqrt;
    const bool grad = op != UnaryOp::logical_not;
    const auto f = single([op](const In& in) { return unary(op, in[0]); });
    Tensor x = leaf({3, 4}, positive ? 0.5 : -2, 2);
    if (!grad) x = x.detach();
    check_cuda_parity(f, {x}, 1e-12, 1e-12);
    check_cuda_parity(single([op](const In& in) { return unary(op, transpose(in[0], 0, 1)); }), {x}, 1e-12, 1e-12);
    check_cuda_parity(single([op](const In& in) { return unary(op, slice(in[0], 1, 0, 4, 2)); }), {x}, 1e-12, 1e-12);
    check_cuda_parity(f, {ops::zeros({0, 3}, {.dtype = DType::f64})});
    check_cuda_parity(f, {ops::to(x.detach(), DType::f32)});
  }
}

TEST_CASE("cuda: binary, scalar, clamp, where and in-place ops match the CPU") {
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div, BinaryOp::pow,
                      BinaryOp::maximum, BinaryOp::minimum, BinaryOp::eq, BinaryOp::lt,
                      BinaryOp::ge, BinaryOp::logical_and}) {
    CAPTURE(info(op).name);
    check_cuda_parity(single([op](const In& in) { return binary(op, in[0], in[1]); }),
                      {leaf({2, 1, 3}, 0.5, 2), leaf({4, 1}, 0.5, 2)}, 1e-12, 1e-12);
    check_cuda_parity(single([op](const In& in) { return binary(op, in[0], 1.5); }), {leaf({5}, 0.5, 2)}, 1e-12, 1e-12);
  }
  // relu's gradient kernel (not differentiable itself): inputs without grad, y around 0.
  check_cuda_parity(single([](const In& in) { return binary(BinaryOp::relu_backward, in[0], in[1]); }),
                    {leaf({2, 1, 3}).detach(), leaf({4, 1}).detach()}, 1e-12, 1e-12);
  const Tensor i = ops::from_vector<int32_t>({-3, 5, 0, 7}, {2, 2});
  check_cuda_parity(single([](const In& in) { return add(mul(in[0], in[0]), in[1]); }),
                    {i, ops::from_vector<int32_t>({1, -1}, {2})});
  check_cuda_parity(single([](const In& in) { return clamp(in[0], -0.3, 0.4); }), {leaf({3, 3})}, 1e-12, 1e-12);
  const Tensor cond = ops::from_vector<bool>({true, false, true}, {3});
  check_cuda_parity(single([&](const In& in) { return where(ops::to(cond, in[0].device()), in[0], in[1]); }),
                    {leaf({2, 3}), leaf({1})}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) {
    Tensor t = mul(in[0], 2.0);
    add_(t, in[1]);
    relu_(t);
    return t;
  }), {leaf({3, 4}), leaf({4})}, 1e-12, 1e-12);
}

TEST_CASE("cuda: gradcheck of pointwise ops on the emulated device") {
  CHECK_GRADCHECK([](const In& in) { return mul(sigmoid(in[0]), add(in[1], 1.0)); },
                  {leaf({2, 3}, -1, 1, kCuda), leaf({3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return div(exp(in[0]), maximum(in[1], in[0])); },
                  {leaf({4}, 0.5, 2, kCuda), leaf({4}, 0.5, 2, kCuda)});
}

TEST_CASE("cuda: ops refuse tensors on different devices, naming both") {
  CHECK_THROWS_WITH_ALL(add(ops::zeros({2}), ops::zeros({2}, {.device = kCuda})), "add",
                        "different devices", "cpu", "cuda:0");
  CHECK_THROWS_WITH_ALL(add(ops::zeros({2}, {.device = Device::cuda(1)}), ops::zeros({2}, {.device = kCuda})),
                        "cuda:1", "cuda:0");
}

TEST_SUITE_END();
