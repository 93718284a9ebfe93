#include "ops/copy.h"
#include "ops/join.h"
#include "ops/view.h"
#include "tests/helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::noncontiguous;
using splat::test::ravel;
using splat::test::to_vector;
using splat::test::unravel;

namespace {

// Distinct values (parity pattern for bool) of shape, starting at start.
Tensor seq(const Shape& shape, DType dtype, int64_t start = 0) {
  std::vector<double> v(static_cast<size_t>(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((start + i) % 200);
  if (dtype == DType::b8)
    for (double& e : v) e = static_cast<int64_t>(e) % 3 == 0;
  return to(from_vector<double>(v, shape), dtype);
}

// Naive cat: walks the output and finds, for each element, the input that holds it.
std::vector<double> cat_ref(const std::vector<Tensor>& ts, int64_t dim) {
  Shape shape = ts[0].shape();
  shape[dim] = 0;
  for (const Tensor& t : ts) shape[dim] += t.shape()[dim];
  std::vector<double> out(static_cast<size_t>(numel(shape)));
  for (int64_t f = 0; f < numel(shape); ++f) {
    Shape c = unravel(shape, f);
    size_t k = 0;
    while (c[dim] >= ts[k].shape()[dim]) c[dim] -= ts[k++].shape()[dim];
    out[f] = to_vector<double>(ts[k])[ravel(ts[k].shape(), c)];
  }
  return out;
}

} // namespace

TEST_CASE("cat matches a naive loop along every dim, for strided and empty inputs") {
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::b8}) {
    for (int64_t dim = -3; dim < 3; ++dim) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(dim);
      const int64_t d = dim < 0 ? dim + 3 : dim;
      auto shape_with = [&](int64_t n) {
        Shape s{2, 3, 4};
        s[d] = n;
        return s;
      };
      const std::vector<Tensor> ts = {
          seq(shape_with(2), dtype),
          noncontiguous(seq(shape_with(3), dtype, 50)),
          seq(shape_with(0), dtype),  // empty, but of matching ndim: kept, contributes nothing
          // A permuted layout with the same logical shape.
          permute(contiguous(permute(seq(shape_with(1), dtype, 100), {2, 0, 1})), {1, 2, 0}),
      };
      const Tensor out = cat(ts, dim);
      CHECK(out.dtype() == dtype);
      CHECK(out.is_contiguous());
      CHECK(out.shape() == shape_with(6));
      CHECK(to_vector<double>(out) == cat_ref(ts, d));
    }
  }
  // Every input empty, and one input only.
  CHECK(cat({zeros({0, 2}), zeros({0, 2})}, 0).shape() == Shape{0, 2});
  CHECK(cat({zeros({3, 0}), zeros({3, 0})}, 0).shape() == Shape{6, 0});
  const Tensor a = seq({2, 3}, DType::f32);
  const Tensor single = cat({a}, 1);
  CHECK(to_vector<float>(single) == to_vector<float>(a));
  CHECK(single.storage() != a.storage());
  // Expanded (stride 0) inputs are copied out element by element.
  const Tensor e = expand(from_vector<float>({7, 8}, {2, 1}), {2, 3});
  CHECK(to_vector<float>(cat({e, a}, 0)) ==
        std::vector<float>{7, 7, 7, 8, 8, 8, 0, 1, 2, 3, 4, 5});
}

