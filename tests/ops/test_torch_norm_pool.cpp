// PyTorch parity of batch norm (train with running-stat updates, eval, BN + ReLU inference) and
// of every pooling mode (fixtures from scripts/fixtures/torch_norm_pool.py; the harness is
// tests/ops/torch_parity.h).
#include "ops/copy.h"
#include "ops/norm.h"
#include "ops/pool.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_torch_parity;
using splat::test::one;
using splat::test::ParityCases;
using In = std::vector<Tensor>;

namespace {

// Inputs x, running_mean, running_var[, weight, bias] as the fixture records them; the updated
// running buffers are returned after the output, as PyTorch's in-place update leaves them.
splat::test::ParityFn bn(bool training) {
  return [training](const In& in) {
    const Tensor rm = clone(in[1]), rv = clone(in[2]);
    const Tensor w = in.size() > 3 ? in[3] : Tensor(), b = in.size() > 4 ? in[4] : Tensor();
    const Tensor y = batch_norm(in[0], rm, rv, w, b, training, 0.2, 1e-4);
    return std::vector<Tensor>{y, rm, rv};
  };
}

splat::test::ParityFn max_pool(MaxPool2dOptions o) {
  return [o](const In& in) {
    const auto r = max_pool2d(in[0], o);
    return std::vector<Tensor>{r.values, r.indices};
  };
}

splat::test::ParityFn avg_pool(AvgPool2dOptions o) {
  return one([o](const In& in) { return avg_pool2d(in[0], o); });
}

splat::test::ParityFn adaptive(Size2 out) {
  return one([out](const In& in) { return adaptive_avg_pool2d(in[0], out); });
}

const ParityCases& cases() {
  static const ParityCases c = {
      {"bn_train_4d", bn(true)},
      {"bn_train_2d", bn(true)},
      {"bn_train_no_affine", bn(true)},
      {"bn_eval_4d", bn(false)},
      {"bn_eval_2d", bn(false)},
      {"bn_relu_inference", one([](const In& in) {
         return batch_norm_relu_inference(in[0], in[1], in[2], in[3], in[4], 1e-4);
       })},
      {"max_k3s2p1", max_pool({.kernel = 3, .stride = 2, .padding = 1})},
      {"max_k2s2_ceil", max_pool({.kernel = 2, .stride = 2, .ceil_mode = true})},
      {"max_k3s3p1_ceil", max_pool({.kernel = 3, .stride = 3, .padding = 1, .ceil_mode = true})},
      {"max_dilated",
       max_pool({.kernel = {3, 2}, .stride = Size2{1, 2}, .padding = {1, 0}, .dilation = {2, 1}})},
      {"avg_avd", avg_pool({.kernel = 3, .stride = 2, .padding = 1})},
      {"avg_shortcut",
       avg_pool({.kernel = 2, .stride = 2, .ceil_mode = true, .count_include_pad = false})},
      {"avg_ceil_include_pad",
       avg_pool({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true})},
      {"avg_ceil_exclude_pad", avg_pool({.kernel = 3,
                                         .stride = 2,
                                         .padding = 1,
                                         .ceil_mode = true,
                                         .count_include_pad = false})},
      {"avg_k3s3p1_ceil", avg_pool({.kernel = 3, .stride = 3, .padding = 1, .ceil_mode = true})},
      {"avg_rect_exclude_pad", avg_pool({.kernel = {3, 2},
                                         .stride = Size2{1, 2},
                                         .padding = {1, 1},
                                         .count_include_pad = false})},
      {"adaptive_7x5_to_3x2", adaptive({3, 2})},
      {"adaptive_5x7_to_4x3", adaptive({4, 3})},
      {"adaptive_3x4_to_5x6", adaptive({5, 6})},
      {"global_avg", one([](const In& in) { return global_avg_pool2d(in[0]); })},
  };
  return c;
}

} // namespace

TEST_CASE("batch norm and pooling match PyTorch (forward, gradients, running stats)") {
  check_torch_parity("torch_norm_pool.safetensors", cases(), 1e-6, 1e-7);
}
