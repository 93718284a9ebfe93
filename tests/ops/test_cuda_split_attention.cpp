// Split-attention on the emulated CUDA device: float64 gradcheck over radix 1/2/4 x cardinality
// 1/2 (odd spatial sizes, batch 1 and 3), CPU-vs-CUDA parity of the block's outputs and input
// gradients on bigger float32 and float64 inputs (ResNeSt-like widths, planes that take one
// and several warps, strided inputs), and agreement with the unfused composition on the device.
#include "ops/split_attention.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"
#include "tests/ops/split_attention_reference.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_cuda_parity;
using splat::test::kCuda;
using splat::test::leaf;

TEST_SUITE_BEGIN("cuda split_attention" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda split_attention: float64 gradcheck of pool, rsoftmax and combine") {
  for (const auto& cfg : test::split_attention_configs(1, 1)) {
    CAPTURE(cfg.radix);
    CAPTURE(cfg.cardinality);
    const int64_t rc = cfg.radix * cfg.c;
    const Tensor x = leaf({cfg.n, rc, cfg.h, cfg.w}, -1, 1, kCuda);
    const Tensor z = leaf({cfg.n, rc}, -2, 2, kCuda);
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return test::fused_block(in[0], in[1], cfg); },
        {x, z});
  }
}

TEST_CASE("cuda split_attention: parity with the CPU on bigger inputs, float32 and float64") {
  // (radix, cardinality, n, c, h, w): the ResNeSt default (R=2, K=1) at a late-stage 7x7 and an
  // odd 15x13 plane (several warps per block), radix 4 with cardinality 2, and radix 1.
  const std::vector<test::SplitAttentionConfig> configs{
      {2, 1, 2, 64, 7, 7}, {2, 1, 2, 16, 15, 13}, {4, 2, 3, 16, 5, 9}, {1, 2, 2, 24, 9, 9}};
  for (const auto& cfg : configs)
    for (DType dt : {DType::f32, DType::f64}) {
      CAPTURE(cfg.radix);
      CAPTURE(cfg.c);
      CAPTURE(dt);
      const int64_t rc = cfg.radix * cfg.c;
      const Tensor x = ops::to(ops::randn({cfg.n, rc, cfg.h, cfg.w}), dt).requires_grad_();
      const Tensor z = ops::to(ops::randn({cfg.n, rc, 1, 1}), dt).requires_grad_();
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      check_cuda_parity(
          [cfg](const std::vector<Tensor>& in) { return test::fused_block(in[0], in[1], cfg); },
          {x, z}, tol, tol);
      // The same with x transposed in its spatial dims: strided input on the device.
      check_cuda_parity(
          [cfg](const std::vector<Tensor>& in) {
            return test::fused_block(transpose(in[0], 2, 3), in[1], cfg);
          },
          {x, z}, tol, tol);
    }
}

TEST_CASE("cuda split_attention: fused ops equal the unfused composition on the device") {
  const test::SplitAttentionConfig cfg{4, 2, 2, 8, 5, 3};
  const Tensor x = leaf({2, 32, 5, 3}, -2, 2, kCuda), z = leaf({2, 32}, -3, 3, kCuda);
  const Tensor xr = ops::clone(x).detach().requires_grad_(),
               zr = ops::clone(z).detach().requires_grad_();
  const auto fused = test::fused_block(x, z, cfg), unfused = test::unfused_block(xr, zr, cfg);
  for (size_t k = 0; k < fused.size(); ++k) check_close(fused[k], unfused[k], 1e-12, 1e-12);
  test::backward_all(fused, 5);
  test::backward_all(unfused, 5);
  check_close(x.grad(), xr.grad(), 1e-12, 1e-12);
  check_close(z.grad(), zr.grad(), 1e-12, 1e-12);
}

TEST_SUITE_END();
