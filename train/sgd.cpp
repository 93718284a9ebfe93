#include "train/sgd.h"

#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "ops/pointwise.h"

namespace splat::train {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions opts)
    : params_(std::move(params)), buffers_(params_.size()), opts_(opts) {
  for (const Tensor& p : params_)
    SPLAT_CHECK(p.requires_grad(), "Sgd: every parameter must require grad (got one of shape ",
                shape_str(p.shape()), " that does not)");
  SPLAT_CHECK(opts.lr >= 0 && opts.momentum >= 0 && opts.weight_decay >= 0,
              "Sgd: lr, momentum and weight_decay must be non-negative");
}

void Sgd::step() {
  autograd::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor d = opts_.weight_decay != 0 ? ops::add(g, ops::mul(p, opts_.weight_decay)) : g;
    if (opts_.momentum != 0) {
      if (!buffers_[i].defined()) {
        buffers_[i] = ops::clone(d);
      } else {
        ops::mul_(buffers_[i], opts_.momentum);
        ops::add_(buffers_[i], d);
      }
      d = buffers_[i];
    }
    ops::sub_(p, ops::mul(d, opts_.lr));
  }
}

void Sgd::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

} // namespace splat::train
