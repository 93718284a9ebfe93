#include "ops/copy.h"
#include "ops/view.h"
#include "tests/helpers.h"

using namespace splat;
using namespace splat::ops;
using splat::test::to_vector;

TEST_CASE("factories") {
  CHECK(to_vector<float>(zeros({2, 2})) == std::vector<float>{0, 0, 0, 0});
  CHECK(to_vector<int>(ones({3}, {.dtype = DType::i32})) == std::vector<int>{1, 1, 1});
  CHECK(to_vector<double>(full({2}, 3.5, {.dtype = DType::f64})) == std::vector<double>{3.5, 3.5});
  CHECK(arange(5).dtype() == DType::i64);
  CHECK(to_vector<int64_t>(arange(5)) == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(to_vector<double>(arange(1, 2, 0.25, {.dtype = DType::f64})) ==
        std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(to_vector<int64_t>(arange(5, 0, -2)) == std::vector<int64_t>{5, 3, 1});
  CHECK(arange(3, 3).numel() == 0);
  CHECK_THROWS_WITH_ALL(arange(0, 5, 0), "step must be nonzero");
  CHECK_THROWS_WITH_ALL(arange(0, 5, -1), "moves away from end");
  const auto l = to_vector<double>(linspace(0, 1, 5, {.dtype = DType::f64}));
  CHECK(l == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(linspace(2, 3, 1).item<float>() == 2);
  CHECK(linspace(2, 3, 0).numel() == 0);
  CHECK(to_vector<float>(eye(2, 3)) == std::vector<float>{1, 0, 0, 0, 1, 0});
  CHECK(eye(0).numel() == 0);
  CHECK_THROWS_WITH_ALL(from_vector<float>({1, 2, 3}, {2, 2}), "3 values", "[2, 2]");
}

TEST_CASE("copy_ broadcasts, casts and writes through strided views") {
  Tensor dst = zeros({2, 3}, {.dtype = DType::i32});
  Tensor src = from_vector<double>({1.9, -2.5, 3}, {3});
  copy_(dst, src);
  CHECK(to_vector<int>(dst) == std::vector<int>{1, -2, 3, 1, -2, 3});
  // Into a transposed view.
  Tensor base = zeros({3, 2});
  Tensor t = transpose(base, 0, 1);  // (2, 3)
  Tensor vals = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  copy_(t, vals);
  CHECK(to_vector<float>(base) == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK_THROWS_WITH_ALL(copy_(dst, zeros({2, 2, 3})), "does not broadcast", "[2, 3]");
  Tensor expanded = expand(zeros({1, 3}), {2, 3});
  CHECK_THROWS_WITH_ALL(copy_(expanded, vals), "expanded");
  // bool conversions: nonzero is true.
  Tensor b = to(from_vector<float>({0, 0.5f, -1}, {3}), DType::b8);
  CHECK(to_vector<int>(b) == std::vector<int>{0, 1, 1});
}

TEST_CASE("contiguous, clone and to(dtype)") {
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(contiguous(a).is_same(a));
  Tensor t = transpose(a, 0, 1);
  CHECK_FALSE(t.is_contiguous());
  Tensor c = contiguous(t);
  CHECK(c.is_contiguous());
  CHECK(to_vector<float>(c) == std::vector<float>{1, 4, 2, 5, 3, 6});
  Tensor k = clone(a);
  CHECK(k.storage() != a.storage());
  fill_(k, 0);
  CHECK(to_vector<float>(a)[0] == 1);
  CHECK(to(a, DType::f32).is_same(a));
  CHECK(to(a, DType::i64).dtype() == DType::i64);
  CHECK(to(a, Device::cpu()).is_same(a));
  CHECK_THROWS_WITH_ALL(to(a, Device::cuda(99)), "cuda:99", "is not available");
  Tensor z = clone(zeros({0, 4}));
  CHECK(z.shape() == Shape{0, 4});
}

TEST_CASE("fill_ bumps the version counter of the shared storage") {
  Tensor a = zeros({4});
  Tensor v = slice(a, 0, 1, 3);
  const auto before = a.storage()->version();
  fill_(v, 2);
  CHECK(a.storage()->version() == before + 1);
  CHECK(to_vector<float>(a) == std::vector<float>{0, 2, 2, 0});
}

TEST_CASE("copies between devices: cpu <-> cuda, cuda:0 <-> cuda:1, with dtype changes" *
          doctest::skip(splat::test::no_cuda_device())) {
  const Tensor a = transpose(from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1);
  const Tensor d = to(a, Device::cuda(0));
  CHECK(d.device() == Device::cuda(0));
  CHECK(d.is_contiguous());
  CHECK(to_vector<float>(d) == std::vector<float>{1, 4, 2, 5, 3, 6});
  const Tensor d1 = to(to(d, Device::cuda(1)), DType::i64);
  CHECK(d1.device() == Device::cuda(1));
  CHECK(d1.dtype() == DType::i64);
  CHECK(to_vector<int64_t>(to(d1, Device::cpu())) == std::vector<int64_t>{1, 4, 2, 5, 3, 6});
  // copy_ across devices broadcasts and casts on the destination.
  Tensor dst = zeros({2, 3}, {.dtype = DType::f64, .device = Device::cuda(0)});
  copy_(dst, from_vector<int32_t>({7, 8, 9}, {3}));
  CHECK(to_vector<double>(dst) == std::vector<double>{7, 8, 9, 7, 8, 9});
  CHECK(ones({}, {.device = Device::cuda(1)}).item<float>() == 1);
}
