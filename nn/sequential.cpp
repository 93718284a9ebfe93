#include "nn/sequential.h"

namespace splat::nn {

Sequential::Sequential(std::vector<LayerPtr> layers) : Layer("Sequential") {
  for (auto& l : layers) push_back(std::move(l));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& l : layers_) y = l->forward(y);
  return y;
}

} // namespace splat::nn
