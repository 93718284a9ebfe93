// SGD with momentum and weight decay, PyTorch's torch.optim.SGD (dampening 0):
//   g = grad + weight_decay * p;  buf = g on the first step, else momentum * buf + g;
//   d = g + momentum * buf (nesterov) or buf;  p -= lr * lr_mult * d.
// Parameters without a gradient this step are skipped (their buffers untouched). Updates run on
// the parameters' devices without recording gradients.
#pragma once

#include "train/optim/optimizer.h"

namespace splat::train {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 1e-4; // the single group's, for the first constructor
  bool nesterov = false;
};

class Sgd : public Optimizer {
public:
  // One group: every parameter with opts.weight_decay.
  Sgd(std::vector<Tensor> params, SgdOptions opts);
  // Groups with their own weight decay and lr multiplier (opts.weight_decay is not used).
  Sgd(std::vector<ParamGroup> groups, SgdOptions opts);
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;

private:
  std::vector<Tensor> buffers_; // momentum buffers, undefined before a parameter's first update
  double momentum_;
  bool nesterov_;
};

} // namespace splat::train
