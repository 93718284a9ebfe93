// Batch norm: argument checks, device dispatch, and batch_norm's autograd node, composed from the
// building blocks of ops/norm.h (statistics, normalisation, backward sums, backward elementwise).
#include "ops/norm.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/norm.h"
#include "ops/cuda/norm.h"
#include "ops/device_dispatch.h"
#include "ops/norm_math.h"
#include "ops/pointwise.h"

namespace splat::ops {
namespace {

void check_input(std::string_view op, const Tensor& x) {
  SPLAT_CHECK(x.defined(), op, ": x is an undefined tensor");
  SPLAT_CHECK(x.dim() >= 2, op, ": expected x of shape (N, C) or (N, C, H, W), got ",
              shape_str(x.shape()));
  SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(),
              " (batch norm needs f32 or f64)");
}

// An optional per-channel tensor: undefined, or (C,) with x's dtype and device.
void check_channel_tensor(std::string_view op, const char* name, const Tensor& t, const Tensor& x) {
  if (!t.defined()) return;
  SPLAT_CHECK(t.dim() == 1 && t.size(0) == x.size(1), op, ": ", name, " has shape ",
              shape_str(t.shape()), " but x ", shape_str(x.shape()), " has ", x.size(1),
              " channels (expected [", x.size(1), "])");
  SPLAT_CHECK(t.dtype() == x.dtype(), op, ": ", name, " has dtype ", t.dtype(), " but x has ",
              x.dtype());
  SPLAT_CHECK(t.device() == x.device(), op, ": ", name, " is on ", t.device(), " but x is on ",
              x.device());
}

struct Named {
  const char* name;
  const Tensor& t;
};
void check_channel_tensors(std::string_view op, const Tensor& x, std::initializer_list<Named> ts) {
  for (const Named& n : ts) check_channel_tensor(op, n.name, n.t, x);
}

// dy: defined and like x.
void check_dy(std::string_view op, const Tensor& dy, const Tensor& x) {
  SPLAT_CHECK(dy.defined() && dy.shape() == x.shape() && dy.dtype() == x.dtype() &&
                  dy.device() == x.device(),
              op, ": dy ", dy.defined() ? shape_str(dy.shape()) : "undefined", " must match x ",
              shape_str(x.shape()), " in shape, dtype and device");
}

Tensor channel_tensor(const Tensor& t) { return t.defined() ? contiguous(t.detach()) : Tensor(); }

BatchStats empty_stats(Shape shape, const Tensor& like) {
  const TensorOptions o{like.dtype(), like.device()};
  return {empty(shape, o), empty(shape, o), empty(shape, o)};
}

BatchNormGradSums grad_sums(const Tensor& dy, const Tensor& x, const Tensor& mean) {
  const TensorOptions o{x.dtype(), x.device()};
  BatchNormGradSums s{empty({x.size(1)}, o), empty({x.size(1)}, o)};
  SPLAT_KERNEL(x.device(), batch_norm_backward_reduce, s, dy, x, mean);
  return s;
}

Tensor normalise(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                 const Tensor& bias, Activation act) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), batch_norm_elemt, y, x, mean, invstd, weight, bias, act);
  return y;
}

} // namespace

BatchStats batch_norm_stats(const Tensor& x_in) {
  check_input("batch_norm_stats", x_in);
  const Tensor x = contiguous(x_in.detach());
  const BatchStats stats = empty_stats({x.size(1)}, x);
  SPLAT_KERNEL(x.device(), batch_norm_stats, stats, x);
  return stats;
}

