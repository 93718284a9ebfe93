// The node at the end of every path: adds the incoming gradient into a leaf's .grad.
//
// Runs the leaf's gradient hooks first (each may replace the gradient), then accumulates, then
// the post-accumulate hooks, which see the complete gradient of this backward (the DDP reducer
// starts a bucket's all-reduce from them). It holds the leaf weakly: a leaf that died gets
// nothing.
#pragma once

#include "autograd/node.h"

namespace splat::autograd {

class AccumulateGrad final : public Node {
public:
  explicit AccumulateGrad(const Tensor& leaf);
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;

private:
  std::weak_ptr<TensorImpl> leaf_;
};

} // namespace splat::autograd
