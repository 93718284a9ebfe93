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

// Runs write(), which replaces every value of t by values that depend on no tensor (fill_,
// uniform_, normal_), bumps t's version and cuts t's gradient path. Returns t.
template <class Write> Tensor& overwrite(std::string_view op, Tensor& t, Write&& write) {
  const bool grad = autograd::needs_grad({t});
  if (grad) autograd::check_inplace(op, t);
  write();
  t.storage()->bump_version();
  if (grad) record(std::string(op), {t}, {t}, [](const Grads&, const Needs&) { return Grads{Tensor()}; });
  return t;
}

// g summed over the dims that broadcasting added or expanded, so it has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

} // namespace splat::ops
