// CPU-vs-CUDA parity for ops: run the same function on CPU inputs and on copies moved to the
// (emulated) CUDA device, compare every output, then back-propagate the same output gradients
// on both devices and compare every input gradient.
#pragma once

#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "tests/helpers.h"

#include <functional>
#include <vector>

namespace splat::test {

using TensorFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

inline const Device kCuda = Device::cuda(0);

// given holds CPU tensors; those that require grad get their gradients compared too. Both
// devices see leaves with the same values (CUDA copies are contiguous: apply views inside fn to
// exercise strided kernels).
inline void check_cuda_parity(const TensorFn& fn, const std::vector<Tensor>& given, double rtol = 1e-5,
                              double atol = 1e-6) {
  std::vector<Tensor> inputs, on_cuda;
  for (const Tensor& t : given) {
    Tensor h = t.detach(), c = ops::to(h, kCuda);
    if (t.requires_grad()) {
      h.requires_grad_();
      c.requires_grad_();
    }
    inputs.push_back(h);
    on_cuda.push_back(c);
  }
  const std::vector<Tensor> expected = fn(inputs), got = fn(on_cuda);
  REQUIRE(got.size() == expected.size());
  std::vector<Tensor> roots_cpu, roots_cuda, grads_cpu, grads_cuda;
  for (size_t j = 0; j < got.size(); ++j) {
    CAPTURE(j);
    CHECK(got[j].device() == kCuda);
    CHECK(got[j].dtype() == expected[j].dtype());
    check_close(got[j], expected[j], rtol, atol);
    if (expected[j].requires_grad()) {
      const Tensor g = ops::randn(expected[j].shape(), {.dtype = expected[j].dtype()});
      roots_cpu.push_back(expected[j]);
      roots_cuda.push_back(got[j]);
      grads_cpu.push_back(g);
      grads_cuda.push_back(ops::to(g, kCuda));
    }
  }
  if (roots_cpu.empty()) return;
  autograd::backward(roots_cpu, grads_cpu);
  autograd::backward(roots_cuda, grads_cuda);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    CAPTURE(i);
    REQUIRE(on_cuda[i].grad().defined());
    CHECK(on_cuda[i].grad().device() == kCuda);
    check_close(on_cuda[i].grad(), inputs[i].grad(), rtol, atol);
  }
}

inline TensorFn single(std::function<Tensor(const std::vector<Tensor>&)> f) {
  return [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in)}; };
}

} // namespace splat::test
