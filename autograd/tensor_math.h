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

// True when t is the only handle to its values (no other tensor shares its impl or storage,
// views included) and is a dense tensor spanning all of its storage: the engine may then sum
// into it, or keep it as a .grad, instead of allocating a copy.
inline bool is_reusable(const Tensor& t) {
  return t.weak_impl().use_count() == 1 && t.storage().use_count() == 1 && t.offset() == 0 &&
         t.is_contiguous() &&
         t.storage()->nbytes() == static_cast<size_t>(t.numel()) * t.itemsize();
}
// Throws when no op has recorded anything yet (so nothing can need the engine).
const TensorMath& tensor_math();

} // namespace splat::autograd
