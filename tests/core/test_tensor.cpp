#include "core/allocator.h"
#include "core/tensor.h"
#include "ops/copy.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <sstream>

using namespace splat;
using splat::test::to_vector;

TEST_CASE("empty tensors are contiguous and own fresh storage") {
  Tensor t = Tensor::empty({2, 3}, DType::f64);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.strides() == Strides{3, 1});
  CHECK(t.numel() == 6);
  CHECK(t.is_contiguous());
  CHECK(t.storage()->nbytes() == 48);
  CHECK(t.device() == Device::cpu());
  Tensor z = Tensor::empty({0, 5});
  CHECK(z.numel() == 0);
  CHECK(z.is_contiguous());
}

TEST_CASE("as_strided rejects geometry outside the storage") {
  Tensor t = Tensor::empty({4});
  CHECK_THROWS_WITH_ALL(t.as_strided({3}, {2}, 0), "outside a storage of 4 elements");
  CHECK_NOTHROW(t.as_strided({2}, {2}, 1));
  CHECK_THROWS_WITH_ALL(t.as_strided({2}, {1, 1}, 0), "differ in length");
}

TEST_CASE("data<T> checks the dtype and item converts") {
  Tensor t = ops::full({}, 2.5, {.dtype = DType::f64});
  CHECK(t.item<double>() == 2.5);
  CHECK(t.item<int>() == 2);
  CHECK_THROWS_WITH_ALL(t.data<float>(), "data<f32>() called on a f64 tensor");
  CHECK_THROWS_WITH_ALL(ops::zeros({2}).item<float>(), "2 elements");
}

TEST_CASE("storages are freed with their last tensor") {
  const int64_t before = Storage::live_count();
  const int64_t bytes_before = cpu_allocator().stats().allocated_bytes;
  {
    Tensor a = ops::zeros({100});
    Tensor v = ops::slice(a, 0, 10, 20);
    CHECK(Storage::live_count() == before + 1);
    a = Tensor();
    CHECK(Storage::live_count() == before + 1);  // the view keeps it alive
  }
  CHECK(Storage::live_count() == before);
  CHECK(cpu_allocator().stats().allocated_bytes == bytes_before);
}

TEST_CASE("undefined tensors report their misuse") {
  Tensor t;
  CHECK_FALSE(t.defined());
  CHECK_THROWS_WITH_ALL(t.shape(), "undefined tensor");
}

TEST_CASE("printing resembles PyTorch") {
  auto s = [](const Tensor& t) {
    std::ostringstream os;
    os << t;
    return os.str();
  };
  CHECK(s(ops::from_vector<float>({1.5f, -2.f, 0.25f, 4.f}, {2, 2})) ==
        "tensor([[ 1.5000, -2.0000],\n        [ 0.2500,  4.0000]])");
  CHECK(s(ops::from_vector<double>({1, 2}, {2})) == "tensor([1., 2.], dtype=f64)");
  CHECK(s(ops::from_vector<int64_t>({3, -10}, {2})) == "tensor([  3, -10])");
  CHECK(s(ops::from_vector<bool>({true, false}, {2})) == "tensor([ True, False])");
  CHECK(s(ops::zeros({0, 3})) == "tensor([], size=[0, 3])");
  CHECK(s(ops::full({}, 7, {.dtype = DType::i32})) == "tensor(7, dtype=i32)");
  CHECK(s(ops::from_vector<float>({1e-6f, 1.f}, {2})) == "tensor([1.0000e-06, 1.0000e+00])");
  // 2000 elements are summarised with "..." at both ends.
  const std::string big = s(ops::arange(2000));
  CHECK(big.find("   2, ..., 1997, 1998, 1999])") != std::string::npos);
  // A view prints its own elements, not the storage's.
  Tensor base = ops::arange(10);
  CHECK(s(ops::slice(base, 0, 3, 9, 2)) == "tensor([3, 5, 7])");
  Tensor m = ops::from_vector<int64_t>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  CHECK(s(m) == "tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]])");
}
