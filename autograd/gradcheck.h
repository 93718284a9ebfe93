// Numerical gradient checking in float64.
//
// Compares the analytic Jacobian (one backward per output element, with a one-hot gradient)
// with central differences (f(x + eps) - f(x - eps)) / 2 eps, element by element, for every
// input that requires grad. Inputs may be non-contiguous and on any device.
#pragma once

#include "core/tensor.h"

#include <functional>
#include <string>
#include <vector>

namespace splat::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  // On failure: the worst element, e.g. "input 1 element 3, output 0 element 5: analytic
  // 0.25, numeric 0.5 (7 of 24 entries outside tolerance)".
  std::string message;
};

using MultiFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using SingleFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Inputs that require grad must be f64; the others are passed through unchanged. Every floating
// output is checked.
GradcheckResult gradcheck(const MultiFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts = {});
GradcheckResult gradcheck(const SingleFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts = {});

} // namespace splat::autograd
