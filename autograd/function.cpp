#include "autograd/function.h"

namespace splat::autograd {
namespace {

class FunctionNode final : public Node {
public:
  FunctionNode(std::string name, std::vector<Edge> next, std::vector<OutputMeta> outputs, BackwardFn fn)
      : Node(std::move(name), std::move(next), std::move(outputs)), fn_(std::move(fn)) {}

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    SPLAT_CHECK(fn_ != nullptr, "the graph was freed by a previous backward (its saved tensors "
                "are released); pass retain_graph = true to the first backward to run it twice");
    Needs needs(next_edges().size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = next_edges()[i].valid();
    return fn_(grads, needs);
  }
  void release() override { fn_ = nullptr; }

private:
  BackwardFn fn_;
};

template <class Range> bool any_requires_grad(const Range& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

} // namespace

bool needs_grad(std::initializer_list<Tensor> inputs) { return any_requires_grad(inputs); }
bool needs_grad(const std::vector<Tensor>& inputs) { return any_requires_grad(inputs); }

void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn fn, bool is_view) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(t.defined() ? gradient_edge(t) : Edge{});
  std::vector<OutputMeta> metas;
  for (const Tensor& o : outputs) metas.push_back({o.shape(), o.dtype(), o.device()});
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(edges), std::move(metas),
                                             std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!is_floating(outputs[i].dtype())) continue;  // indices, masks: never differentiable
    AutogradMeta& m = outputs[i].autograd();
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(i);
    m.is_view = is_view;
  }
}

void check_inplace(std::string_view op, const Tensor& t) {
  if (!grad_enabled() || t.autograd_meta() == nullptr) return;
  const AutogradMeta& m = *t.autograd_meta();
  SPLAT_CHECK(!(m.requires_grad && !m.grad_fn), op, ": a leaf tensor that requires grad cannot "
              "be modified in place (it would change what its gradient means); do it under "
              "NoGradGuard or on a clone");
  SPLAT_CHECK(!m.is_view, op, ": in-place modification of a view is not supported when "
              "gradients are recorded (the base tensor would not see the new history); build "
              "the result out of place (cat, stack, where, scatter_add) or clone the view");
}

void rebase_history(const Tensor& t, const Tensor& result) {
  const AutogradMeta* r = result.autograd_meta();
  AutogradMeta& m = t.autograd();
  m.grad_fn = r ? r->grad_fn : nullptr;
  m.output_nr = r ? r->output_nr : 0;
}

} // namespace splat::autograd
