// CUDA indexing kernels (ops/cuda/index.cu) and the joins, splits and flips that run on the copy
// kernel: parity with the CPU (forward and backward) on strided, expanded, zero-size and
// multi-block inputs with i32 and i64 indices, float64 gradcheck on the emulated device, and
// error messages identical to the CPU ones.
//
// The accumulating kernels (index_add, scatter_add) add in the CPU's order, so their parity is
// checked with zero tolerance. Which scatter launcher a case reaches is noted beside it: lines
// of at most 128 elements go per line, longer ones with few lines through the radix sort.
#include "ops/flip.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::error_of;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::single;
using In = std::vector<Tensor>;

namespace {

Tensor indices(int64_t high, Shape shape, DType dtype = DType::i64) {
  return randint(0, high, std::move(shape), {.dtype = dtype});
}

Tensor bools(Shape shape, double p_true = 0.5) { return lt(rand(std::move(shape)), p_true); }

// Values of every dtype (small integers so sums stay exact in f32 and u8), not requiring grad.
Tensor values_of(DType dtype, Shape shape) {
  const Tensor v = randint(0, 5, std::move(shape), {.dtype = DType::i64});
  return to(dtype == DType::b8 ? gt(v, 1.0) : v, dtype);
}

// f throws on the CPU, and the same message for the same arguments moved to the device.
void check_same_error(const std::function<void(const In&)>& f, const In& args) {
  In on_cuda;
  for (const Tensor& t : args) on_cuda.push_back(to(t, kCuda));
  const std::string cpu = error_of([&] { f(args); }), cuda = error_of([&] { f(on_cuda); });
  CHECK_FALSE(cpu.empty());
  CHECK(cuda == cpu);
}

constexpr double kExact = 0;

} // namespace

TEST_SUITE_BEGIN("cuda index" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: index_select and its backward (index_add) match the CPU") {
  for (DType it : {DType::i64, DType::i32}) {
    CAPTURE(dtype_name(it));
    const auto along = [](int64_t dim) {
      return single([dim](const In& in) { return index_select(in[0], dim, in[1]); });
    };
    // Short indices: index_add runs per line.
    check_cuda_parity(along(0), {leaf({6, 5}), indices(6, {9}, it)}, kExact, kExact);
    check_cuda_parity(along(-1), {leaf({4, 3, 7}), indices(7, {5}, it)}, kExact, kExact);
    // Strided input and index, views taken on the device.
    check_cuda_parity(single([](const In& in) {
                        return index_select(transpose(in[0], 0, 2), 1, slice(in[1], 0, 1, 11, 3));
                      }),
                      {leaf({5, 6, 4}), indices(6, {12}, it)}, kExact, kExact);
    // Long indices with few lines: index_add sorts the 1-d index, then sums per row.
    check_cuda_parity(along(0), {leaf({50, 3}), indices(50, {300}, it)}, kExact, kExact);
    check_cuda_parity(along(1), {leaf({3, 40}), indices(40, {200}, it)}, kExact, kExact);
    check_cuda_parity(
        single([](const In& in) { return index_select(transpose(in[0], 0, 1), 0, in[1]); }),
        {leaf({2, 70}), indices(70, {500}, it)}, kExact, kExact);
    // Zero-size index, zero-size rows.
    check_cuda_parity(along(0), {leaf({4, 3}), indices(4, {0}, it)});
    check_cuda_parity(along(0), {leaf({4, 0}), indices(4, {3}, it)});
  }
  for (DType dtype : {DType::f32, DType::i32, DType::i64, DType::u8, DType::b8}) {
    CAPTURE(dtype_name(dtype));
    check_cuda_parity(
        single([](const In& in) { return index_select(transpose(in[0], 0, 1), 1, in[1]); }),
        {values_of(dtype, {5, 4}), indices(5, {7})}, kExact, kExact);
  }
}

