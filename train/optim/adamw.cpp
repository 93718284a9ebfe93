#include "train/optim/adamw.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/pointwise.h"

#include <cmath>

namespace splat::train {

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions opts)
    : AdamW(std::vector<ParamGroup>{{std::move(params), opts.weight_decay, 1.0}}, opts) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions opts)
    : Optimizer("AdamW", std::move(groups), opts.lr), moments_(num_params()), betas_(opts.betas),
      eps_(opts.eps) {
  SPLAT_CHECK(betas_[0] >= 0 && betas_[0] < 1 && betas_[1] >= 0 && betas_[1] < 1,
              "AdamW: betas must be in [0, 1), got (", betas_[0], ", ", betas_[1], ")");
  SPLAT_CHECK(eps_ > 0, "AdamW: eps must be positive, got ", eps_);
}

void AdamW::step() {
  autograd::NoGradGuard no_grad;
  const auto [b1, b2] = betas_;
  for_each_with_grad([&](const ParamGroup& group, Tensor p, size_t i) {
    const Tensor g = p.grad();
    Moments& m = moments_[i];
    if (m.step == 0) {
      m.exp_avg = ops::zeros_like(p);
      m.exp_avg_sq = ops::zeros_like(p);
    }
    ++m.step;
    const double lr = this->lr() * group.lr_mult;
    if (group.weight_decay != 0) ops::mul_(p, 1 - lr * group.weight_decay);
    ops::mul_(m.exp_avg, b1);
    ops::add_(m.exp_avg, ops::mul(g, 1 - b1));
    ops::mul_(m.exp_avg_sq, b2);
    ops::add_(m.exp_avg_sq, ops::mul(ops::mul(g, g), 1 - b2));
    const double bias1 = 1 - std::pow(b1, static_cast<double>(m.step));
    const double bias2_sqrt = std::sqrt(1 - std::pow(b2, static_cast<double>(m.step)));
    const Tensor denom = ops::add(ops::div(ops::sqrt(m.exp_avg_sq), bias2_sqrt), eps_);
    ops::sub_(p, ops::mul(ops::div(m.exp_avg, denom), lr / bias1));
  });
}

std::map<std::string, Tensor> AdamW::state() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < moments_.size(); ++i) {
    const Moments& m = moments_[i];
    if (m.step == 0) continue;
    out.emplace(str(i, ".exp_avg"), m.exp_avg);
    out.emplace(str(i, ".exp_avg_sq"), m.exp_avg_sq);
    out.emplace(str(i, ".step"), ops::scalar_tensor(static_cast<double>(m.step), {.dtype = DType::i64}));
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, Tensor>& state) {
  std::vector<Moments> moments(moments_.size());
  for (const auto& [key, t] : state) {
    const auto [i, name] = split_state_key("AdamW", key, moments.size());
    Moments& m = moments[i];
    if (name == "exp_avg") {
      load_state_tensor("AdamW", state, key, param(i), m.exp_avg);
    } else if (name == "exp_avg_sq") {
      load_state_tensor("AdamW", state, key, param(i), m.exp_avg_sq);
    } else {
      SPLAT_CHECK(name == "step" && t.numel() == 1, "AdamW state: unexpected key '", key, "'");
      m.step = static_cast<int64_t>(ops::to(t, DType::f64).item<double>());
      SPLAT_CHECK(m.step > 0, "AdamW state: '", key, "' is ", m.step, ", not a step count");
    }
  }
  for (size_t i = 0; i < moments.size(); ++i)
    SPLAT_CHECK(moments[i].exp_avg.defined() == (moments[i].step > 0) &&
                    moments[i].exp_avg_sq.defined() == (moments[i].step > 0),
                "AdamW state: parameter ", i, " needs all of exp_avg, exp_avg_sq and step, or none");
  moments_ = std::move(moments);
}

} // namespace splat::train
