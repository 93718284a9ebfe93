#include "train/optim/sgd.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/pointwise.h"

namespace splat::train {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions opts)
    : Sgd(std::vector<ParamGroup>{{std::move(params), opts.weight_decay, 1.0}}, opts) {}

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions opts)
    : Optimizer("Sgd", std::move(groups), opts.lr), buffers_(num_params()),
      momentum_(opts.momentum), nesterov_(opts.nesterov) {
  SPLAT_CHECK(momentum_ >= 0, "Sgd: momentum must be non-negative, got ", momentum_);
  SPLAT_CHECK(!nesterov_ || momentum_ > 0, "Sgd: Nesterov momentum needs momentum > 0");
}

void Sgd::step() {
  autograd::NoGradGuard no_grad;
  for_each_with_grad([&](const ParamGroup& group, Tensor p, size_t i) {
    // Temporaries are summed into in place: each allocation of a parameter-sized tensor costs
    // as much as the pass that fills it.
    const Tensor g = p.grad();
    Tensor d = g;
    if (group.weight_decay != 0) {
      d = ops::mul(p, group.weight_decay);
      ops::add_(d, g);
    }
    if (momentum_ != 0) {
      Tensor& buf = buffers_[i];
      if (!buf.defined()) {
        buf = ops::clone(d);
      } else {
        ops::mul_(buf, momentum_);
        ops::add_(buf, d);
      }
      if (nesterov_) {
        Tensor step = ops::mul(buf, momentum_);
        d = ops::add_(step, d);
      } else {
        d = buf;
      }
    }
    ops::sub_(p, ops::mul(d, lr() * group.lr_mult));
  });
}

std::map<std::string, Tensor> Sgd::state() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < buffers_.size(); ++i)
    if (buffers_[i].defined()) out.emplace(str(i, ".momentum_buffer"), buffers_[i]);
  return out;
}

void Sgd::load_state(const std::map<std::string, Tensor>& state) {
  std::vector<Tensor> buffers(buffers_.size());
  for (const auto& [key, t] : state) {
    const auto [i, name] = split_state_key("Sgd", key, buffers.size());
    SPLAT_CHECK(name == "momentum_buffer", "Sgd state: unexpected key '", key, "'");
    load_state_tensor("Sgd", state, key, param(i), buffers[i]);
  }
  buffers_ = std::move(buffers);
}

} // namespace splat::train