TEST_CASE("cuda: gather and its backward (scatter_add) match the CPU") {
  for (DType it : {DType::i64, DType::i32}) {
    CAPTURE(dtype_name(it));
    // Index smaller than x in every dim; per-line backward.
    check_cuda_parity(single([](const In& in) { return gather(in[0], 1, in[1]); }),
                      {leaf({5, 7}), indices(7, {4, 3}, it)}, kExact, kExact);
    check_cuda_parity(single([](const In& in) { return gather(in[0], 0, in[1]); }),
                      {leaf({5, 7, 2}), indices(5, {9, 6, 2}, it)}, kExact, kExact);
    check_cuda_parity(single([](const In& in) {
                        return gather(transpose(in[0], 0, 1), -1, transpose(in[1], 0, 1));
                      }),
                      {leaf({6, 4}), indices(6, {5, 3}, it)}, kExact, kExact);
    // Long lines: the backward sorts. One line of 600, then two lines with an expanded index.
    check_cuda_parity(single([](const In& in) { return gather(in[0], 0, in[1]); }),
                      {leaf({400}), indices(400, {600}, it)}, kExact, kExact);
    check_cuda_parity(single([](const In& in) { return gather(in[0], 1, in[1]); }),
                      {leaf({3, 200}), indices(200, {2, 300}, it)}, kExact, kExact);
    check_cuda_parity(single([](const In& in) {
                        return gather(in[0], 1, expand(in[1], {3, 300}));
                      }),
                      {leaf({3, 90}), indices(90, {1, 300}, it)}, kExact, kExact);
    // 0-d input and index; zero-size index.
    check_cuda_parity(single([](const In& in) { return gather(in[0], 0, in[1]); }),
                      {leaf({}), zeros({}, {.dtype = it})});
    check_cuda_parity(single([](const In& in) { return gather(in[0], 1, in[1]); }),
                      {leaf({3, 4}), indices(4, {3, 0}, it)});
  }
  for (DType dtype : {DType::f32, DType::i32, DType::u8, DType::b8}) {
    CAPTURE(dtype_name(dtype));
    check_cuda_parity(single([](const In& in) { return gather(in[0], 0, in[1]); }),
                      {values_of(dtype, {6, 5}), indices(6, {8, 4})}, kExact, kExact);
  }
}

TEST_CASE("cuda: scatter_add and scatter_add_ match the CPU exactly in both launchers") {
  const auto scatter = [](int64_t dim) {
    return single([dim](const In& in) { return scatter_add(in[0], dim, in[2], in[1]); });
  };
  for (DType it : {DType::i64, DType::i32}) {
    CAPTURE(dtype_name(it));
    // Per line, many repeats per destination.
    check_cuda_parity(scatter(0), {leaf({4, 5}), leaf({30, 5}), indices(4, {30, 5}, it)}, kExact,
                      kExact);
    check_cuda_parity(scatter(-1), {leaf({3, 2, 6}), leaf({3, 2, 9}), indices(6, {3, 2, 8}, it)},
                      kExact, kExact);
    // Sorted: one long line (every element of self hit ~10 times), then few lines of a 3-d
    // index that is expanded in dim 0 and strided in dim 2.
    check_cuda_parity(scatter(0), {leaf({50}), leaf({520}), indices(50, {500}, it)}, kExact,
                      kExact);
    check_cuda_parity(
        single([](const In& in) {
          return scatter_add(in[0], 1, expand(slice(in[2], 2, 0, 4, 2), {3, 260, 2}), in[1]);
        }),
        {leaf({3, 40, 2}), leaf({3, 270, 2}), indices(40, {1, 260, 4}, it)}, kExact, kExact);
    // Strided self and src.
    check_cuda_parity(single([](const In& in) {
                        return scatter_add(transpose(in[0], 0, 1), 0, in[2],
                                           transpose(in[1], 0, 1));
                      }),
                      {leaf({3, 7}), leaf({4, 150}), indices(7, {140, 3}, it)}, kExact, kExact);
    // In place, on a non-leaf.
    check_cuda_parity(single([](const In& in) {
                        Tensor t = mul(in[0], 2.0);
                        scatter_add_(t, 1, in[2], in[1]);
                        return t;
                      }),
                      {leaf({4, 6}), leaf({4, 10}), indices(6, {4, 10}, it)}, kExact, kExact);
    // Zero-size index.
    check_cuda_parity(scatter(0), {leaf({4, 2}), leaf({3, 2}), indices(4, {0, 2}, it)});
  }
  for (DType dtype : {DType::f32, DType::i32, DType::i64, DType::u8}) {
    CAPTURE(dtype_name(dtype));
    check_cuda_parity(scatter(0),
                      {values_of(dtype, {6, 3}), values_of(dtype, {40, 3}), indices(6, {40, 3})},
                      kExact, kExact);
    check_cuda_parity(scatter(0),
                      {values_of(dtype, {30}), values_of(dtype, {300}), indices(30, {300})}, kExact,
                      kExact);
  }
}