TEST_CASE("cat rejects bad inputs with messages naming the tensor and shapes") {
  const Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH_ALL(cat({}, 0), "cat: expected a non-empty list of tensors");
  CHECK_THROWS_WITH_ALL(cat({a, Tensor()}, 0), "cat: tensor 1 is undefined");
  CHECK_THROWS_WITH_ALL(cat({zeros({}), zeros({})}, 0), "cat: tensor 0 is 0-d");
  // PyTorch would skip the [0] tensor; splat requires equal ndim.
  CHECK_THROWS_WITH_ALL(cat({a, zeros({0})}, 0), "cat: tensor 1 has shape [0] (1-d)",
                        "tensor 0 has shape [2, 3] (2-d)");
  CHECK_THROWS_WITH_ALL(cat({a, a, zeros({2, 4})}, 0), "cat: tensor 2 has shape [2, 4]",
                        "tensor 0 has shape [2, 3]", "except in dim 0", "dim 1: 4 vs 3");
  CHECK_THROWS_WITH_ALL(cat({a, zeros({2, 3}, {.dtype = DType::f64})}, 0),
                        "cat: tensor 1 has dtype f64 but tensor 0 has f32");
  CHECK_THROWS_WITH_ALL(cat({a, a}, 2), "cat: dim 2 out of range for a 2-d tensor");
  CHECK_THROWS_WITH_ALL(cat({a, a}, -3), "cat: dim -3 out of range");
}

TEST_CASE("stack inserts a new dim at any position") {
  const std::vector<Tensor> ts = {seq({2, 3}, DType::i32),
                                  transpose(seq({3, 2}, DType::i32, 10), 0, 1),
                                  noncontiguous(seq({2, 3}, DType::i32, 20))};
  for (int64_t dim = -3; dim <= 2; ++dim) {
    CAPTURE(dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    const Tensor out = stack(ts, dim);
    Shape expected_shape{2, 3};
    expected_shape.insert(expected_shape.begin() + d, 3);
    REQUIRE(out.shape() == expected_shape);
    const auto v = to_vector<int>(out);
    for (int64_t f = 0; f < out.numel(); ++f) {
      Shape c = unravel(expected_shape, f);
      const int64_t k = c[d];
      c.erase(c.begin() + d);
      CHECK(v[f] == to_vector<int>(ts[k])[ravel({2, 3}, c)]);
    }
  }
  // 0-d inputs stack into a vector; empty inputs into an empty result of the right shape.
  const Tensor s = stack({scalar_tensor(1), scalar_tensor(2)});
  CHECK(s.shape() == Shape{2});
  CHECK(to_vector<float>(s) == std::vector<float>{1, 2});
  CHECK(stack({zeros({0, 2}), zeros({0, 2})}, 1).shape() == Shape{0, 2, 2});

  const Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH_ALL(stack({}), "stack: expected a non-empty list of tensors");
  CHECK_THROWS_WITH_ALL(stack({a, Tensor()}), "stack: tensor 1 is undefined");
  CHECK_THROWS_WITH_ALL(stack({a, zeros({3, 2})}), "stack: tensor 1 has shape [3, 2]",
                        "tensor 0 has shape [2, 3]", "equal shapes");
  CHECK_THROWS_WITH_ALL(stack({a, zeros({2, 3}, {.dtype = DType::i64})}),
                        "stack: tensor 1 has dtype i64 but tensor 0 has f32");
  CHECK_THROWS_WITH_ALL(stack({a, a}, 3), "stack: dim 3 out of range for a 3-d tensor");
  CHECK_THROWS_WITH_ALL(stack({a, a}, -4), "stack: dim -4 out of range");
}

TEST_CASE("split by size returns views; the last piece is smaller") {
  Tensor a = seq({3, 7}, DType::f64);
  const auto parts = split(a, 3, -1);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].shape() == Shape{3, 3});
  CHECK(parts[2].shape() == Shape{3, 1});
  CHECK(to_vector<double>(parts[1]) == std::vector<double>{3, 4, 5, 10, 11, 12, 17, 18, 19});
  CHECK(to_vector<double>(parts[2]) == std::vector<double>{6, 13, 20});
  // Views: writing into a piece writes into a.
  Tensor p = parts[2];
  fill_(p, -1);
  CHECK(to_vector<double>(a)[6] == -1);
  CHECK(to_vector<double>(cat(parts, 1)) == to_vector<double>(a));
  // A split size larger than the dim, on a strided input.
  const Tensor t = transpose(seq({4, 2}, DType::f32), 0, 1);  // (2, 4)
  const auto whole = split(t, 10, 1);
  REQUIRE(whole.size() == 1);
  CHECK(to_vector<float>(whole[0]) == to_vector<float>(t));
  CHECK(split(t, 1, 0).size() == 2);
  // An empty dim gives one empty piece, and split size 0 is allowed only there.
  const auto empty = split(zeros({0, 3}), 2);
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].shape() == Shape{0, 3});
  CHECK(split(zeros({0, 3}), 0).size() == 1);

  CHECK_THROWS_WITH_ALL(split(a, 0, 1), "split: split_size must be positive, got 0",
                        "dim 1 has size 7");
  CHECK_THROWS_WITH_ALL(split(a, -2, 1), "split_size must be positive, got -2");
  CHECK_THROWS_WITH_ALL(split(a, 2, 2), "split: dim 2 out of range");
  CHECK_THROWS_WITH_ALL(split(scalar_tensor(1), 1), "split: cannot split a 0-d tensor");
}

