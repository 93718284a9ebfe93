#include "core/threads.h"
#include "ops/copy.h"
#include "ops/cpu/index.h"
#include "ops/flip.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <cmath>
#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_equal;
using splat::test::noncontiguous;
using splat::test::ravel;
using splat::test::to_vector;
using splat::test::unravel;

namespace {

// Deterministic pseudo-random integers in [0, n).
struct Lcg {
  uint64_t s = 12345;
  int64_t next(int64_t n) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((s >> 33) % static_cast<uint64_t>(n));
  }
};

Tensor random_ints(Lcg& rng, const Shape& shape, int64_t n, DType dtype = DType::i64) {
  std::vector<int64_t> v(static_cast<size_t>(numel(shape)));
  for (auto& e : v) e = rng.next(n);
  return to(from_vector<int64_t>(v, shape), dtype);
}

Tensor values(const Shape& shape, DType dtype, int64_t start = 0) {
  const Tensor v = view(arange(start, start + numel(shape), 1, {.dtype = DType::f64}), shape);
  return to(dtype == DType::b8 ? ge(v, static_cast<double>(start + 3)) : v, dtype);
}

Tensor doubles(const std::vector<double>& v, const Shape& shape) {
  return from_vector<double>(v, shape);
}

// Naive references over row-major vectors.

std::vector<double> index_select_ref(const Tensor& x, int64_t dim, const Tensor& index) {
  const auto xv = to_vector<double>(x);
  const auto iv = to_vector<int64_t>(index);
  Shape shape = x.shape();
  shape[dim] = index.numel();
  std::vector<double> out(static_cast<size_t>(numel(shape)));
  for (int64_t f = 0; f < numel(shape); ++f) {
    Shape c = unravel(shape, f);
    c[dim] = iv[c[dim]];
    out[f] = xv[ravel(x.shape(), c)];
  }
  return out;
}

std::vector<double> gather_ref(const Tensor& x, int64_t dim, const Tensor& index) {
  const auto xv = to_vector<double>(x);
  const auto iv = to_vector<int64_t>(index);
  std::vector<double> out(iv.size());
  for (int64_t f = 0; f < index.numel(); ++f) {
    Shape c = unravel(index.shape(), f);
    c[dim] = iv[f];
    out[f] = xv[ravel(x.shape(), c)];
  }
  return out;
}

// Sums in T, in the row-major order of index: the order the kernel promises.
template <class T>
std::vector<T> scatter_add_ref(const Tensor& self, int64_t dim, const Tensor& index,
                               const Tensor& src) {
  auto out = to_vector<T>(self);
  const auto sv = to_vector<T>(src);
  const auto iv = to_vector<int64_t>(index);
  for (int64_t f = 0; f < index.numel(); ++f) {
    Shape c = unravel(index.shape(), f);
    const T v = sv[ravel(src.shape(), c)];
    c[dim] = iv[f];
    out[ravel(self.shape(), c)] += v;
  }
  return out;
}

} // namespace

TEST_CASE("index_select matches a naive loop for every dim, layout and dtype") {
  Lcg rng;
  const Shape shape{3, 4, 5};
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::b8}) {
    const Tensor x = values(shape, dtype);
    const Tensor permuted = permute(contiguous(permute(x, {1, 2, 0})), {2, 0, 1});
    for (const Tensor& in : {x, noncontiguous(x), permuted}) {
      for (int64_t dim = -3; dim < 3; ++dim) {
        const int64_t d = dim < 0 ? dim + 3 : dim;
        CAPTURE(dtype_name(dtype));
        CAPTURE(dim);
        CAPTURE(shape_str(in.strides()));
        // Repeats and any order; i32 and a strided index too.
        const Tensor idx = random_ints(rng, {7}, shape[d]);
        const Tensor idx32 = slice(random_ints(rng, {14}, shape[d], DType::i32), 0, 0, 14, 2);
        for (const Tensor& index : {idx, idx32}) {
          const Tensor out = index_select(in, dim, index);
          Shape expected_shape = shape;
          expected_shape[d] = 7;
          CHECK(out.shape() == expected_shape);
          CHECK(out.dtype() == dtype);
          CHECK(to_vector<double>(out) == index_select_ref(in, d, index));
        }
        // An empty index gives an empty dim.
        const Tensor none = index_select(in, dim, zeros({0}, {.dtype = DType::i64}));
        Shape empty_shape = shape;
        empty_shape[d] = 0;
        CHECK(none.shape() == empty_shape);
      }
    }
  }
  // Zero-size along another dim; an expanded input.
  CHECK(index_select(zeros({0, 3}), 1, from_vector<int64_t>({2, 0}, {2})).shape() == Shape{0, 2});
  const Tensor e = expand(from_vector<float>({1, 2, 3}, {3, 1}), {3, 4});
  CHECK(to_vector<float>(index_select(e, 0, from_vector<int32_t>({2, 2}, {2}))) ==
        std::vector<float>(8, 3));
}