TEST_CASE("cuda: f32 scatter_add of many repeats is reproducible and equals the CPU bits") {
  const Tensor self = zeros({7}, {.device = kCuda}), src = to(randn({3000}), kCuda);
  const Tensor index = to(indices(7, {3000}), kCuda);
  const Tensor a = scatter_add(self, 0, index, src), b = scatter_add(self, 0, index, src);
  splat::test::check_equal(a, b);
  splat::test::check_equal(
      to(a, Device::cpu()),
      scatter_add(zeros({7}), 0, to(index, Device::cpu()), to(src, Device::cpu())));
}

TEST_CASE("cuda: masked_select, masked_fill and nonzero match the CPU across several scan blocks") {
  // 41 x 73 = 2993 positions: three scan tiles of 1024.
  check_cuda_parity(single([](const In& in) { return masked_select(in[0], in[1]); }),
                    {leaf({41, 73}), bools({41, 73})}, kExact, kExact);
  check_cuda_parity(
      single([](const In& in) { return masked_select(transpose(in[0], 0, 1), in[1]); }),
      {leaf({73, 41}), bools({41, 1}, 0.3)}, 1e-12, 1e-12); // broadcast mask: sum_to
  check_cuda_parity(
      single([](const In& in) { return masked_select(in[0], slice(in[1], 1, 0, 146, 2)); }),
      {leaf({41, 73}), bools({41, 146}, 0.9)}, kExact, kExact);
  check_cuda_parity(single([](const In& in) { return masked_select(in[0], in[1]); }),
                    {leaf({5, 3}), bools({5, 3}, 0)});
  check_cuda_parity(single([](const In& in) { return masked_select(in[0], in[1]); }),
                    {leaf({0, 3}), bools({1, 3})});
  for (DType dtype : {DType::f32, DType::i64, DType::u8, DType::b8}) {
    CAPTURE(dtype_name(dtype));
    check_cuda_parity(
        single([](const In& in) { return masked_select(transpose(in[0], 0, 1), in[1]); }),
        {values_of(dtype, {40, 60}), bools({60, 40})}, kExact, kExact);
    check_cuda_parity(single([](const In& in) { return nonzero(transpose(in[0], 1, 2)); }),
                      {values_of(dtype, {7, 30, 20})}, kExact, kExact);
  }

  check_cuda_parity(single([](const In& in) { return masked_fill(in[0], in[1], -2.5); }),
                    {leaf({30, 40}), bools({40})}, kExact, kExact);
  check_cuda_parity(single([](const In& in) {
                      Tensor t = mul(in[0], 3.0);
                      masked_fill_(t, transpose(in[1], 0, 1), 1.0);
                      return t;
                    }),
                    {leaf({4, 5}), bools({5, 4})}, kExact, kExact);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto nz = single([](const In& in) { return nonzero(in[0]); });
  check_cuda_parity(nz, {from_vector<double>({0, nan, 0, -1, 0, 2}, {2, 3})});
  check_cuda_parity(nz, {scalar_tensor(3)});
  check_cuda_parity(nz, {scalar_tensor(0)});
  check_cuda_parity(nz, {zeros({3, 0, 2})});
  check_cuda_parity(nz, {zeros({4, 5})});
  check_cuda_parity(single([](const In& in) { return nonzero(slice(in[0], 0, 1, 3001, 2)); }),
                    {bools({3001}, 0.2)});
}

