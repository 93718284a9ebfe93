// Layer: a module with one input and one output, the kind Sequential chains. Modules with other
// signatures (the split-attention block's helpers, detector heads) derive from Module directly
// and declare their own forward.
#pragma once

#include "nn/module.h"

namespace splat::nn {

class Layer : public Module {
public:
  using Module::Module;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};
using LayerPtr = std::shared_ptr<Layer>;

} // namespace splat::nn
