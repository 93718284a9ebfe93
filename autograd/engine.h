// The backward engine and the user-facing autograd entry points.
#pragma once

#include "core/autograd_meta.h"
#include "core/tensor.h"

#include <vector>

namespace splat::autograd {

// Back-propagates from roots (grad_outputs default to ones for one-element roots) into the
// .grad of every leaf that requires grad. Nodes run once each, after all their gradients
// arrived (dependency counting), later-created ones first among the ready. Without
// retain_graph the graph's saved tensors are freed and a second backward through it fails.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false);
inline void backward(const Tensor& root, const Tensor& grad_output = Tensor(), bool retain_graph = false) {
  backward(std::vector<Tensor>{root},
           grad_output.defined() ? std::vector<Tensor>{grad_output} : std::vector<Tensor>{},
           retain_graph);
}

// A hook on t's gradient: for a leaf, it runs before accumulation; for a non-leaf, when its
// gradient is complete. It may return a replacement gradient (or an undefined tensor to keep it).
void register_hook(const Tensor& t, GradHook hook);
// A hook that runs after a leaf's .grad received this backward's complete gradient.
void register_post_accumulate_hook(const Tensor& leaf, PostAccumulateHook hook);
// Makes a non-leaf keep its .grad (leaves always do).
void retain_grad(const Tensor& t);

} // namespace splat::autograd