TEST_CASE("split by sizes") {
  const Tensor a = noncontiguous(seq({5, 2}, DType::i64));
  const auto parts = split(a, std::vector<int64_t>{2, 0, 3}, -2);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].shape() == Shape{2, 2});
  CHECK(parts[1].shape() == Shape{0, 2});
  CHECK(to_vector<int64_t>(parts[2]) == std::vector<int64_t>{4, 5, 6, 7, 8, 9});
  CHECK(parts[2].storage() == a.storage());
  CHECK(split(zeros({0}), std::vector<int64_t>{0, 0}).size() == 2);

  CHECK_THROWS_WITH_ALL(split(a, std::vector<int64_t>{2, 2}, 0), "split: sizes [2, 2] sum to 4",
                        "dim 0 of shape [5, 2] has size 5");
  CHECK_THROWS_WITH_ALL(split(a, std::vector<int64_t>{6, -1}, 0),
                        "split: negative size -1 in sizes [6, -1]");
  CHECK_THROWS_WITH_ALL(split(a, std::vector<int64_t>{5}, -3), "split: dim -3 out of range");
}

TEST_CASE("chunk follows PyTorch: ceil-sized pieces, possibly fewer than asked") {
  auto sizes_of = [](const std::vector<Tensor>& parts, int64_t dim) {
    std::vector<int64_t> s;
    for (const Tensor& p : parts) s.push_back(p.shape()[dim]);
    return s;
  };
  const Tensor a = seq({2, 5}, DType::u8);
  CHECK(sizes_of(chunk(a, 4, 1), 1) == std::vector<int64_t>{2, 2, 1});
  CHECK(sizes_of(chunk(a, 2, -1), 1) == std::vector<int64_t>{3, 2});
  CHECK(sizes_of(chunk(a, 5, 1), 1) == std::vector<int64_t>{1, 1, 1, 1, 1});
  CHECK(sizes_of(chunk(a, 9, 1), 1) == std::vector<int64_t>{1, 1, 1, 1, 1});
  CHECK(sizes_of(chunk(zeros({6}), 4), 0) == std::vector<int64_t>{2, 2, 2});
  CHECK(sizes_of(chunk(zeros({0, 2}), 3), 0) == std::vector<int64_t>{0, 0, 0});
  const auto parts = chunk(a, 2, 1);
  CHECK(to_vector<int>(parts[1]) == std::vector<int>{3, 4, 8, 9});
  CHECK(parts[1].storage() == a.storage());

  CHECK_THROWS_WITH_ALL(chunk(a, 0, 1), "chunk: chunks must be positive, got 0");
  CHECK_THROWS_WITH_ALL(chunk(a, 2, 2), "chunk: dim 2 out of range");
  CHECK_THROWS_WITH_ALL(chunk(scalar_tensor(1), 1), "chunk: cannot split a 0-d tensor");
}