TEST_CASE("index_select on large inputs (parallel) agrees with the naive loop") {
  Lcg rng;
  const Tensor x = values({300, 200}, DType::f32);
  for (int64_t dim : {0, 1}) {
    const Tensor index = random_ints(rng, {250}, 200);  // valid for x and its transpose
    CHECK(to_vector<double>(index_select(x, dim, index)) == index_select_ref(x, dim, index));
    const Tensor t = transpose(x, 0, 1);
    CHECK(to_vector<double>(index_select(t, dim, index)) == index_select_ref(t, dim, index));
  }
}

TEST_CASE("index_select rejects bad arguments and indices") {
  const Tensor x = zeros({3, 4});
  const Tensor idx = from_vector<int64_t>({0, 1, 4}, {3});
  CHECK_THROWS_WITH_ALL(index_select(x, 1, idx),
                        "index_select: index 4 at position 2 is out of range for dim 1 of size 4");
  CHECK_THROWS_WITH_ALL(index_select(x, -1, from_vector<int32_t>({-1}, {1})),
                        "index_select: index -1 at position 0", "dim 1 of size 4",
                        "negative indices are not supported");
  CHECK_THROWS_WITH_ALL(index_select(zeros({0, 2}), 0, from_vector<int64_t>({0}, {1})),
                        "index 0 at position 0 is out of range for dim 0 of size 0");
  CHECK_THROWS_WITH_ALL(index_select(x, 0, zeros({2, 1}, {.dtype = DType::i64})),
                        "index_select: index must be 1-d, got shape [2, 1]");
  CHECK_THROWS_WITH_ALL(index_select(x, 0, zeros({2})),
                        "index_select: index must be i64 or i32, got f32");
  CHECK_THROWS_WITH_ALL(index_select(x, 2, idx), "index_select: dim 2 out of range");
  CHECK_THROWS_WITH_ALL(index_select(scalar_tensor(1), 0, idx),
                        "index_select: cannot index a 0-d tensor");
  CHECK_THROWS_WITH_ALL(index_select(x, 0, Tensor()), "index_select: argument 1 is an undefined");
}

TEST_CASE("gather matches a naive loop, with index smaller than the input") {
  Lcg rng;
  const Shape shape{4, 3, 5};
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::b8}) {
    const Tensor x = values(shape, dtype, 10);
    const Tensor permuted = permute(contiguous(permute(x, {2, 0, 1})), {1, 2, 0});
    for (const Tensor& in : {x, noncontiguous(x), permuted}) {
      for (int64_t dim = -3; dim < 3; ++dim) {
        const int64_t d = dim < 0 ? dim + 3 : dim;
        CAPTURE(dtype_name(dtype));
        CAPTURE(dim);
        CAPTURE(shape_str(in.strides()));
        // Along dim the index may be larger than the input; elsewhere no larger.
        Shape ishape{3, 2, 4};
        ishape[d] = 6;
        const Tensor index = random_ints(rng, ishape, shape[d]);
        const Tensor index32 = transpose(contiguous(transpose(to(index, DType::i32), 0, 2)), 0, 2);
        for (const Tensor& idx : {index, index32, noncontiguous(index)}) {
          const Tensor out = gather(in, dim, idx);
          CHECK(out.shape() == ishape);
          CHECK(out.dtype() == dtype);
          CHECK(to_vector<double>(out) == gather_ref(in, d, idx));
        }
      }
    }
  }
  // Empty index; 0-d input and index count as shape [1].
  CHECK(gather(zeros({2, 3}), 1, zeros({2, 0}, {.dtype = DType::i64})).shape() == Shape{2, 0});
  CHECK(gather(zeros({0, 3}), 1, zeros({0, 5}, {.dtype = DType::i64})).shape() == Shape{0, 5});
  const Tensor g = gather(scalar_tensor(7), 0, scalar_tensor(0, {.dtype = DType::i64}));
  CHECK(g.shape() == Shape{});
  CHECK(g.item<float>() == 7);
  CHECK(to_vector<float>(gather(scalar_tensor(7), -1, zeros({3}, {.dtype = DType::i32}))) ==
        std::vector<float>{7, 7, 7});
  // Large, to run in parallel.
  const Tensor big = values({200, 300}, DType::f32);
  for (int64_t dim : {0, 1}) {
    const Tensor idx = random_ints(rng, {150, 250}, big.shape()[dim]);
    CHECK(to_vector<double>(gather(big, dim, idx)) == gather_ref(big, dim, idx));
  }
}

