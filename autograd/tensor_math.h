// The few tensor operations the engine itself needs (summing gradients, ones for a scalar root,
// zeros for unused outputs, copies in gradcheck). They are kernels of the ops layer, which sits
// above autograd, so ops installs them (ops/autograd_support.h) before it records any node.
#pragma once

#include "core/tensor.h"

namespace splat::autograd {

struct TensorMath {
  Tensor (*add)(const Tensor&, const Tensor&);
  Tensor& (*add_)(Tensor&, const Tensor&);
  Tensor (*clone)(const Tensor&);
  Tensor (*full)(const Shape&, double value, DType, Device);
  Tensor& (*copy_)(Tensor& dst, const Tensor& src);
  Tensor (*to_device)(const Tensor&, Device);
};

void set_tensor_math(const TensorMath& math);
// Throws when no op has recorded anything yet (so nothing can need the engine).
const TensorMath& tensor_math();

} // namespace splat::autograd
