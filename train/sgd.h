// SGD with momentum and weight decay, PyTorch's torch.optim.SGD (dampening 0, no Nesterov):
//   g = grad + weight_decay * p;  buf = g on the first step, else momentum * buf + g;  p -= lr * buf.
// Parameters without a gradient this step are skipped (their buffers untouched). Updates run on
// the parameters' devices without recording gradients.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::train {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 1e-4;
};

class Sgd {
public:
  Sgd(std::vector<Tensor> params, SgdOptions opts);
  void step();
  void zero_grad();
  double lr() const { return opts_.lr; }
  void set_lr(double lr) { opts_.lr = lr; }
  // The momentum buffers (undefined before a parameter's first update), for checkpoints.
  const std::vector<Tensor>& momentum_buffers() const { return buffers_; }

private:
  std::vector<Tensor> params_, buffers_;
  SgdOptions opts_;
};

} // namespace splat::train