TEST_CASE("gather rejects bad arguments and indices") {
  const Tensor x = zeros({3, 4});
  const Tensor idx = from_vector<int64_t>({0, 1, 2, 3, 3, 9}, {2, 3});
  CHECK_THROWS_WITH_ALL(gather(x, 1, idx),
                        "gather: index 9 at position [1, 2] is out of range for dim 1 of size 4");
  CHECK_THROWS_WITH_ALL(gather(x, 0, idx), "gather: index 3 at position [1, 0]",
                        "dim 0 of size 3");
  CHECK_THROWS_WITH_ALL(gather(x, 1, from_vector<int64_t>({0, -2}, {1, 2})),
                        "gather: index -2 at position [0, 1]", "negative indices");
  CHECK_THROWS_WITH_ALL(gather(x, 1, zeros({3}, {.dtype = DType::i64})),
                        "gather: index of shape [3] (1-d) and input of shape [3, 4] (2-d)",
                        "same number of dims");
  CHECK_THROWS_WITH_ALL(gather(x, 1, zeros({4, 2}, {.dtype = DType::i64})),
                        "gather: index of shape [4, 2] is larger than input of shape [3, 4] in "
                        "dim 0 (4 vs 3)");
  CHECK_THROWS_WITH_ALL(gather(x, 1, zeros({2, 2}, {.dtype = DType::u8})),
                        "gather: index must be i64 or i32, got u8");
  CHECK_THROWS_WITH_ALL(gather(x, -3, idx), "gather: dim -3 out of range");
}

TEST_CASE("scatter_add matches a naive loop; in place and functional forms") {
  Lcg rng;
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8}) {
    for (int64_t dim = -2; dim < 2; ++dim) {
      const int64_t d = dim < 0 ? dim + 2 : dim;
      CAPTURE(dtype_name(dtype));
      CAPTURE(dim);
      const Tensor self = values({4, 5}, dtype);
      Shape ishape{3, 4};
      ishape[d] = 7;  // more than self's size along dim: some targets receive several values
      const Tensor index = random_ints(rng, ishape, self.shape()[d], DType::i32);
      // src is larger than index in every dim, and strided.
      const Tensor src = noncontiguous(values({8, 9}, dtype, 1));
      const std::vector<double> expected = scatter_add_ref<double>(self, d, index, src);
      const Tensor before = clone(self);
      const Tensor out = scatter_add(self, dim, index, src);
      CHECK(to_vector<double>(out) == expected);
      CHECK(to_vector<double>(self) == to_vector<double>(before));  // functional: untouched
      // In place, into a transposed view: writes reach the base tensor.
      Tensor base = contiguous(transpose(self, 0, 1));
      Tensor t = transpose(base, 0, 1);
      const uint64_t version = base.storage()->version();
      Tensor& r = scatter_add_(t, dim, index, src);
      CHECK(&r == &t);
      CHECK(base.storage()->version() > version);
      CHECK(to_vector<double>(t) == expected);
    }
  }
  // Empty index leaves self unchanged; 0-d self, index and src work as shape [1].
  const Tensor s = values({2, 2}, DType::f32);
  CHECK(to_vector<float>(scatter_add(s, 0, zeros({0, 2}, {.dtype = DType::i64}), s)) ==
        to_vector<float>(s));
  Tensor z = scalar_tensor(1);
  scatter_add_(z, 0, scalar_tensor(0, {.dtype = DType::i64}), scalar_tensor(2.5));
  CHECK(z.item<float>() == 3.5f);
}

