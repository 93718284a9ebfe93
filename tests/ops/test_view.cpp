#include "ops/copy.h"
#include "ops/view.h"
#include "tests/helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::to_vector;

TEST_CASE("views share storage with their input") {
  Tensor a = arange(24, {.dtype = DType::f32});
  Tensor v = view(a, {2, 3, 4});
  CHECK(v.storage() == a.storage());
  Tensor p = permute(v, {2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Strides{1, 12, 4});
  fill_(p, 1);  // writes through every view
  CHECK(to_vector<float>(a)[23] == 1);
}

TEST_CASE("view infers -1 and refuses layouts that need a copy") {
  Tensor a = arange(12);
  CHECK(view(a, {3, -1}).shape() == Shape{3, 4});
  CHECK_THROWS_WITH_ALL(view(a, {5, -1}), "[5, -1]", "invalid for input of shape [12]");
  CHECK_THROWS_WITH_ALL(view(a, {-1, -1}), "only one dim can be -1");
  Tensor t = transpose(view(a, {3, 4}), 0, 1);  // (4, 3), strides (1, 4)
  CHECK_THROWS_WITH_ALL(view(t, {12}), "cannot be viewed", "use reshape");
  Tensor r = reshape(t, {12});
  CHECK(r.storage() != a.storage());
  CHECK(to_vector<int64_t>(r) == std::vector<int64_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // Splitting a dim of a transposed tensor is still a view.
  Tensor s = view(t, {2, 2, 3});
  CHECK(s.storage() == a.storage());
  CHECK(to_vector<int64_t>(s) == to_vector<int64_t>(r));
  // Size-1 dims in the middle do not break viewability.
  Tensor u = view(unsqueeze(view(a, {3, 4}), 1), {12});
  CHECK(u.storage() == a.storage());
}

TEST_CASE("slice, narrow, select") {
  Tensor a = view(arange(20), {4, 5});
  Tensor s = slice(a, 1, 1, 5, 2);
  CHECK(s.shape() == Shape{4, 2});
  CHECK(to_vector<int64_t>(select(s, 0, 1)) == std::vector<int64_t>{6, 8});
  CHECK(slice(a, 0, -2, 100).shape() == Shape{2, 5});  // Python-style clamping
  CHECK(slice(a, 0, 3, 1).shape() == Shape{0, 5});
  CHECK(to_vector<int64_t>(narrow(a, 1, 3, 2)) == std::vector<int64_t>{3, 4, 8, 9, 13, 14, 18, 19});
  CHECK_THROWS_WITH_ALL(narrow(a, 1, 4, 2), "[4, 6)", "dim 1 of size 5");
  CHECK_THROWS_WITH_ALL(select(a, 0, 4), "index 4", "dim 0 of size 4");
  CHECK(to_vector<int64_t>(select(a, 1, -1)) == std::vector<int64_t>{4, 9, 14, 19});
  CHECK_THROWS_WITH_ALL(slice(a, 2, 0, 1), "dim 2 out of range");
  CHECK_THROWS_WITH_ALL(slice(a, 0, 0, 1, 0), "step must be positive");
}

TEST_CASE("expand, squeeze, unsqueeze, flatten, transpose") {
  Tensor a = from_vector<float>({1, 2, 3}, {3, 1});
  Tensor e = expand(a, {2, 3, 4});
  CHECK(e.strides() == Strides{0, 1, 0});
  CHECK(to_vector<float>(e)[4] == 2);
  CHECK(expand(a, {-1, 2}).shape() == Shape{3, 2});
  CHECK_THROWS_WITH_ALL(expand(a, {2, 4}), "cannot expand", "[3, 1]", "3 vs 2");
  CHECK(squeeze(zeros({1, 3, 1})).shape() == Shape{3});
  CHECK(squeeze(zeros({1, 3, 1}), 2).shape() == Shape{1, 3});
  CHECK(squeeze(zeros({2, 3}), 0).shape() == Shape{2, 3});
  CHECK(unsqueeze(zeros({2, 3}), -1).shape() == Shape{2, 3, 1});
  CHECK(unsqueeze(zeros({2, 3}), 0).shape() == Shape{1, 2, 3});
  CHECK_THROWS_WITH_ALL(unsqueeze(zeros({2}), 3), "dim 3 out of range");
  CHECK(flatten(zeros({2, 3, 4}), 1).shape() == Shape{2, 12});
  CHECK(flatten(zeros({})).shape() == Shape{1});
  CHECK(transpose(zeros({2, 3, 4}), 0, -1).shape() == Shape{4, 3, 2});
  CHECK_THROWS_WITH_ALL(permute(zeros({2, 3}), {0, 0}), "repeated");
  CHECK_THROWS_WITH_ALL(permute(zeros({2, 3}), {0}), "1 dims given for a 2-d tensor");
}

TEST_CASE("zero-size tensors view freely") {
  Tensor z = zeros({0, 4});
  CHECK(view(z, {4, 0}).shape() == Shape{4, 0});
  CHECK(reshape(z, {-1, 2}).shape() == Shape{0, 2});
  CHECK(permute(z, {1, 0}).shape() == Shape{4, 0});
}
