#include "train/optim/optimizer.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"

namespace splat::train {

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, double lr)
    : name_(std::move(name)), groups_(std::move(groups)), lr_(lr) {
  set_lr(lr);
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    SPLAT_CHECK(g.weight_decay >= 0 && g.lr_mult >= 0, name_, ": parameter group ", gi,
                " has weight_decay ", g.weight_decay, " and lr_mult ", g.lr_mult,
                " (both must be non-negative)");
    for (const Tensor& p : g.params)
      SPLAT_CHECK(p.requires_grad(), name_, ": every parameter must require grad (group ", gi,
                  " has one of shape ", shape_str(p.shape()), " that does not)");
  }
}

void Optimizer::set_lr(double lr) {
  SPLAT_CHECK(lr >= 0, name_, ": the learning rate must be non-negative, got ", lr);
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (ParamGroup& g : groups_)
    for (Tensor& p : g.params) p.set_grad(Tensor());
}

size_t Optimizer::num_params() const {
  size_t n = 0;
  for (const ParamGroup& g : groups_) n += g.params.size();
  return n;
}

const Tensor& Optimizer::param(size_t index) const {
  for (const ParamGroup& g : groups_) {
    if (index < g.params.size()) return g.params[index];
    index -= g.params.size();
  }
  throw Error(str(name_, ": no parameter ", index));
}

std::pair<size_t, std::string> split_state_key(const std::string& optimizer, const std::string& key,
                                               size_t num_params) {
  const size_t dot = key.find('.');
  const std::string index = key.substr(0, dot);
  SPLAT_CHECK(dot != std::string::npos && !index.empty() && index.size() < 10 &&
                  index.find_first_not_of("0123456789") == std::string::npos,
              optimizer, " state: '", key, "' is not '<parameter index>.<name>'");
  const size_t i = std::stoul(index);
  SPLAT_CHECK(i < num_params, optimizer, " state: '", key, "' names parameter ", i, " but there are ",
              num_params);
  return {i, key.substr(dot + 1)};
}

void load_state_tensor(const std::string& optimizer, const std::map<std::string, Tensor>& state,
                       const std::string& key, const Tensor& like, Tensor& dst) {
  const auto it = state.find(key);
  SPLAT_CHECK(it != state.end(), optimizer, " state: missing '", key, "'");
  SPLAT_CHECK(it->second.shape() == like.shape(), optimizer, " state: '", key, "' has shape ",
              shape_str(it->second.shape()), ", the parameter ", shape_str(like.shape()));
  autograd::NoGradGuard no_grad;
  const Tensor value = ops::to(ops::to(it->second, like.dtype()), like.device());
  if (dst.defined()) {
    ops::copy_(dst, value);
  } else {
    dst = ops::clone(value);
  }
}

} // namespace splat::train
