// The backward graph: a Node is one recorded op; its edges point at the nodes of its inputs.
//
// A Node with k outputs receives k gradients (all defined: the engine fills unused ones with
// zeros) and returns one gradient per next edge (undefined when that input needs none).
#pragma once

#include "core/autograd_meta.h"
#include "core/tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace splat::autograd {

class Node;

// Where a gradient flows: input slot input_nr of node (an output of the node that made it).
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool valid() const { return node != nullptr; }
};

// What a gradient for one output must look like.
struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

class Node {
public:
  Node(std::string name, std::vector<Edge> next_edges, std::vector<OutputMeta> outputs);
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return next_edges_; }
  // Creation order; the engine runs later nodes first among those ready.
  uint64_t sequence_nr() const { return sequence_nr_; }
  size_t num_outputs() const { return outputs_.size(); }
  const OutputMeta& output(size_t i) const { return outputs_[i]; }

  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Frees saved tensors after a backward without retain_graph; apply fails afterwards.
  virtual void release() {}

  // Hooks on the gradient of one output (non-leaf tensor hooks and retain_grad).
  void add_pre_hook(uint32_t output_nr, GradHook hook);
  void run_pre_hooks(std::vector<Tensor>& grads) const;

private:
  std::string name_;
  std::vector<Edge> next_edges_;
  std::vector<OutputMeta> outputs_;
  uint64_t sequence_nr_;
  std::vector<std::pair<uint32_t, GradHook>> pre_hooks_;
};

// The edge a gradient for t must follow: its grad_fn, or its leaf accumulator (created on first
// use), or an invalid edge when t does not require grad.
Edge gradient_edge(const Tensor& t);

} // namespace splat::autograd