TEST_CASE("scatter_add sums floats in a fixed order, whatever the thread count") {
  // Values whose float sum depends on the order; many hits per target.
  Lcg rng;
  const Shape ishape{64, 2000};
  std::vector<double> sv(static_cast<size_t>(numel(ishape)));
  for (auto& v : sv) v = (rng.next(2) ? 1e7 : 1.0) * (rng.next(2) ? 1 : -1) + rng.next(1000) * 1e-3;
  const Tensor src = to(doubles(sv, ishape), DType::f32);
  const Tensor self = zeros({64, 50});
  const Tensor index = random_ints(rng, ishape, 50);
  const std::vector<float> expected = scatter_add_ref<float>(self, 1, index, src);
  // The data is order-sensitive: summing each line backwards gives other floats.
  CHECK(scatter_add_ref<float>(self, 1, flip(index, {1}), flip(src, {1})) != expected);
  const int saved = num_threads();
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    set_num_threads(threads);
    CHECK(to_vector<float>(scatter_add(self, 1, index, src)) == expected);
    // Along dim 0 the lines are columns.
    const Tensor t_index = contiguous(transpose(index, 0, 1));
    const Tensor t_src = contiguous(transpose(src, 0, 1));
    CHECK(to_vector<float>(scatter_add(zeros({50, 64}), 0, t_index, t_src)) ==
          scatter_add_ref<float>(zeros({50, 64}), 0, t_index, t_src));
  }
  set_num_threads(saved);
}

TEST_CASE("scatter_add rejects bad arguments and indices") {
  Tensor self = zeros({3, 4});
  const Tensor src = ones({3, 4});
  const Tensor idx = from_vector<int64_t>({0, 1, 3, 2}, {2, 2});
  CHECK_THROWS_WITH_ALL(scatter_add(self, 0, idx, src),
                        "scatter_add: index 3 at position [1, 0] is out of range for dim 0 of "
                        "size 3");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, from_vector<int64_t>({-1}, {1, 1}), src),
                        "scatter_add: index -1 at position [0, 0]", "negative indices");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, idx, zeros({3, 4}, {.dtype = DType::f64})),
                        "scatter_add: dtype mismatch (f32 vs f64)");
  CHECK_THROWS_WITH_ALL(scatter_add(zeros({2}, {.dtype = DType::b8}), 0,
                                    zeros({1}, {.dtype = DType::i64}),
                                    zeros({2}, {.dtype = DType::b8})),
                        "scatter_add: unsupported dtype bool");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, zeros({2, 2}), src),
                        "scatter_add: index must be i64 or i32, got f32");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, zeros({2}, {.dtype = DType::i64}), src),
                        "scatter_add: index of shape [2] (1-d) and self of shape [3, 4] (2-d)");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, idx, ones({3, 4, 1})),
                        "index of shape [2, 2] (2-d) and src of shape [3, 4, 1] (3-d)");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 1, zeros({2, 5}, {.dtype = DType::i64}), src),
                        "scatter_add: index of shape [2, 5] is larger than src of shape [3, 4] "
                        "in dim 1 (5 vs 4)");
  CHECK_THROWS_WITH_ALL(scatter_add(zeros({1, 4}), 1, zeros({2, 2}, {.dtype = DType::i64}), src),
                        "index of shape [2, 2] is larger than self of shape [1, 4] in dim 0 "
                        "(2 vs 1)");
  CHECK_THROWS_WITH_ALL(scatter_add(self, 2, idx, src), "scatter_add: dim 2 out of range");
  Tensor expanded = expand(zeros({1, 4}), {3, 4});
  CHECK_THROWS_WITH_ALL(scatter_add_(expanded, 1, idx, src), "scatter_add_", "expanded");
}

