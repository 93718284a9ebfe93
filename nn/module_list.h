// ModuleList: modules held side by side under the names "0", "1", ... (PyTorch's nn.ModuleList),
// for heads that apply their layers one per input (the FPN's lateral convs, one per level) or
// in an order of their own. Unlike Sequential it has no forward. ModuleListOf<M> holds modules
// of any class derived from M (the cascade's per-stage box heads); ModuleList holds Layers.
#pragma once

#include "nn/layer.h"

#include <vector>

namespace splat::nn {

template <class M> class ModuleListOf : public Module {
public:
  ModuleListOf() : Module("ModuleList") {}
  template <class L> std::shared_ptr<L> push_back(std::shared_ptr<L> m) {
    items_.push_back(register_module(std::to_string(items_.size()), m));
    return m;
  }
  size_t size() const { return items_.size(); }
  const std::shared_ptr<M>& operator[](size_t i) const { return items_.at(i); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

private:
  std::vector<std::shared_ptr<M>> items_;
};

using ModuleList = ModuleListOf<Layer>;

} // namespace splat::nn
