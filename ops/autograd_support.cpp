#include "ops/autograd_support.h"

#include "autograd/tensor_math.h"
#include "ops/copy.h"
#include "ops/cpu/copy.h"
#include "ops/cuda/copy.h"
#include "ops/device_dispatch.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace splat::ops {

void install_autograd_math() {
  static const bool installed = [] {
    autograd::set_tensor_math({
        .add = [](const Tensor& a, const Tensor& b) { return add(a, b); },
        .add_ = [](Tensor& a, const Tensor& b) -> Tensor& { return add_(a, b); },
        .clone = [](const Tensor& t) { return clone(t); },
        .full = [](const Shape& s, double v, DType dt, Device dev) { return full(s, v, {dt, dev}); },
        .copy_ = [](Tensor& dst, const Tensor& src) -> Tensor& { return copy_(dst, src); },
        .to_device = [](const Tensor& t, Device d) { return to(t, d); },
    });
    return true;
  }();
  (void)installed;
}

void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            autograd::BackwardFn fn, bool is_view) {
  install_autograd_math();
  autograd::record(std::move(name), inputs, outputs, std::move(fn), is_view);
}

Tensor& assign_inplace(Tensor& self, const Tensor& result) {
  SPLAT_KERNEL(self.device(), copy, self, result);
  self.storage()->bump_version();
  autograd::rebase_history(self, result);
  return self;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  Dims dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  return reshape(sum(g, dims, /*keepdim=*/true), shape);
}

} // namespace splat::ops