TEST_CASE("cuda: count_nonzero and masked ops when the scan spreads tiles over many blocks") {
  // More than 1024 tiles: each scan block walks several tiles in order.
  const int64_t n = 1024 * 1024 + 3000;
  const Tensor mask = bools({n}, 0.01), x = rand({n}, {.dtype = DType::f32});
  const Tensor mask_c = to(mask, kCuda), x_c = to(x, kCuda);
  splat::test::check_equal(masked_select(x_c, mask_c), masked_select(x, mask));
  splat::test::check_equal(nonzero(mask_c), nonzero(mask));
}

TEST_CASE("cuda: cat, stack, split, chunk and flip match the CPU") {
  check_cuda_parity(single([](const In& in) {
                      return cat({in[0], transpose(in[1], 0, 1), in[2]}, 1);
                    }),
                    {leaf({3, 2}), leaf({4, 3}), leaf({3, 0})}, kExact, kExact);
  check_cuda_parity(single([](const In& in) {
                      return cat({slice(in[0], 0, 0, 6, 2), in[1]}, -2);
                    }),
                    {leaf({6, 5}), leaf({2, 5})}, kExact, kExact);
  check_cuda_parity(single([](const In& in) {
                      return stack({in[0], transpose(in[1], 0, 1)}, 2);
                    }),
                    {leaf({3, 4}), leaf({4, 3})}, kExact, kExact);
  check_cuda_parity(single([](const In& in) {
                      return stack({in[0], in[1]}, 0);
                    }),
                    {leaf({0, 2}), leaf({0, 2})});
  const auto split_fn = [](const In& in) {
    std::vector<Tensor> out;
    for (const Tensor& piece : split(transpose(in[0], 0, 1), 2, 1)) out.push_back(mul(piece, 2.0));
    for (const Tensor& piece : split(in[0], std::vector<int64_t>{1, 0, 3}, 0))
      out.push_back(exp(piece));
    return out;
  };
  check_cuda_parity(split_fn, {leaf({4, 5})}, 1e-12, 1e-12);
  check_cuda_parity(
      [](const In& in) {
        std::vector<Tensor> out;
        for (const Tensor& piece : chunk(in[0], 3, -1)) out.push_back(square(piece));
        return out;
      },
      {leaf({2, 7})}, 1e-12, 1e-12);
  check_cuda_parity(single([](const In& in) {
                      return flip(transpose(in[0], 0, 2), {0, -1});
                    }),
                    {leaf({3, 4, 5})}, kExact, kExact);
  check_cuda_parity(single([](const In& in) { return flip(in[0], {0}); }), {leaf({0, 3})});
  for (DType dtype : {DType::f32, DType::i32, DType::u8, DType::b8}) {
    CAPTURE(dtype_name(dtype));
    check_cuda_parity(single([](const In& in) {
                        return flip(cat({in[0], in[1]}, 0), {1});
                      }),
                      {values_of(dtype, {2, 3}), values_of(dtype, {1, 3})}, kExact, kExact);
  }
}

