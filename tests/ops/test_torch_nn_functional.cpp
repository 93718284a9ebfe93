// PyTorch parity of softmax/log_softmax, the losses, linear and the resampling ops (fixtures from
// scripts/fixtures/torch_nn_functional.py; the harness is tests/ops/torch_parity.h). mmdet's
// weight / avg_factor cases are written out in the script with weight_reduce_loss's formula.
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/resize.h"
#include "ops/softmax.h"
#include "tests/ops/torch_parity.h"

using namespace splat;
using namespace splat::ops;
using splat::test::check_torch_parity;
using splat::test::one;
using splat::test::ParityCases;
using In = std::vector<Tensor>;

namespace {

LossOptions reduce(Reduction r) { return {.reduction = r}; }

// The none / sum / mean cases of a pointwise loss.
template <class Loss> void add_reductions(ParityCases& c, const std::string& name, Loss loss) {
  c[name + "_none"] =
      one([loss](const In& in) { return loss(in[0], in[1], reduce(Reduction::none)); });
  c[name + "_sum"] =
      one([loss](const In& in) { return loss(in[0], in[1], reduce(Reduction::sum)); });
  c[name + "_mean"] =
      one([loss](const In& in) { return loss(in[0], in[1], reduce(Reduction::mean)); });
}

const ParityCases& cases() {
  static const ParityCases c = [] {
    ParityCases c = {
        {"softmax_dim1", one([](const In& in) { return softmax(in[0], 1); })},
        {"softmax_last", one([](const In& in) { return softmax(in[0], -1); })},
        {"softmax_f32", one([](const In& in) { return softmax(in[0], -1); })},
        {"log_softmax_dim0", one([](const In& in) { return log_softmax(in[0], 0); })},
        {"log_softmax_last", one([](const In& in) { return log_softmax(in[0], -1); })},
        {"cross_entropy_ignore2", one([](const In& in) { return cross_entropy(in[0], in[1], 2); })},
        {"cross_entropy_weight_avg", one([](const In& in) {
           return cross_entropy(in[0], in[1], -100, {.weight = in[2], .avg_factor = 5.0});
         })},
        {"bce_weight_mean", one([](const In& in) {
           return binary_cross_entropy_with_logits(in[0], in[1], {.weight = in[2]});
         })},
        {"bce_weight_avg", one([](const In& in) {
           return binary_cross_entropy_with_logits(in[0], in[1],
                                                   {.weight = in[2], .avg_factor = 10.0});
         })},
        {"smooth_l1_beta_ninth",
         one([](const In& in) { return smooth_l1_loss(in[0], in[1], 1.0 / 9); })},
        {"smooth_l1_beta0", one([](const In& in) { return smooth_l1_loss(in[0], in[1], 0.0); })},
        {"l1_weight_avg", one([](const In& in) {
           return l1_loss(in[0], in[1], {.weight = in[2], .avg_factor = 3.0});
         })},
        {"mse_weight_mean",
         one([](const In& in) { return mse_loss(in[0], in[1], {.weight = in[2]}); })},
        {"linear", one([](const In& in) { return linear(in[0], in[1], in[2]); })},
        {"linear_nobias", one([](const In& in) { return linear(in[0], in[1]); })},
        {"nearest_scale2", one([](const In& in) { return upsample_nearest2d(in[0], 2); })},
        {"nearest_size_up", one([](const In& in) {
           return upsample_nearest2d(in[0], {7, 13});
         })},
        {"nearest_size_down", one([](const In& in) {
           return upsample_nearest2d(in[0], {3, 4});
         })},
        {"bilinear_up", one([](const In& in) {
           return interpolate_bilinear2d(in[0], {7, 11});
         })},
        {"bilinear_down", one([](const In& in) {
           return interpolate_bilinear2d(in[0], {3, 2});
         })},
        {"bilinear_align_corners", one([](const In& in) {
           return interpolate_bilinear2d(in[0], {6, 7}, true);
         })},
    };
    add_reductions(c, "cross_entropy", [](const Tensor& x, const Tensor& t, const LossOptions& o) {
      return cross_entropy(x, t, -100, o);
    });
    add_reductions(c, "bce", [](const Tensor& x, const Tensor& t, const LossOptions& o) {
      return binary_cross_entropy_with_logits(x, t, o);
    });
    add_reductions(c, "l1", [](const Tensor& x, const Tensor& t, const LossOptions& o) {
      return l1_loss(x, t, o);
    });
    add_reductions(c, "smooth_l1", [](const Tensor& x, const Tensor& t, const LossOptions& o) {
      return smooth_l1_loss(x, t, 1.0, o);
    });
    add_reductions(c, "mse", [](const Tensor& x, const Tensor& t, const LossOptions& o) {
      return mse_loss(x, t, o);
    });
    return c;
  }();
  return c;
}

} // namespace

TEST_CASE("torch parity: softmax, losses, linear, upsampling and interpolation") {
  check_torch_parity("torch_nn_functional.safetensors", cases(), 1e-5, 1e-6);
}
