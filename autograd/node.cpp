#include "autograd/node.h"

#include "autograd/accumulate_grad.h"

#include <atomic>

namespace splat::autograd {
namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};
}

Node::Node(std::string name, std::vector<Edge> next_edges, std::vector<OutputMeta> outputs)
    : name_(std::move(name)), next_edges_(std::move(next_edges)), outputs_(std::move(outputs)),
      sequence_nr_(g_next_sequence_nr++) {}

void Node::add_pre_hook(uint32_t output_nr, GradHook hook) {
  pre_hooks_.emplace_back(output_nr, std::move(hook));
}

void Node::run_pre_hooks(std::vector<Tensor>& grads) const {
  for (const auto& [nr, hook] : pre_hooks_) {
    Tensor replaced = hook(grads[nr]);
    if (replaced.defined()) grads[nr] = std::move(replaced);
  }
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta* m = t.autograd_meta();
  if (m == nullptr) return {};
  if (m->grad_fn) return {m->grad_fn, m->output_nr};
  if (!m->requires_grad) return {};
  std::shared_ptr<Node> acc = m->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    m->grad_accumulator = acc;
  }
  return {acc, 0};
}

} // namespace splat::autograd
