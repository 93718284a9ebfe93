// CUDA reductions and matrix products: parity with the CPU kernels (forward and backward) over
// dim subsets, keepdim, strided, zero-size, integer and bool inputs, ties and NaN; sizes that
// take the multi-block and multi-pass (chunked) paths; the GEMM wrapper against a naive loop;
// float64 gradcheck on the emulated device.
#include "core/cuda/blas.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_cuda_parity;
using splat::test::check_equal;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::single;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

// The dims of subset `mask` of an n-d tensor, negative every other time; {} (all dims) for 0.
Dims dims_of(int mask, int n) {
  Dims dims;
  for (int d = 0; d < n; ++d)
    if (mask >> d & 1) dims.push_back(dims.size() % 2 ? d - n : d);
  return dims;
}

// Views applied inside the parity functions, so the CUDA kernels see strided inputs.
enum class View { plain, transposed, sliced, permuted };
Tensor apply(View v, const Tensor& x) {
  switch (v) {
  case View::plain: return x;
  case View::transposed: return transpose(x, 0, -1);
  case View::sliced: return slice(x, -1, 0, x.size(-1), 2);
  case View::permuted: return permute(x, {1, 2, 0});
  }
  return x;
}

// Values with many repeats (ties) in [-2, 2], as f64.
Tensor with_ties(Shape shape) {
  const Tensor r = ops::rand(std::move(shape), {.dtype = DType::f64});
  return sub(to(to(mul(r, 5.0), DType::i64), DType::f64), 2.0);
}

} // namespace

TEST_SUITE_BEGIN("cuda reduce" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: sum, mean, prod, amax, amin match the CPU over dim subsets, keepdim and views") {
  using Reduction = Tensor (*)(const Tensor&, const Dims&, bool);
  const std::pair<const char*, Reduction> reductions[] = {
      {"sum", &sum}, {"mean", &mean}, {"prod", &prod}, {"amax", &amax}, {"amin", &amin}};
  const Tensor x = leaf({3, 4, 6}, 0.5, 1.5);
  for (View v : {View::plain, View::transposed, View::sliced, View::permuted}) {
    for (int mask = 0; mask < 8; ++mask) {
      const Dims dims = dims_of(mask, 3);
      const bool keepdim = (mask + static_cast<int>(v)) % 2 == 0;
      for (const auto& [name, f] : reductions) {
        CAPTURE(name);
        CAPTURE(static_cast<int>(v));
        CAPTURE(mask);
        check_cuda_parity(
            single([&, f = f](const In& in) { return f(apply(v, in[0]), dims, keepdim); }), {x},
            1e-12, 1e-12);
      }
    }
  }
}

TEST_CASE("cuda: var matches the CPU, unbiased and biased, over dim subsets and views") {
  const Tensor x = leaf({3, 4, 6}, -1, 3);
  for (View v : {View::plain, View::transposed, View::sliced}) {
    for (int mask = 0; mask < 8; ++mask) {
      for (bool unbiased : {true, false}) {
        CAPTURE(static_cast<int>(v));
        CAPTURE(mask);
        CAPTURE(unbiased);
        const Dims dims = dims_of(mask, 3);
        check_cuda_parity(single([&](const In& in) {
                            return var(apply(v, in[0]), dims, unbiased, mask % 2 == 1);
                          }),
                          {x}, 1e-12, 1e-12);
      }
    }
  }
  // One element: the unbiased variance divides by zero (NaN) on both devices.
  check_cuda_parity(single([](const In& in) { return var(in[0], {1}); }), {leaf({3, 1})});
  CHECK(std::isnan(var(ops::ones({1}, {.device = kCuda})).item<float>()));
}

