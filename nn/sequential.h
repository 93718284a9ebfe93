// Sequential: layers applied in order, registered as children "0", "1", ... (PyTorch's names, so
// `stem.0.weight` or `downsample.1.weight` come out as in the spec's checkpoints).
#pragma once

#include "nn/layer.h"

#include <vector>

namespace splat::nn {

class Sequential : public Layer {
public:
  Sequential() : Layer("Sequential") {}
  explicit Sequential(std::vector<LayerPtr> layers);
  // Appends a layer under the next index; returns it.
  template <class L> std::shared_ptr<L> push_back(std::shared_ptr<L> layer) {
    layers_.push_back(register_module(std::to_string(layers_.size()), layer));
    return layer;
  }
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const LayerPtr& operator[](size_t i) const { return layers_.at(i); }

private:
  std::vector<LayerPtr> layers_;
};

} // namespace splat::nn
