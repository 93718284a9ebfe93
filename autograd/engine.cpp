#include "autograd/engine.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/tensor_math.h"
#include "core/profile.h"

#include <queue>
#include <unordered_map>

namespace splat::autograd {
namespace {

struct NodeState {
  int dependencies = 0;        // edges from not-yet-run nodes into this one
  std::vector<Tensor> grads;   // one slot per output, summed as gradients arrive
};

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

void check_grad_shape(const Node& node, size_t slot, const Tensor& g, const std::string& from) {
  const OutputMeta& want = node.output(slot);
  SPLAT_CHECK(g.shape() == want.shape, "backward: ", from, " produced a gradient of shape ",
              shape_str(g.shape()), " for an input of shape ", shape_str(want.shape));
  SPLAT_CHECK(g.dtype() == want.dtype, "backward: ", from, " produced a ", g.dtype(),
              " gradient for a ", want.dtype, " input");
}

void add_grad(NodeState& st, size_t slot, Tensor g) {
  Tensor& cur = st.grads[slot];
  if (!cur.defined()) {
    cur = std::move(g);
    return;
  }
  profile::Scope timed("engine: sum of gradients", profile::Phase::backward);
  // A gradient nothing else holds is summed in place: one pass and no new tensor.
  if (is_reusable(cur)) tensor_math().add_(cur, g);
  else cur = tensor_math().add(cur, g);
}

} // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs,
              bool retain_graph) {
  SPLAT_CHECK(grad_outputs.empty() || grad_outputs.size() == roots.size(), "backward: ",
              roots.size(), " roots but ", grad_outputs.size(), " gradients");
  NoGradGuard no_grad;
  std::unordered_map<Node*, NodeState> state;
  std::vector<std::shared_ptr<Node>> keep_alive;  // nodes referenced only through edges

  // Discover the graph and count dependencies.
  std::vector<Node*> stack;
  auto discover = [&](const std::shared_ptr<Node>& n) {
    auto [it, fresh] = state.try_emplace(n.get());
    if (fresh) {
      it->second.grads.resize(n->num_outputs());
      keep_alive.push_back(n);
      stack.push_back(n.get());
    }
  };
  std::vector<Edge> root_edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    Edge e = gradient_edge(r);
    SPLAT_CHECK(e.valid(), "backward: root ", i, " (shape ", shape_str(r.shape()),
                ") does not require grad and has no grad_fn");
    discover(e.node);
    root_edges.push_back(e);
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges()) {
      if (!e.valid()) continue;
      discover(e.node);
      ++state[e.node.get()].dependencies;
    }
  }

  // Seed the roots.
  for (size_t i = 0; i < roots.size(); ++i) {
    Tensor g;
    if (!grad_outputs.empty() && grad_outputs[i].defined()) {
      g = grad_outputs[i];
    } else {
      SPLAT_CHECK(roots[i].numel() == 1, "backward: a gradient can only be implied for a "
                  "one-element root; root ", i, " has shape ", shape_str(roots[i].shape()),
                  ", pass its gradient");
      g = tensor_math().full(roots[i].shape(), 1.0, roots[i].dtype(), roots[i].device());
    }
    check_grad_shape(*root_edges[i].node, root_edges[i].input_nr, g, "the root gradient");
    add_grad(state[root_edges[i].node.get()], root_edges[i].input_nr, g);
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  for (const Edge& e : root_edges)
    if (state[e.node.get()].dependencies == 0) ready.push(e.node.get());

  std::unordered_map<Node*, bool> done;
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    if (done[n]) continue;  // a node can be pushed once per root edge
    done[n] = true;
    NodeState& st = state[n];
    bool any = false;
    for (const Tensor& g : st.grads) any = any || g.defined();
    std::vector<Tensor> in_grads;
    if (any) {
      for (size_t k = 0; k < st.grads.size(); ++k)
        if (!st.grads[k].defined()) {
          const OutputMeta& om = n->output(k);
          st.grads[k] = tensor_math().full(om.shape, 0.0, om.dtype, om.device);
        }
      n->run_pre_hooks(st.grads);
      try {
        profile::Scope timed(n->name(), profile::Phase::backward);
        in_grads = n->apply(std::move(st.grads));
      } catch (const Error& e) {
        throw Error(str("backward of ", n->name(), ": ", e.what()));
      }
      if (!retain_graph) n->release();
      SPLAT_CHECK(in_grads.empty() || in_grads.size() == n->next_edges().size(), "backward of ",
                  n->name(), ": returned ", in_grads.size(), " gradients for ",
                  n->next_edges().size(), " inputs");
    }
    st.grads.clear();
    for (size_t i = 0; i < n->next_edges().size(); ++i) {
      const Edge& e = n->next_edges()[i];
      if (!e.valid()) continue;
      NodeState& next = state[e.node.get()];
      if (i < in_grads.size() && in_grads[i].defined()) {
        check_grad_shape(*e.node, e.input_nr, in_grads[i], n->name());
        add_grad(next, e.input_nr, std::move(in_grads[i]));
      }
      if (--next.dependencies == 0) ready.push(e.node.get());
    }
  }
  profile::note_backward_pass();
}

void register_hook(const Tensor& t, GradHook hook) {
  SPLAT_CHECK(t.requires_grad(), "register_hook: the tensor does not require grad");
  AutogradMeta& m = t.autograd();
  if (m.grad_fn) m.grad_fn->add_pre_hook(m.output_nr, std::move(hook));
  else m.hooks.push_back(std::move(hook));
}

void register_post_accumulate_hook(const Tensor& leaf, PostAccumulateHook hook) {
  SPLAT_CHECK(leaf.requires_grad() && leaf.is_leaf(), "register_post_accumulate_hook: only "
              "leaves that require grad accumulate gradients");
  leaf.autograd().post_accumulate_hooks.push_back(std::move(hook));
}

void retain_grad(const Tensor& t) {
  SPLAT_CHECK(t.requires_grad(), "retain_grad: the tensor does not require grad");
  if (t.is_leaf()) return;
  AutogradMeta& m = t.autograd();
  if (m.retains_grad) return;
  m.retains_grad = true;
  std::weak_ptr<TensorImpl> weak = t.weak_impl();
  m.grad_fn->add_pre_hook(m.output_nr, [weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      Tensor self(std::move(impl));
      AutogradMeta& meta = self.autograd();
      meta.grad = meta.grad.defined() ? tensor_math().add(meta.grad, g) : tensor_math().clone(g);
    }
    return Tensor();
  });
}

} // namespace splat::autograd
