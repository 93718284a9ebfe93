// Split-attention on the CPU: the fused ops against the same computation written with unfused
// ops (view, sum, mean, softmax, transpose, mul: the spec's definition, section 1.1), forward
// and backward; float64 gradcheck over radix 1/2/4 x cardinality 1/2, odd spatial sizes, batch
// 1 and 3; strided inputs; hand-checked radix-major ordering; bad input.
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/split_attention.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/split_attention_reference.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::to_vector;

TEST_CASE("split_attention: fused ops equal the unfused composition, forward and backward") {
  for (const auto& cfg : test::split_attention_configs()) {
    CAPTURE(cfg.radix);
    CAPTURE(cfg.cardinality);
    CAPTURE(cfg.n);
    const int64_t rc = cfg.radix * cfg.c;
    for (DType dt : {DType::f32, DType::f64}) {
      const Tensor x = to(leaf({cfg.n, rc, cfg.h, cfg.w}, -2, 2), dt).detach().requires_grad_();
      const Tensor z = to(leaf({cfg.n, rc}, -3, 3), dt).detach().requires_grad_();
      const Tensor xr = clone(x).detach().requires_grad_(), zr = clone(z).detach().requires_grad_();
      const auto fused = test::fused_block(x, z, cfg);
      const auto unfused = test::unfused_block(xr, zr, cfg);
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      for (size_t k = 0; k < fused.size(); ++k) check_close(fused[k], unfused[k], tol, tol);
      test::backward_all(fused, 11);
      test::backward_all(unfused, 11);
      check_close(x.grad(), xr.grad(), tol, tol);
      check_close(z.grad(), zr.grad(), tol, tol);
    }
  }
}

TEST_CASE("split_attention: float64 gradcheck of pool, rsoftmax and combine") {
  for (const auto& cfg : test::split_attention_configs()) {
    CAPTURE(cfg.radix);
    CAPTURE(cfg.cardinality);
    const int64_t rc = cfg.radix * cfg.c;
    const Tensor x = leaf({cfg.n, rc, cfg.h, cfg.w}), z = leaf({cfg.n, rc, 1, 1}, -2, 2);
    CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return test::fused_block(in[0], in[1], cfg); },
        {x, z});
  }
}

TEST_CASE("split_attention: strided inputs give the contiguous result") {
  const test::SplitAttentionConfig cfg{2, 2, 3, 4, 5, 3};
  const Tensor x = leaf({3, 8, 5, 3}).detach(), z = leaf({3, 8}).detach();
  const auto expected = test::fused_block(x, z, cfg);
  // x with its spatial dims transposed back, and z read from every other column.
  const Tensor xs = transpose(contiguous(transpose(x, 2, 3)), 2, 3);
  const auto got = test::fused_block(xs, test::noncontiguous(z), cfg);
  REQUIRE_FALSE(xs.is_contiguous());
  for (size_t k = 0; k < got.size(); ++k) check_close(got[k], expected[k], 0, 0);
}

TEST_CASE("rsoftmax: radix-major output order of the spec (K=2, R=2, C=4)") {
  // z[n, (k*R + r)*(C/K) + j]; a[r*C + k*C/K + j] = softmax over r.
  std::vector<double> zv{0.1, 0.2, 1.0, -1.0, 2.0, 0.5, -0.3, 0.7};
  const Tensor a = rsoftmax(from_vector<double>(zv, {1, 8}), 2, 2);
  const auto av = to_vector<double>(a);
  auto sm = [](double u, double v) { return std::exp(u) / (std::exp(u) + std::exp(v)); };
  // (k=0, j=0): logits z[0] (r=0), z[2] (r=1) -> a[0], a[4]. (k=1, j=1): z[5], z[7] -> a[3], a[7].
  CHECK(av[0] == doctest::Approx(sm(zv[0], zv[2])).epsilon(1e-14));
  CHECK(av[4] == doctest::Approx(sm(zv[2], zv[0])).epsilon(1e-14));
  CHECK(av[3] == doctest::Approx(sm(zv[5], zv[7])).epsilon(1e-14));
  CHECK(av[7] == doctest::Approx(sm(zv[7], zv[5])).epsilon(1e-14));
  const auto sig = to_vector<double>(rsoftmax(from_vector<double>({0.0, 2.0}, {1, 2}), 1, 2));
  CHECK(sig[0] == doctest::Approx(0.5));
  CHECK(sig[1] == doctest::Approx(1 / (1 + std::exp(-2.0))));
}

TEST_CASE("split_attention: empty batch") {
  const Tensor x = zeros({0, 4, 3, 3}), z = zeros({0, 4});
  CHECK(split_attention(x, z, 2, 1).shape() == Shape{0, 2, 3, 3});
  CHECK(split_attention_pool(x, 2).shape() == Shape{0, 2, 1, 1});
}

TEST_CASE("split_attention: bad input gives a clear error") {
  const Tensor x = zeros({2, 6, 3, 3}), z = zeros({2, 6});
  CHECK_THROWS_WITH_ALL(split_attention_pool(x, 4), "split_attention_pool", "6 channels",
                        "radix 4");
  CHECK_THROWS_WITH_ALL(split_attention_pool(x, 0), "radix must be at least 1");
  CHECK_THROWS_WITH_ALL(split_attention_pool(zeros({2, 6, 3}), 2), "(N, radix*C, H, W)",
                        "[2, 6, 3]");
  CHECK_THROWS_WITH_ALL(rsoftmax(z, 2, 2), "rsoftmax", "radix * cardinality = 2 * 2");
  CHECK_THROWS_WITH_ALL(rsoftmax(zeros({2, 6, 2, 1}), 2, 1),
                        "logits must be (2, 6) or (2, 6, 1, 1)");
  CHECK_THROWS_WITH_ALL(split_attention_combine(x, zeros({2, 4}), 2), "split_attention_combine",
                        "attention must be (2, 6)", "[2, 4]");
  CHECK_THROWS_WITH_ALL(split_attention_combine(x, zeros({2, 6}, {.dtype = DType::f64}), 2),
                        "dtype mismatch");
  CHECK_THROWS_WITH_ALL(split_attention(zeros({2, 6, 3, 3}, {.dtype = DType::i64}), z, 2, 1),
                        "x must be float32 or float64", "i64");
}