BatchStats batch_norm_merge_stats(const BatchStats& sets) {
  constexpr std::string_view op = "batch_norm_merge_stats";
  check_same_device(op, {&sets.count, &sets.mean, &sets.m2});
  SPLAT_CHECK(sets.mean.dim() == 2 && sets.count.shape() == sets.mean.shape() &&
                  sets.m2.shape() == sets.mean.shape(),
              op, ": expected count, mean and m2 of one shape (S, C), got ",
              shape_str(sets.count.shape()), ", ", shape_str(sets.mean.shape()), " and ",
              shape_str(sets.m2.shape()));
  SPLAT_CHECK(is_floating(sets.mean.dtype()), op, ": unsupported dtype ", sets.mean.dtype());
  check_same_dtype(op, sets.count, sets.mean);
  check_same_dtype(op, sets.m2, sets.mean);
  const BatchStats in{contiguous(sets.count.detach()), contiguous(sets.mean.detach()),
                      contiguous(sets.m2.detach())};
  const BatchStats out = empty_stats({in.mean.size(1)}, in.mean);
  SPLAT_KERNEL(in.mean.device(), batch_norm_merge_stats, out, in);
  return out;
}

Tensor batch_norm_invstd(const BatchStats& stats, double eps) {
  NoGradGuard no_grad;
  return rsqrt(add(div(stats.m2, stats.count), eps));
}

void batch_norm_update_running_stats(const Tensor& running_mean, const Tensor& running_var,
                                     const BatchStats& stats, double momentum) {
  NoGradGuard no_grad;
  if (running_mean.defined()) {
    Tensor rm = running_mean;
    copy_(rm, add(mul(running_mean, 1 - momentum), mul(stats.mean, momentum)));
  }
  if (running_var.defined()) {
    Tensor rv = running_var;
    const Tensor unbiased = div(stats.m2, sub(stats.count, 1.0));
    copy_(rv, add(mul(running_var, 1 - momentum), mul(unbiased, momentum)));
  }
}

Tensor batch_norm_elemt(const Tensor& x_in, const Tensor& mean, const Tensor& invstd,
                        const Tensor& weight, const Tensor& bias, Activation act) {
  constexpr std::string_view op = "batch_norm_elemt";
  check_input(op, x_in);
  check_channel_tensors(op, x_in,
                        {{"mean", mean}, {"invstd", invstd}, {"weight", weight}, {"bias", bias}});
  SPLAT_CHECK(mean.defined() && invstd.defined(), op, ": mean and invstd are required");
  return normalise(contiguous(x_in.detach()), channel_tensor(mean), channel_tensor(invstd),
                   channel_tensor(weight), channel_tensor(bias), act);
}

BatchNormGradSums batch_norm_backward_reduce(const Tensor& dy, const Tensor& x,
                                             const Tensor& mean) {
  constexpr std::string_view op = "batch_norm_backward_reduce";
  check_input(op, x);
  check_dy(op, dy, x);
  SPLAT_CHECK(mean.defined(), op, ": mean is required");
  check_channel_tensor(op, "mean", mean, x);
  return grad_sums(contiguous(dy.detach()), contiguous(x.detach()), channel_tensor(mean));
}

Tensor batch_norm_backward_elemt(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                 const Tensor& invstd, const Tensor& weight,
                                 const BatchNormGradSums& sums, double count) {
  constexpr std::string_view op = "batch_norm_backward_elemt";
  check_input(op, x);
  check_dy(op, dy, x);
  SPLAT_CHECK(mean.defined() && invstd.defined() && sums.sum_dy.defined() &&
                  sums.sum_dy_xmu.defined(),
              op, ": mean, invstd and both sums are required");
  check_channel_tensors(op, x,
                        {{"mean", mean},
                         {"invstd", invstd},
                         {"weight", weight},
                         {"sum_dy", sums.sum_dy},
                         {"sum_dy_xmu", sums.sum_dy_xmu}});
  SPLAT_CHECK(count > 0, op, ": count must be positive, got ", count);
  const Tensor xc = contiguous(x.detach());
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), batch_norm_backward_elemt, dx, contiguous(dy.detach()), xc,
               channel_tensor(mean), channel_tensor(invstd), channel_tensor(weight),
               BatchNormGradSums{channel_tensor(sums.sum_dy), channel_tensor(sums.sum_dy_xmu)},
               count);
  return dx;
}