TEST_CASE("cpu::index_add accumulates rows of src into out (index_select backward)") {
  Lcg rng;
  for (int64_t dim : {0, 1, 2}) {
    CAPTURE(dim);
    const Shape shape{3, 4, 5};
    const Tensor index = random_ints(rng, {9}, shape[dim], DType::i32);
    Shape sshape = shape;
    sshape[dim] = 9;
    const Tensor src = noncontiguous(values(sshape, DType::f64, 1));
    Tensor out = values(shape, DType::f64);  // accumulates on top of existing values
    std::vector<double> expected = to_vector<double>(out);
    const auto sv = to_vector<double>(src);
    const auto iv = to_vector<int64_t>(index);
    for (int64_t f = 0; f < src.numel(); ++f) {
      Shape c = unravel(sshape, f);
      c[dim] = iv[c[dim]];
      expected[ravel(shape, c)] += sv[f];
    }
    cpu::index_add(out, dim, index, src);
    CHECK(to_vector<double>(out) == expected);
    // Into a transposed output.
    Tensor base = zeros({shape[2], shape[1], shape[0]}, {.dtype = DType::f64});
    Tensor t = permute(base, {2, 1, 0});
    fill_(t, 0);
    cpu::index_add(t, dim, index, src);
    std::vector<double> from_zero(expected.size());
    for (int64_t f = 0; f < src.numel(); ++f) {
      Shape c = unravel(sshape, f);
      c[dim] = iv[c[dim]];
      from_zero[ravel(shape, c)] += sv[f];
    }
    CHECK(to_vector<double>(t) == from_zero);
  }
  // An empty index adds nothing.
  Tensor out = ones({2, 2});
  cpu::index_add(out, 0, zeros({0}, {.dtype = DType::i64}), zeros({0, 2}));
  CHECK(to_vector<float>(out) == std::vector<float>(4, 1));
}

namespace {
std::vector<double> masked_select_ref(const Tensor& x, const Tensor& mask) {
  const Shape s = broadcast_shapes("test", x.shape(), mask.shape());
  const auto xv = to_vector<double>(expand(x, s));
  const auto mv = to_vector<bool>(expand(mask, s));
  std::vector<double> out;
  for (size_t i = 0; i < xv.size(); ++i)
    if (mv[i]) out.push_back(xv[i]);
  return out;
}
} // namespace

TEST_CASE("masked_select broadcasts and keeps row-major order") {
  const Tensor x = values({2, 3}, DType::i32);
  const Tensor m = from_vector<bool>({true, false, true}, {3});
  const Tensor out = masked_select(x, m);
  CHECK(out.shape() == Shape{4});
  CHECK(out.dtype() == DType::i32);
  CHECK(to_vector<int>(out) == std::vector<int>{0, 2, 3, 5});
  // The mask may be the larger operand: x broadcasts to it.
  const Tensor col = from_vector<float>({1, 2, 3}, {3, 1});
  const Tensor row = from_vector<bool>({false, true, true, false}, {1, 4});
  CHECK(to_vector<float>(masked_select(col, row)) == std::vector<float>{1, 1, 2, 2, 3, 3});
  CHECK(masked_select(x, zeros({2, 3}, {.dtype = DType::b8})).shape() == Shape{0});
  CHECK(masked_select(zeros({0, 3}), m).shape() == Shape{0});
  const Tensor s = masked_select(scalar_tensor(4), scalar_tensor(1, {.dtype = DType::b8}));
  CHECK(to_vector<float>(s) == std::vector<float>{4});
  // Strided inputs of several dtypes, large enough for many blocks in parallel.
  Lcg rng;
  const Tensor big_mask = to(random_ints(rng, {300, 257}, 3), DType::b8);
  for (DType dtype : {DType::f32, DType::i64, DType::u8, DType::b8}) {
    CAPTURE(dtype_name(dtype));
    const Tensor big = transpose(values({257, 300}, dtype), 0, 1);
    CHECK(to_vector<double>(masked_select(big, big_mask)) == masked_select_ref(big, big_mask));
    const Tensor nc_mask = noncontiguous(big_mask);
    CHECK(to_vector<double>(masked_select(big, nc_mask)) == masked_select_ref(big, nc_mask));
  }

  CHECK_THROWS_WITH_ALL(masked_select(x, to(m, DType::u8)),
                        "masked_select: mask must be bool, got u8");
  CHECK_THROWS_WITH_ALL(masked_select(x, zeros({2}, {.dtype = DType::b8})),
                        "masked_select: shapes [2, 3] and [2] cannot be broadcast");
}

