// AdamW, PyTorch's torch.optim.AdamW (amsgrad off): decoupled weight decay, bias-corrected moments.
//   t += 1;  p *= 1 - lr * weight_decay;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// with lr the base rate times the group's lr_mult and t counted per parameter (a parameter
// without a gradient this step keeps its state and count).
#pragma once

#include "train/optim/optimizer.h"

#include <array>

namespace splat::train {

struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2; // the single group's, for the first constructor
};

class AdamW : public Optimizer {
public:
  AdamW(std::vector<Tensor> params, AdamWOptions opts);
  // Groups with their own weight decay and lr multiplier (opts.weight_decay is not used).
  AdamW(std::vector<ParamGroup> groups, AdamWOptions opts);
  void step() override;
  // "<i>.exp_avg", "<i>.exp_avg_sq" and "<i>.step" (0-d i64) of every updated parameter.
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;

private:
  struct Moments {
    Tensor exp_avg, exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<Moments> moments_;
  std::array<double, 2> betas_;
  double eps_;
};

} // namespace splat::train
