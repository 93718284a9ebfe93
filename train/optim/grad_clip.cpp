#include "train/optim/grad_clip.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"

#include <cmath>

namespace splat::train {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  SPLAT_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  autograd::NoGradGuard no_grad;
  double squares = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    // One host read per gradient: a sum of squares in the gradient's dtype, added up in double.
    squares += ops::to(ops::to(ops::sum(ops::mul(g, g)), DType::f64), Device::cpu()).item<double>();
  }
  const double norm = std::sqrt(squares);
  const double coef = max_norm / (norm + 1e-6);
  if (std::isfinite(norm) && coef < 1)
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (g.defined()) ops::mul_(g, coef);
    }
  return norm;
}

} // namespace splat::train
