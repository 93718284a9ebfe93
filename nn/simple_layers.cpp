#include "nn/simple_layers.h"

#include "nn/init.h"
#include "ops/copy.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/pointwise.h"

#include <cmath>

namespace splat::nn {

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }
Tensor MaxPool2d::forward(const Tensor& x) { return ops::max_pool2d(x, options).values; }
Tensor AvgPool2d::forward(const Tensor& x) { return ops::avg_pool2d(x, options); }
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return ops::adaptive_avg_pool2d(x, output); }

Dropout::Dropout(double p_, Generator* gen) : Layer("Dropout"), p(p_), gen_(gen) {
  SPLAT_CHECK(p >= 0 && p < 1, "Dropout: p must lie in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return ops::dropout(x, p, is_training(), gen_); }

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) : Layer("Linear") {
  SPLAT_CHECK(in_features > 0 && out_features > 0, "Linear: features must be positive, got ",
              in_features, " -> ", out_features);
  weight = register_parameter("weight", ops::empty({out_features, in_features}));
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    bias = register_parameter("bias", ops::empty({out_features}));
    const double bound = 1 / std::sqrt(double(in_features));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight, bias); }

} // namespace splat::nn
