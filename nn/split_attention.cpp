#include "nn/split_attention.h"

#include "ops/pointwise.h"
#include "ops/split_attention.h"

#include <algorithm>

namespace splat::nn {

SplitAttentionConv2d::SplitAttentionConv2d(int64_t in_channels, int64_t channels,
                                           const SplitAttentionOptions& opts)
    : Layer("SplitAttentionConv2d"), options(opts) {
  const int64_t r = opts.radix, k = opts.cardinality;
  SPLAT_CHECK(r >= 1 && k >= 1 && channels % k == 0 && in_channels % (k * r) == 0,
              "SplitAttentionConv2d: radix ", r, " and cardinality ", k, " must divide ", in_channels,
              " input channels (by radix * cardinality) and ", channels, " channels (by cardinality)");
  const int64_t inner = std::max<int64_t>(in_channels * r / opts.reduction_factor, 32);
  conv = register_module("conv", std::make_shared<Conv2d>(
      in_channels, channels * r, 3,
      ops::Conv2dOptions{.stride = opts.stride, .padding = opts.dilation, .dilation = opts.dilation, .groups = k * r},
      /*bias=*/false));
  bn0 = register_module("bn0", make_norm(opts.norm, channels * r));
  fc1 = register_module("fc1", std::make_shared<Conv2d>(channels, inner, 1, ops::Conv2dOptions{.groups = k}));
  bn1 = register_module("bn1", make_norm(opts.norm, inner));
  fc2 = register_module("fc2", std::make_shared<Conv2d>(inner, channels * r, 1, ops::Conv2dOptions{.groups = k}));
}

Tensor SplitAttentionConv2d::forward(const Tensor& x) {
  const Tensor splits = norm_relu(*bn0, conv->forward(x));  // (N, R*C, H, W), radix-major
  const Tensor pooled = ops::split_attention_pool(splits, options.radix);  // (N, C, 1, 1)
  const Tensor logits = fc2->forward(norm_relu(*bn1, fc1->forward(pooled)));
  return ops::split_attention(splits, logits, options.radix, options.cardinality);
}

} // namespace splat::nn
