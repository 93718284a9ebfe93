// How ops attach to autograd: recording nodes (autograd/function.h) and the shared helpers of
// backward formulas.
#pragma once

#include "autograd/function.h"
#include "core/tensor.h"

#include <initializer_list>

namespace splat::ops {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

// autograd::record, after installing the engine's tensor arithmetic (autograd/tensor_math.h).
void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            autograd::BackwardFn fn, bool is_view = false);
void install_autograd_math();

// Writes `result` (computed out of place, with history) into `self` and moves result's history
// onto self: the in-place form of an op whose backward needs self's old value. Call
// check_inplace before computing result from clone(self).
Tensor& assign_inplace(Tensor& self, const Tensor& result);

// g summed over the dims that broadcasting added or expanded, so it has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

} // namespace splat::ops
