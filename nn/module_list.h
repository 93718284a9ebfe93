// ModuleList: layers held side by side under the names "0", "1", ... (PyTorch's nn.ModuleList),
// for heads that apply their layers one per input (the FPN's lateral convs, one per level) or
// in an order of their own. Unlike Sequential it has no forward.
#pragma once

#include "nn/layer.h"

#include <vector>

namespace splat::nn {

class ModuleList : public Module {
public:
  ModuleList() : Module("ModuleList") {}
  template <class L> std::shared_ptr<L> push_back(std::shared_ptr<L> layer) {
    layers_.push_back(register_module(std::to_string(layers_.size()), layer));
    return layer;
  }
  size_t size() const { return layers_.size(); }
  const LayerPtr& operator[](size_t i) const { return layers_.at(i); }
  auto begin() const { return layers_.begin(); }
  auto end() const { return layers_.end(); }

private:
  std::vector<LayerPtr> layers_;
};

} // namespace splat::nn