TEST_CASE("cuda: integer, bool and float32 inputs give the CPU's dtypes and values") {
  const Tensor f = ops::rand({5, 7}, {.dtype = DType::f32});
  for (DType dt : {DType::i64, DType::i32, DType::u8, DType::b8}) {
    CAPTURE(dt);
    const Tensor x =
        to(mul(ops::rand({5, 7}), dt == DType::b8 ? 2.0 : 4.0), dt); // small: no overflow
    for (int mask = 0; mask < 4; ++mask) {
      const Dims dims = dims_of(mask, 2);
      CAPTURE(mask);
      check_cuda_parity(
          single([&](const In& in) { return sum(apply(View::transposed, in[0]), dims); }), {x}, 0,
          0);
      check_cuda_parity(single([&](const In& in) { return prod(in[0], dims, true); }), {x}, 0, 0);
      check_cuda_parity(single([&](const In& in) { return all(apply(View::sliced, in[0]), dims); }),
                        {x}, 0, 0);
      check_cuda_parity(single([&](const In& in) { return any(in[0], dims); }), {x}, 0, 0);
      if (dt != DType::b8) {
        check_cuda_parity(single([&](const In& in) { return amax(in[0], dims); }), {x}, 0, 0);
        check_cuda_parity(
            single([&](const In& in) { return amin(apply(View::transposed, in[0]), dims); }), {x},
            0, 0);
      }
    }
    CHECK(sum(to(x, kCuda)).dtype() == DType::i64);
    CHECK(all(to(x, kCuda)).dtype() == DType::b8);
  }
  // f32 sums accumulate in double on both devices: 2^24 + 1 + 1 + 1 + 1 is exact, where an f32
  // accumulator would stay at 2^24.
  for (int mask = 0; mask < 4; ++mask)
    check_cuda_parity(single([&](const In& in) { return sum(in[0], dims_of(mask, 2)); }), {f}, 1e-6,
                      1e-7);
  const Tensor big = to(ops::from_vector<float>({16777216.f, 1.f, 1.f, 1.f, 1.f}, {5}), kCuda);
  CHECK(sum(big).item<float>() == 16777220.f);
  // all / any of known values, and of bool produced on the device.
  const Tensor b = to(ops::from_vector<bool>({true, true, false, true, true, true}, {2, 3}), kCuda);
  check_equal(all(b, {1}), ops::from_vector<bool>({false, true}, {2}));
  check_equal(any(logical_not(b), {0}), ops::from_vector<bool>({false, false, true}, {3}));
}

TEST_CASE("cuda: zero-size inputs reduce to the identity; max over an empty dim is refused") {
  const Tensor e = ops::zeros({0, 3}, {.dtype = DType::f64});
  for (int dim : {0, 1}) {
    CAPTURE(dim);
    check_cuda_parity(single([&](const In& in) { return sum(in[0], {dim}); }), {e});
    check_cuda_parity(single([&](const In& in) { return prod(in[0], {dim}, true); }), {e});
    check_cuda_parity(single([&](const In& in) { return mean(in[0], {dim}); }), {e});
    check_cuda_parity(single([&](const In& in) { return var(in[0], {dim}); }), {e});
    check_cuda_parity(single([&](const In& in) { return all(in[0], {dim}); }), {e});
    check_cuda_parity(single([&](const In& in) { return any(in[0], {dim}); }), {e});
  }
  check_equal(sum(ops::zeros({0, 3}, {.dtype = DType::i32, .device = kCuda}), {0}),
              ops::zeros({3}, {.dtype = DType::i64}));
  CHECK(std::isnan(mean(to(e, kCuda)).item<double>()));
  check_cuda_parity(single([](const In& in) { return amax(in[0], {0}); }), {reshape(e, {3, 0})});
  CHECK_THROWS_WITH_ALL(amax(to(e, kCuda), {0}), "amax", "cannot reduce over dim 0", "[0, 3]");
  CHECK_THROWS_WITH_ALL(max(to(e, kCuda), 0), "max", "cannot reduce over dim 0");
  // 0-d tensors reduce over their single element.
  const Tensor s = ops::full({}, 2.5, {.dtype = DType::f64});
  check_cuda_parity(single([](const In& in) { return sum(in[0]); }), {s});
  check_cuda_parity(
      [](const In& in) {
        const auto r = max(in[0], 0);
        return In{r.values, r.indices};
      },
      {s});
}

