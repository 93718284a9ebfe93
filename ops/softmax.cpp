#include "ops/softmax.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/softmax.h"
#include "ops/cuda/softmax.h"
#include "ops/device_dispatch.h"

#include <string_view>

namespace splat::ops {
namespace {

Tensor softmax_op(std::string_view op, cpu::SoftmaxKind kind, const Tensor& x, int64_t dim) {
  check_same_device(op, {&x});
  SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(),
              " (needs f32 or f64; convert with to(f32))");
  // A 0-d tensor is one row of one element; dim 0 and -1 both name it, as in PyTorch.
  const int64_t d = x.dim() == 0 ? (wrap_dim(op, dim, 1), 0) : wrap_dim(op, dim, x.dim());
  const Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), softmax, kind, y, xc, d);
  if (autograd::needs_grad({x})) {
    // Backward reads only the output, so x need not be kept alive.
    record(std::string(op), {x}, {y}, [kind, d, sy = SavedTensor(y)](const Grads& g, const Needs&) {
      const Tensor& yv = sy.get();
      const Tensor dy = contiguous(g[0]);
      Tensor dx = Tensor::empty(yv.shape(), yv.dtype(), yv.device());
      SPLAT_KERNEL(yv.device(), softmax_backward, kind, dx, dy, yv, d);
      return Grads{dx};
    });
  }
  return y;
}

} // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return softmax_op("softmax", cpu::SoftmaxKind::softmax, x, dim);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_op("log_softmax", cpu::SoftmaxKind::log_softmax, x, dim);
}

} // namespace splat::ops
