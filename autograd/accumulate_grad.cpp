#include "autograd/accumulate_grad.h"

#include "autograd/tensor_math.h"

namespace splat::autograd {

AccumulateGrad::AccumulateGrad(const Tensor& leaf)
    : Node("AccumulateGrad", {}, {{leaf.shape(), leaf.dtype(), leaf.device()}}),
      leaf_(leaf.weak_impl()) {}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  std::shared_ptr<TensorImpl> impl = leaf_.lock();
  if (!impl) return {};
  const Tensor leaf(std::move(impl));
  AutogradMeta& m = leaf.autograd();
  Tensor g = std::move(grads[0]);
  for (const GradHook& hook : m.hooks) {
    Tensor replaced = hook(g);
    if (replaced.defined()) g = std::move(replaced);
  }
  // The first gradient becomes .grad: taken over when nothing else holds it, else copied, so
  // .grad never aliases a tensor of the graph. Later ones are added in place, so .grad keeps
  // its storage (optimizers and DDP buckets may hold it).
  if (!m.grad.defined())
    m.grad = is_reusable(g) ? std::move(g) : tensor_math().clone(g);
  else tensor_math().add_(m.grad, g);
  for (const PostAccumulateHook& hook : m.post_accumulate_hooks) hook(leaf);
  return {};
}

} // namespace splat::autograd
