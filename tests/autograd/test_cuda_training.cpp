// Autograd on the CUDA device: the same training steps as on the CPU give the same numbers, and
// once warm, training iterations take every buffer from the caching allocator's cache.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/cuda/caching_allocator.h"
#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/helpers.h"

using namespace splat;
using namespace splat::ops;

namespace {

// Ten SGD steps of a small MLP on `device`; returns the losses.
std::vector<double> train(Device device, int steps, const std::function<void(int)>& after_step = {}) {
  manual_seed(11);
  const Tensor x = to(randn({64, 8}, {.dtype = DType::f64}), device);
  const Tensor y = to(randn({64, 1}, {.dtype = DType::f64}), device);
  Tensor w1 = to(mul(randn({8, 32}, {.dtype = DType::f64}), 0.3), device).requires_grad_();
  Tensor w2 = to(mul(randn({32, 1}, {.dtype = DType::f64}), 0.3), device).requires_grad_();
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    const Tensor loss = mean(square(sub(matmul(relu(matmul(x, w1)), w2), y)));
    autograd::backward(loss);
    losses.push_back(loss.item<double>());
    NoGradGuard guard;
    for (Tensor* w : {&w1, &w2}) {
      sub_(*w, mul(w->grad(), 0.1));
      w->set_grad(Tensor());
    }
    if (after_step) after_step(step);
  }
  return losses;
}

} // namespace

TEST_SUITE_BEGIN("cuda training" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda: an MLP trains to the same losses as on the CPU") {
  const auto cpu = train(Device::cpu(), 10);
  const auto gpu = train(Device::cuda(0), 10);
  REQUIRE(cpu.size() == gpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) CHECK(gpu[i] == doctest::Approx(cpu[i]).epsilon(1e-10));
  CHECK(cpu.back() < cpu.front());
}

TEST_CASE("cuda: steady-state training iterations make no driver allocations") {
  auto& alloc = cuda::caching_allocator(0);
  int64_t after_warmup = -1;
  train(Device::cuda(0), 20, [&](int step) {
    if (step == 4) after_warmup = alloc.caching_stats().driver_allocations;
  });
  CHECK(after_warmup >= 0);
  CHECK(alloc.caching_stats().driver_allocations == after_warmup);
}

TEST_SUITE_END();