TEST_CASE("cuda: gradcheck of indexing, joins and flips on the emulated device") {
  const Tensor i1 = to(from_vector<int64_t>({2, 0, 2, 1}, {4}), kCuda);
  const Tensor i2 = to(from_vector<int32_t>({1, 0, 1, 1, 2, 0}, {2, 3}), kCuda);
  const Tensor mask = to(from_vector<bool>({true, false, true, true, false, true}, {2, 3}), kCuda);
  CHECK_GRADCHECK([&](const In& in) { return index_select(in[0], 0, i1); },
                  {leaf({3, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK([&](const In& in) { return gather(in[0], 1, i2); }, {leaf({2, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([&](const In& in) { return scatter_add(in[0], 1, i2, in[1]); },
                  {leaf({2, 3}, -1, 1, kCuda), leaf({2, 4}, -1, 1, kCuda)});
  CHECK_GRADCHECK([&](const In& in) { return masked_select(in[0], mask); },
                  {leaf({2, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([&](const In& in) { return masked_fill(in[0], mask, 0.5); },
                  {leaf({2, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return cat({in[0], in[1]}, 1);
      },
      {leaf({2, 1}, -1, 1, kCuda), leaf({2, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK(
      [](const In& in) {
        return stack({in[0], in[1]}, 1);
      },
      {leaf({2}, -1, 1, kCuda), leaf({2}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return split(in[0], 2, 0); }, {leaf({3, 2}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return chunk(in[0], 2, 1); }, {leaf({2, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return flip(in[0], {0, 1}); }, {leaf({2, 3}, -1, 1, kCuda)});
}

TEST_CASE("cuda: out-of-range indices give the CPU's error messages") {
  // The first bad position is reported, however many blocks see bad values.
  std::vector<int64_t> v(5000, 1);
  v[4999] = 9;
  v[3001] = -4;
  v[1500] = 7;
  for (DType it : {DType::i64, DType::i32}) {
    CAPTURE(dtype_name(it));
    const Tensor big = to(from_vector<int64_t>(v, {5000}), it);
    check_same_error([](const In& a) { index_select(a[0], 0, a[1]); }, {zeros({4, 2}), big});
    check_same_error([](const In& a) { index_select(a[0], 0, slice(a[1], 0, 3001, 5000)); },
                     {zeros({4, 2}), big});
    check_same_error([](const In& a) { gather(a[0], 1, a[1]); },
                     {zeros({2, 3}), to(from_vector<int64_t>({0, 1, 2, 2, 3, 0}, {2, 3}), it)});
    check_same_error([](const In& a) { gather(a[0], 0, transpose(a[1], 0, 1)); },
                     {zeros({3, 3}), to(from_vector<int64_t>({0, 1, 2, 2, -1, 0}, {2, 3}), it)});
    check_same_error([](const In& a) { scatter_add(a[0], 0, a[2], a[1]); },
                     {zeros({4}), ones({5000}), big});
    check_same_error([](const In& a) { scatter_add(a[0], 0, a[2], a[1]); },
                     {zeros({0}), ones({1}), to(zeros({1}, {.dtype = DType::i64}), it)});
  }
  const std::string msg = error_of([&] {
    index_select(zeros({4, 2}, {.device = kCuda}), 0, to(from_vector<int64_t>(v, {5000}), kCuda));
  });
  CHECK(msg.find("index_select: index 7 at position 1500 is out of range for dim 0 of size 4") !=
        std::string::npos);
}

TEST_CASE("cuda: indexing ops refuse tensors on different devices") {
  const Tensor x = zeros({3, 4}, {.device = kCuda});
  const Tensor idx = zeros({2}, {.dtype = DType::i64});
  CHECK_THROWS_WITH_ALL(index_select(x, 0, idx), "index_select", "different devices", "cuda:0",
                        "cpu");
  CHECK_THROWS_WITH_ALL(gather(x, 0, zeros({2, 2}, {.dtype = DType::i64})), "gather",
                        "different devices");
  CHECK_THROWS_WITH_ALL(
      scatter_add(x, 0, to(zeros({2, 2}, {.dtype = DType::i64}), kCuda), zeros({2, 2})),
      "scatter_add", "different devices");
  CHECK_THROWS_WITH_ALL(masked_select(x, zeros({3, 4}, {.dtype = DType::b8})), "masked_select",
                        "different devices");
  CHECK_THROWS_WITH_ALL(index_select(zeros({3}, {.device = Device::cuda(1)}), 0, to(idx, kCuda)),
                        "cuda:1", "cuda:0");
  CHECK_THROWS_WITH_ALL(cat({x, zeros({3, 4})}, 0), "cat", "cpu", "cuda:0");
}

TEST_SUITE_END();