TEST_CASE("cuda: max, min, argmax, argmin pick the first of ties and propagate NaN") {
  const Tensor t = with_ties({6, 5, 7});
  for (int dim : {0, 1, 2, -1}) {
    for (View v : {View::plain, View::transposed, View::sliced}) {
      CAPTURE(dim);
      CAPTURE(static_cast<int>(v));
      const bool keepdim = dim % 2 == 0;
      check_cuda_parity(
          [&](const In& in) {
            const auto r = max(apply(v, in[0]), dim, keepdim);
            return In{r.values, r.indices};
          },
          {t}, 0, 0);
      check_cuda_parity(
          [&](const In& in) {
            const auto r = min(apply(v, in[0]), dim, keepdim);
            return In{r.values, r.indices};
          },
          {t}, 0, 0);
      check_cuda_parity(single([&](const In& in) { return argmax(apply(v, in[0]), dim); }), {t}, 0,
                        0);
      check_cuda_parity(single([&](const In& in) { return argmin(apply(v, in[0]), dim, true); }),
                        {t}, 0, 0);
    }
  }
  check_cuda_parity(single([](const In& in) { return argmax(in[0]); }), {t}, 0, 0);
  check_cuda_parity(single([](const In& in) { return argmin(in[0], std::nullopt, true); }), {t}, 0,
                    0);
  // Hand-checked values: ties, NaN (the first NaN wins), integers.
  const Tensor h =
      to(ops::from_vector<double>({1, 3, 3, 2, NAN, 0, NAN, 5, -1, -1, 4, 4}, {3, 4}), kCuda);
  check_equal(max(h, 1).indices, ops::from_vector<int64_t>({1, 0, 2}, {3}));
  check_equal(min(h, 1).indices, ops::from_vector<int64_t>({0, 0, 0}, {3}));
  check_equal(argmax(h, 0), ops::from_vector<int64_t>({1, 0, 1, 1}, {4}));
  CHECK(std::isnan(amax(h).item<double>()));
  CHECK(std::isnan(to_vector<double>(amin(h, {1}))[1]));
  check_close(amax(h, {0}), ops::from_vector<double>({NAN, 3, NAN, 5}, {4}));
  for (DType dt : {DType::i64, DType::i32, DType::u8}) {
    CAPTURE(dt);
    const Tensor i = to(add(with_ties({4, 9}), 2.0), dt);
    check_cuda_parity(
        [](const In& in) {
          const auto r = max(in[0], 1);
          return In{r.values, r.indices};
        },
        {i}, 0, 0);
    check_cuda_parity(
        [](const In& in) {
          const auto r = min(in[0], 0, true);
          return In{r.values, r.indices};
        },
        {i}, 0, 0);
  }
  CHECK_THROWS_WITH_ALL(max(ops::zeros({2}, {.dtype = DType::b8, .device = kCuda}), 0), "max",
                        "bool");
  // Backward: the gradient goes to the selected element only.
  check_cuda_parity(
      [](const In& in) {
        const auto r = max(in[0], 1);
        return In{r.values};
      },
      {leaf({4, 6})}, 1e-12, 1e-12);
  check_cuda_parity(
      [](const In& in) {
        const auto r = min(transpose(in[0], 0, 1), 0, true);
        return In{r.values};
      },
      {leaf({4, 6})}, 1e-12, 1e-12);
  // amax/amin split the gradient between tied extrema.
  check_cuda_parity(single([](const In& in) { return amax(in[0], {1}); }),
                    {with_ties({4, 6}).requires_grad_()}, 1e-12, 1e-12);
}

