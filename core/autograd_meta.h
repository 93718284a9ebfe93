// The autograd state a tensor carries, present only once it requires grad or was produced by a
// recorded op. It is plain data: the engine that acts on it lives in autograd/.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace splat {

namespace autograd {
class Node;
}

using GradHook = std::function<Tensor(const Tensor& grad)>;  // may return a replacement grad
using PostAccumulateHook = std::function<void(const Tensor& leaf)>;

struct AutogradMeta {
  bool requires_grad = false;                 // set by the user on leaves
  Tensor grad;                                // accumulated gradient (leaves, retained non-leaves)
  std::shared_ptr<autograd::Node> grad_fn;    // the op that produced this tensor; null for leaves
  uint32_t output_nr = 0;                     // which output of grad_fn this tensor is
  bool is_view = false;                       // produced by a differentiable view op
  bool retains_grad = false;                  // a non-leaf that keeps its grad (retain_grad)
  std::vector<GradHook> hooks;                // leaves: run before accumulation
  std::vector<PostAccumulateHook> post_accumulate_hooks;  // leaves: run after accumulation
  std::weak_ptr<autograd::Node> grad_accumulator;         // leaves: their AccumulateGrad node
};

} // namespace splat