TEST_CASE("cpu::masked_scatter writes src at the true positions (masked_select backward)") {
  Lcg rng;
  const Tensor mask = to(random_ints(rng, {200, 301}, 2), DType::b8);
  const int64_t n = cpu::count_nonzero(mask);
  const Tensor src = noncontiguous(values({n}, DType::f64, 1));
  Tensor out = full({200, 301}, -1, {.dtype = DType::f64});
  cpu::masked_scatter(out, mask, src);
  std::vector<double> expected(200 * 301, -1);
  const auto mv = to_vector<bool>(mask);
  const auto sv = to_vector<double>(src);
  for (size_t i = 0, k = 0; i < mv.size(); ++i)
    if (mv[i]) expected[i] = sv[k++];
  CHECK(to_vector<double>(out) == expected);
  // Round trip: scattering what masked_select took restores the selected elements.
  const Tensor x = values({200, 301}, DType::f64, 5);
  Tensor back = zeros({200, 301}, {.dtype = DType::f64});
  cpu::masked_scatter(back, mask, masked_select(x, mask));
  CHECK(to_vector<double>(back) == to_vector<double>(where(mask, x, zeros_like(x))));
  // A broadcast mask into a transposed output.
  Tensor base = zeros({3, 2});
  Tensor t = transpose(base, 0, 1);  // (2, 3)
  cpu::masked_scatter(t, from_vector<bool>({true, false, true}, {3}),
                      from_vector<float>({1, 2, 3, 4, 5}, {5}));
  CHECK(to_vector<float>(t) == std::vector<float>{1, 0, 2, 3, 0, 4});
}

TEST_CASE("nonzero returns row-major coordinates") {
  const Tensor x = from_vector<float>({0, 1.5f, 0, -2, 0, 0}, {2, 3});
  const Tensor nz = nonzero(x);
  CHECK(nz.dtype() == DType::i64);
  CHECK(nz.shape() == Shape{2, 2});
  CHECK(to_vector<int64_t>(nz) == std::vector<int64_t>{0, 1, 1, 0});
  // Transposed input: coordinates are of the view, in its row-major order.
  CHECK(to_vector<int64_t>(nonzero(transpose(x, 0, 1))) == std::vector<int64_t>{0, 1, 1, 0});
  // NaN counts as nonzero; bool and integer dtypes.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(to_vector<int64_t>(nonzero(from_vector<double>({0, nan}, {2}))) ==
        std::vector<int64_t>{1});
  CHECK(to_vector<int64_t>(nonzero(from_vector<bool>({true, false, true}, {3}))) ==
        std::vector<int64_t>{0, 2});
  CHECK(to_vector<int64_t>(nonzero(from_vector<int32_t>({0, 0, 7}, {1, 3}))) ==
        std::vector<int64_t>{0, 2});
  // All false, zero-size and 0-d.
  CHECK(nonzero(zeros({2, 3, 4})).shape() == Shape{0, 3});
  CHECK(nonzero(zeros({0, 5})).shape() == Shape{0, 2});
  CHECK(nonzero(scalar_tensor(0)).shape() == Shape{0, 0});
  CHECK(nonzero(scalar_tensor(3)).shape() == Shape{1, 0});
  // Large and strided, over many blocks.
  Lcg rng;
  const Tensor big = slice(to(random_ints(rng, {40, 30, 60}, 4), DType::u8), 2, 1, 60, 2);
  const auto v = to_vector<int>(big);
  std::vector<int64_t> expected;
  for (int64_t f = 0; f < big.numel(); ++f)
    if (v[f] != 0)
      for (int64_t c : unravel(big.shape(), f)) expected.push_back(c);
  const Tensor got = nonzero(big);
  CHECK(got.shape() == Shape{static_cast<int64_t>(expected.size()) / 3, 3});
  CHECK(to_vector<int64_t>(got) == expected);
  CHECK(cpu::count_nonzero(big) == got.shape()[0]);
}
