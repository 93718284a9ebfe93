// What the optimizers share: parameter groups, the learning rate the schedule sets each
// iteration, zero_grad, and their state as named tensors for checkpoints.
//
// A group scales the base learning rate by lr_mult and has its own weight decay (norms and
// biases without decay, param_groups.h); the optimizers' per-parameter state is indexed by the
// parameter's position over all groups, in order.
#pragma once

#include "core/tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace splat::train {

struct ParamGroup {
  std::vector<Tensor> params;
  double weight_decay = 0;
  double lr_mult = 1;
};

class Optimizer {
public:
  // Every parameter must require grad; weight decays and lr multipliers must be >= 0.
  Optimizer(std::string name, std::vector<ParamGroup> groups, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient (the others and their state untouched).
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<ParamGroup>& groups() const { return groups_; }

  // The state tensors as "<param index>.<name>" (e.g. "3.momentum_buffer"), CPU copies not
  // needed: what a checkpoint writes. load_state expects exactly the keys state() would have
  // after the same number of steps and checks their shapes.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;

protected:
  // Calls fn(group, param, index over all groups) for each parameter with a gradient.
  template <class F> void for_each_with_grad(F&& fn) {
    size_t index = 0;
    for (const ParamGroup& g : groups_)
      for (const Tensor& p : g.params) {
        if (p.grad().defined()) fn(g, p, index);
        ++index;
      }
  }
  size_t num_params() const;
  // The parameter at index (over all groups) and an error prefix naming the optimizer.
  const Tensor& param(size_t index) const;
  const std::string name_;

private:
  std::vector<ParamGroup> groups_;
  double lr_;
};

// "<index>.<name>" split, the index checked against num_params; errors name the optimizer.
std::pair<size_t, std::string> split_state_key(const std::string& optimizer, const std::string& key,
                                               size_t num_params);

// Copies state[key] into dst (defined with dst's shape) or, when dst is undefined, clones it;
// the error names the optimizer, the key and both shapes.
void load_state_tensor(const std::string& optimizer, const std::map<std::string, Tensor>& state,
                       const std::string& key, const Tensor& like, Tensor& dst);

} // namespace splat::train
