// Shared by the split-attention tests: the configurations tested, the fused block (the ops under
// test) and the oracle, the spec's definition (section 1.1) written with unfused ops.
#pragma once

#include "autograd/engine.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/split_attention.h"
#include "ops/view.h"

#include <vector>

namespace splat::test {

struct SplitAttentionConfig {
  int64_t radix, cardinality, n, c, h, w;
};

// radix 1/2/4 x cardinality 1/2, batch 1 and 3, odd spatial sizes; `channels_per_group`
// (C/K) and the plane size kept small for the emulated device's gradchecks.
inline std::vector<SplitAttentionConfig> split_attention_configs(int64_t channels_per_group = 2,
                                                                 int64_t max_width = 5) {
  std::vector<SplitAttentionConfig> out;
  for (int64_t radix : {1, 2, 4})
    for (int64_t card : {1, 2})
      out.push_back({radix, card, radix == 2 ? int64_t{1} : int64_t{3}, channels_per_group * card,
                     3, radix == 4 ? 1 : max_width});
  return out;
}

// The block's two outputs from the fused ops: (split_attention, split_attention_pool).
inline std::vector<Tensor> fused_block(const Tensor& x, const Tensor& z,
                                       const SplitAttentionConfig& c) {
  return {ops::split_attention(x, z, c.radix, c.cardinality),
          ops::split_attention_pool(x, c.radix)};
}

// The same with view/sum/mean/softmax/transpose/mul: the r-softmax views z as (N, K, R, C/K),
// softmaxes over R and reorders to (N, R, K, C/K).
inline std::vector<Tensor> unfused_block(const Tensor& x, const Tensor& z,
                                         const SplitAttentionConfig& c) {
  const int64_t n = x.shape()[0], ch = x.shape()[1] / c.radix, h = x.shape()[2], w = x.shape()[3];
  const Tensor splits = ops::reshape(x, {n, c.radix, ch, h, w});
  const Tensor pooled = ops::mean(ops::sum(splits, {1}), {2, 3}, true);
  Tensor a;
  if (c.radix == 1) {
    a = ops::sigmoid(ops::reshape(z, {n, ch}));
  } else {
    const Tensor g = ops::reshape(z, {n, c.cardinality, c.radix, ch / c.cardinality});
    a = ops::reshape(ops::transpose(ops::softmax(g, 2), 1, 2), {n, c.radix * ch});
  }
  const Tensor weighted = ops::mul(splits, ops::reshape(a, {n, c.radix, ch, 1, 1}));
  return {ops::sum(weighted, {1}), pooled};
}

// Back-propagates the same pseudo-random gradients (from `seed`) from every output.
inline void backward_all(const std::vector<Tensor>& outs, uint64_t seed) {
  std::vector<Tensor> grads;
  Generator gen(seed);
  for (const Tensor& o : outs)
    grads.push_back(ops::randn(o.shape(), {o.dtype(), o.device()}, &gen));
  autograd::backward(outs, grads);
}

} // namespace splat::test