TEST_CASE("cuda: large reductions use several blocks and chunked passes and still match") {
  // One output of 20000 elements: split into chunks combined by a second pass.
  const Tensor v = leaf({20000}, -1, 1);
  check_cuda_parity(single([](const In& in) { return sum(in[0]); }), {v}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return mean(slice(in[0], 0, 1, 20000, 3)); }), {v},
                    1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return amin(in[0]); }), {v}, 0, 0);
  // Welford merged over lanes and chunks stays accurate with a large mean.
  check_cuda_parity(single([](const In& in) { return var(add(in[0], 1000.0)); }), {v}, 1e-9, 1e-12);
  // Many outputs with the reduced dim outermost (outputs side by side in memory), with chunks.
  const Tensor tall = leaf({3000, 3}, -1, 1);
  check_cuda_parity(single([](const In& in) { return sum(in[0], {0}); }), {tall}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return var(in[0], {0}, false, true); }), {tall},
                    1e-10, 1e-12);
  const Tensor wide = leaf({40, 600}, -1, 1);
  check_cuda_parity(single([](const In& in) { return prod(add(in[0], 1.5), {0}); }), {wide}, 1e-11,
                    1e-12);
  check_cuda_parity(single([](const In& in) { return mean(in[0], {1}); }), {wide}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return amax(transpose(in[0], 0, 1), {1}); }), {wide},
                    0, 0);
  const Tensor ints = to(mul(ops::rand({3, 9000}), 100.0), DType::i32);
  check_cuda_parity(single([](const In& in) { return sum(in[0], {1}); }), {ints}, 0, 0);
  check_cuda_parity(single([](const In& in) { return sum(in[0]); }), {ints}, 0, 0);
  check_cuda_parity(single([](const In& in) { return any(gt(in[0], 98)); }), {ints}, 0, 0);
  // More outputs (one per block here) than the grid has blocks: blocks loop over outputs.
  check_cuda_parity(single([](const In& in) { return sum(in[0], {1}); }),
                    {leaf({1100, 200}).detach()}, 1e-12, 1e-12);
  // Ties and NaNs far apart in a long row: the first wins across lanes and chunks.
  std::vector<float> row(20000, 0.f);
  row[19999] = row[12345] = row[5000] = 7.f;
  row[3] = row[4] = -7.f;
  Tensor r = to(ops::from_vector<float>(row, {20000}), kCuda);
  CHECK(argmax(r).item<int64_t>() == 5000);
  CHECK(argmin(r).item<int64_t>() == 3);
  row[15000] = row[9000] = NAN;
  r = to(ops::from_vector<float>(row, {20000}), kCuda);
  CHECK(argmax(r).item<int64_t>() == 9000);
  CHECK(argmin(r).item<int64_t>() == 9000);
  CHECK(std::isnan(amax(r).item<float>()));
}

TEST_CASE("cuda: gradcheck of reductions on the emulated device") {
  CHECK_GRADCHECK([](const In& in) { return sum(in[0], {1}); }, {leaf({2, 3, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return mean(in[0], {0, 2}, true);
      },
      {leaf({2, 3, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return var(in[0], {-1}); }, {leaf({3, 4}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return prod(in[0], {1}); }, {leaf({3, 4}, 0.5, 1.5, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return amax(in[0], {0}); }, {leaf({4, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return max(in[0], 1).values; }, {leaf({3, 5}, -1, 1, kCuda)});
}

// ---------------------------------------------------------------------------------------------
// Matrix products.

TEST_CASE("cuda: mm, bmm and matmul match the CPU for every operand layout, forward and backward") {
  const Tensor a = leaf({5, 4}), b = leaf({4, 3});
  check_cuda_parity(single([](const In& in) { return mm(in[0], in[1]); }), {a, b}, 1e-12, 1e-12);
  // Transposed operands go to the GEMM as they are; sliced ones are copied first.
  check_cuda_parity(
      single([](const In& in) { return mm(transpose(in[0], 0, 1), transpose(in[1], 0, 1)); }),
      {leaf({4, 5}), leaf({3, 4})}, 1e-12, 1e-12);
  check_cuda_parity(
      single([](const In& in) { return mm(slice(in[0], 1, 0, 8, 2), slice(in[1], 0, 0, 8, 2)); }),
      {leaf({5, 8}), leaf({8, 3})}, 1e-12, 1e-12);
  const Tensor ba = leaf({3, 5, 4}), bb = leaf({3, 4, 2});
  check_cuda_parity(single([](const In& in) { return bmm(in[0], in[1]); }), {ba, bb}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) {
                      return bmm(transpose(in[0], 1, 2), permute(in[1], {0, 2, 1}));
                    }),
                    {leaf({3, 4, 5}), leaf({3, 2, 4})}, 1e-12, 1e-12);
  // Broadcast batches (stride-0 batch operands), vectors, 1-d @ 1-d.
  check_cuda_parity(single([](const In& in) { return matmul(in[0], in[1]); }),
                    {leaf({2, 1, 3, 4}), leaf({5, 4, 2})}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return matmul(in[0], in[1]); }),
                    {leaf({4}), leaf({3, 4, 2})}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return matmul(in[0], in[1]); }),
                    {leaf({3, 4}), leaf({4})}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) { return matmul(in[0], in[1]); }),
                    {leaf({6}), leaf({6})}, 1e-12, 1e-12);
  // float32: cuBLAS may use TF32 (10-bit mantissas) on a GPU; the emulator runs the CPU GEMM.
  const double tol32 = splat::cuda::is_real_build() ? 1e-2 : 1e-5;
  check_cuda_parity(
      single([](const In& in) { return matmul(in[0], transpose(in[1], -1, -2)); }),
      {to(leaf({2, 7, 9}).detach(), DType::f32), to(leaf({2, 5, 9}).detach(), DType::f32)}, tol32,
      tol32);
  // A product large enough to be worth a threaded GEMM.
  check_cuda_parity(single([](const In& in) { return mm(in[0], in[1]); }),
                    {leaf({70, 90}), leaf({90, 60})}, 1e-12, 1e-12);
}

