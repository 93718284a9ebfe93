// Per-class selection of box deltas and mask logits: values, gradients on both devices, and the
// label checks.
#include "ops/class_select.h"
#include "ops/copy.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::leaf;
using splat::test::to_vector;

namespace {

Tensor labels(std::vector<int64_t> v, Device d = Device::cpu()) {
  const int64_t n = static_cast<int64_t>(v.size());
  return to(from_vector<int64_t>(v, {n}), d);
}

} // namespace

TEST_CASE("select_class_deltas and select_class_masks pick each row's class") {
  const Tensor deltas = arange(24, {.dtype = DType::f32});
  const Tensor d = view(deltas, {2, 12});  // 2 RoIs, 3 classes
  CHECK(to_vector<float>(select_class_deltas(d, labels({2, 0}))) == std::vector<float>{8, 9, 10, 11, 12, 13, 14, 15});
  const Tensor m = view(arange(2 * 3 * 2 * 2, {.dtype = DType::f32}), {2, 3, 2, 2});
  CHECK(to_vector<float>(select_class_masks(m, labels({1, 2}))) == std::vector<float>{4, 5, 6, 7, 20, 21, 22, 23});
  CHECK(select_class_deltas(zeros({0, 8}), labels({})).shape() == Shape{0, 4});
}

TEST_CASE("class selection gradients") {
  CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return select_class_deltas(in[0], labels({1, 1, 0})); },
                  {leaf({3, 8})});
  CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return select_class_masks(in[0], labels({0, 2})); },
                  {leaf({2, 3, 2, 3})});
}

TEST_CASE("class selection errors name the labels") {
  CHECK_THROWS_WITH_AS(select_class_deltas(zeros({2, 8}), labels({0, 2})),
                       "select_class_deltas: labels must lie in [0, 2), got values in [0, 2]", Error);
  CHECK_THROWS_WITH_AS(select_class_masks(zeros({2, 3, 4, 4}), labels({0})),
                       "select_class_masks: labels must be i64 of shape [2], got i64 [1]", Error);
  CHECK_THROWS_WITH_AS(select_class_deltas(zeros({2, 6}), labels({0, 0})),
                       "select_class_deltas: deltas must be (N, 4 * C), got [2, 6]", Error);
}

TEST_SUITE_BEGIN("cuda class select" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("class selection on the device matches the CPU, with gradients") {
  using splat::test::kCuda;
  const Tensor d = ops::randn({50, 4 * 81}).requires_grad_();
  const Tensor m = ops::randn({20, 5, 7, 7}).requires_grad_();
  Generator g(3);
  const Tensor ld = ops::randint(0, 81, {50}, &g), lm = ops::randint(0, 5, {20}, &g);
  splat::test::check_cuda_parity([&](const std::vector<Tensor>& in) {
    const Device dev = in[0].device();
    return std::vector<Tensor>{select_class_deltas(in[0], to(ld, dev)), select_class_masks(in[1], to(lm, dev))};
  }, {d, m}, 0, 0);
  CHECK_GRADCHECK([](const std::vector<Tensor>& in) {
    return select_class_masks(in[0], labels({0, 2}, kCuda));
  }, {leaf({2, 3, 2, 3}, -1, 1, kCuda)});
}

TEST_SUITE_END();
