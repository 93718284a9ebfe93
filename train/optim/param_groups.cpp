#include "train/optim/param_groups.h"

#include "nn/norm.h"

namespace splat::train {

std::vector<ParamGroup> param_groups(const nn::Module& model, double weight_decay, DecayMults mults) {
  std::vector<ParamGroup> groups;
  auto add = [&](const Tensor& p, double decay) {
    for (ParamGroup& g : groups)
      if (g.weight_decay == decay) return g.params.push_back(p);
    groups.push_back({{p}, decay, 1.0});
  };
  // named_modules is depth first in registration order, and a module's own parameters are
  // exactly those whose names have no dot: together, named_parameters()' order.
  for (const auto& [prefix, m] : model.named_modules()) {
    const bool norm = dynamic_cast<const nn::BatchNorm2d*>(m) != nullptr ||
                      dynamic_cast<const nn::FrozenBatchNorm2d*>(m) != nullptr;
    for (const auto& [name, p] : m->named_parameters()) {
      if (name.find('.') != std::string::npos || !p.requires_grad()) continue;
      const double mult = norm ? mults.norm : name == "bias" ? mults.bias : 1.0;
      add(p, weight_decay * mult);
    }
  }
  return groups;
}

} // namespace splat::train