TEST_CASE("cuda: empty products and gradcheck of matrix products") {
  // k == 0 gives zeros; n == 0 or batch == 0 gives an empty result.
  const Tensor z = to(ops::zeros({3, 0}, {.dtype = DType::f64}), kCuda);
  const Tensor w = to(ops::zeros({0, 4}, {.dtype = DType::f64}), kCuda);
  check_equal(mm(z, w), ops::zeros({3, 4}, {.dtype = DType::f64}));
  check_cuda_parity(single([](const In& in) { return mm(in[0], in[1]); }),
                    {leaf({3, 0}), leaf({0, 4})}, 0, 0);
  check_cuda_parity(single([](const In& in) { return mm(in[0], in[1]); }),
                    {leaf({0, 4}), leaf({4, 2})}, 0, 0);
  check_cuda_parity(single([](const In& in) { return bmm(in[0], in[1]); }),
                    {leaf({0, 2, 3}), leaf({0, 3, 2})}, 0, 0);
  CHECK_GRADCHECK([](const In& in) { return mm(in[0], in[1]); },
                  {leaf({3, 4}, -1, 1, kCuda), leaf({4, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return bmm(in[0], transpose(in[1], 1, 2)); },
                  {leaf({2, 3, 4}, -1, 1, kCuda), leaf({2, 2, 4}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return matmul(in[0], in[1]); },
                  {leaf({2, 1, 2, 3}, -1, 1, kCuda), leaf({3, 3, 2}, -1, 1, kCuda)});
}

TEST_CASE("cuda: matrix products refuse mixed devices, naming both") {
  CHECK_THROWS_WITH_ALL(mm(ops::zeros({2, 2}), ops::zeros({2, 2}, {.device = kCuda})), "mm",
                        "different devices", "cpu", "cuda:0");
  CHECK_THROWS_WITH_ALL(matmul(ops::zeros({2, 2}, {.device = Device::cuda(1)}),
                               ops::zeros({2, 2}, {.device = kCuda})),
                        "matmul", "cuda:1", "cuda:0");
  CHECK_THROWS_WITH_ALL(
      mm(ops::zeros({2, 3}, {.device = kCuda}), ops::zeros({2, 3}, {.device = kCuda})), "mm",
      "[2, 3]", "cannot be multiplied");
}

TEST_CASE("cuda: gemm_strided_batched computes alpha op(A) op(B) + beta C against a naive loop") {
  using splat::cuda::MatrixBatch;
  using splat::cuda::Transpose;
  const int64_t m = 3, n = 4, k = 5, batch = 2;
  for (Transpose ta : {Transpose::no, Transpose::yes}) {
    for (Transpose tb : {Transpose::no, Transpose::yes}) {
      CAPTURE(static_cast<int>(ta));
      CAPTURE(static_cast<int>(tb));
      // Stored matrices with padded rows (ld larger than the row length) and padded batches.
      const int64_t ar = ta == Transpose::no ? m : k, ac = ta == Transpose::no ? k : m;
      const int64_t br = tb == Transpose::no ? k : n, bc = tb == Transpose::no ? n : k;
      const int64_t lda = ac + 2, ldb = bc + 1, ldc = n + 3;
      const Tensor A = ops::rand({batch, ar + 1, lda}, {.dtype = DType::f64});
      const Tensor B = ops::rand({batch, br, ldb}, {.dtype = DType::f64});
      const Tensor C = ops::rand({batch, m, ldc}, {.dtype = DType::f64});
      const Tensor dA = to(A, kCuda), dB = to(B, kCuda), dC = to(C, kCuda);
      splat::cuda::gemm_strided_batched(
          ta, tb, m, n, k, 2.0, MatrixBatch<const double>{dA.data<double>(), lda, (ar + 1) * lda},
          MatrixBatch<const double>{dB.data<double>(), ldb, br * ldb}, 0.5,
          MatrixBatch<double>{dC.data<double>(), ldc, m * ldc}, batch);
      const auto va = to_vector<double>(A), vb = to_vector<double>(B), vc = to_vector<double>(C);
      std::vector<double> expect = vc;
      for (int64_t i = 0; i < batch; ++i)
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < n; ++c) {
            double acc = 0;
            for (int64_t p = 0; p < k; ++p) {
              const double x = ta == Transpose::no ? va[i * (ar + 1) * lda + r * lda + p]
                                                   : va[i * (ar + 1) * lda + p * lda + r];
              const double y = tb == Transpose::no ? vb[i * br * ldb + p * ldb + c]
                                                   : vb[i * br * ldb + c * ldb + p];
              acc += x * y;
            }
            const int64_t at = i * m * ldc + r * ldc + c;
            expect[at] = 2.0 * acc + 0.5 * vc[at];
          }
      // The padding of C is left alone.
      check_close(dC, ops::from_vector<double>(expect, C.shape()), 1e-12, 1e-12);
    }
  }
  // A batch stride of 0 reuses one matrix; k == 0 scales C by beta.
  const Tensor one = to(ops::ones({2, 2}, {.dtype = DType::f32}), kCuda);
  Tensor out = to(ops::full({3, 2, 2}, 5.0), kCuda);
  splat::cuda::gemm_strided_batched(Transpose::no, Transpose::no, 2, 2, 2, 1.f,
                                    MatrixBatch<const float>{one.data<float>(), 2, 0},
                                    MatrixBatch<const float>{one.data<float>(), 2, 0}, 1.f,
                                    MatrixBatch<float>{out.data<float>(), 2, 4}, 3);
  check_equal(out, ops::full({3, 2, 2}, 7.0));
  splat::cuda::gemm_strided_batched(Transpose::no, Transpose::no, 2, 2, 0, 1.f,
                                    MatrixBatch<const float>{one.data<float>(), 1, 0},
                                    MatrixBatch<const float>{one.data<float>(), 2, 0}, 0.5f,
                                    MatrixBatch<float>{out.data<float>(), 2, 4}, 3);
  check_equal(out, ops::full({3, 2, 2}, 3.5));
  CHECK_THROWS_WITH_ALL(
      splat::cuda::gemm_strided_batched(Transpose::no, Transpose::yes, 2, 3, 4, 1.f,
                                        MatrixBatch<const float>{one.data<float>(), 3, 0},
                                        MatrixBatch<const float>{one.data<float>(), 4, 0}, 0.f,
                                        MatrixBatch<float>{out.data<float>(), 3, 0}, 1),
      "gemm", "lda=3", "below the minimum 4", "test_cuda_reduce.cpp");
}

TEST_SUITE_END();