Tensor batch_norm(const Tensor& x_in, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  constexpr std::string_view op = "batch_norm";
  check_input(op, x_in);
  check_channel_tensors(op, x_in,
                        {{"running_mean", running_mean},
                         {"running_var", running_var},
                         {"weight", weight},
                         {"bias", bias}});
  const Tensor x = contiguous(x_in.detach());
  const NclShape s = ncl_shape(x);
  Tensor mean, invstd;
  if (training) {
    SPLAT_CHECK(s.per_channel() > 1, op,
                ": expected more than 1 value per channel when training, "
                "got x of shape ",
                shape_str(x.shape()), " (", s.per_channel(),
                " per channel); use a batch of 2 or more, or eval mode");
    const BatchStats stats = batch_norm_stats(x);
    mean = stats.mean;
    invstd = batch_norm_invstd(stats, eps);
    batch_norm_update_running_stats(running_mean, running_var, stats, momentum);
  } else {
    SPLAT_CHECK(running_mean.defined() && running_var.defined(), op,
                ": eval mode needs running_mean and running_var");
    // Copies: later training steps update the running buffers in place.
    mean = clone(running_mean.detach());
    NoGradGuard no_grad;
    invstd = rsqrt(add(running_var, eps));
  }
  const Tensor w = channel_tensor(weight), b = channel_tensor(bias);
  Tensor y = normalise(x, mean, invstd, w, b, Activation::none);
  if (autograd::needs_grad({x_in, weight, bias})) {
    record(std::string(op), {x_in, weight, bias}, {y},
           [training, count = double(s.per_channel()), sx = SavedTensor(x), sw = SavedTensor(w),
            mean, invstd](const Grads& g, const Needs& needs) {
             const Tensor dy = contiguous(g[0]);
             const Tensor& xs = sx.get();
             const Tensor w = sw.get();
             // Training's dx goes through the batch statistics and needs both sums; eval's dx
             // is the affine map dy * invstd * weight.
             BatchNormGradSums sums;
             if ((needs[0] && training) || needs[1] || needs[2]) sums = grad_sums(dy, xs, mean);
             Grads out(3);
             if (needs[0]) {
               if (training) {
                 out[0] = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
                 SPLAT_KERNEL(xs.device(), batch_norm_backward_elemt, out[0], dy, xs, mean, invstd,
                              w, sums, count);
               } else {
                 out[0] = normalise(dy, zeros_like(mean), invstd, w, Tensor(), Activation::none);
               }
             }
             if (needs[1]) out[1] = mul(sums.sum_dy_xmu, invstd);
             if (needs[2]) out[2] = sums.sum_dy;
             return out;
           });
  }
  return y;
}

Tensor batch_norm_relu_inference(const Tensor& x, const Tensor& running_mean,
                                 const Tensor& running_var, const Tensor& weight,
                                 const Tensor& bias, double eps) {
  constexpr std::string_view op = "batch_norm_relu_inference";
  check_input(op, x);
  SPLAT_CHECK(!autograd::needs_grad({x, weight, bias}), op,
              ": not differentiable, but an input requires grad while grad mode is on; use "
              "relu(batch_norm(...)) for training, or a NoGradGuard for inference");
  SPLAT_CHECK(running_mean.defined() && running_var.defined(), op,
              ": running_mean and running_var are required");
  check_channel_tensors(op, x,
                        {{"running_mean", running_mean},
                         {"running_var", running_var},
                         {"weight", weight},
                         {"bias", bias}});
  NoGradGuard no_grad;
  return normalise(contiguous(x), contiguous(running_mean), rsqrt(add(running_var, eps)),
                   channel_tensor(weight), channel_tensor(bias), Activation::relu);
}

} // namespace splat::ops
