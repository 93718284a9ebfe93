#include "ops/sync_batch_norm.h"

#include "ops/autograd_support.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/norm.h"
#include "ops/pointwise.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

// This rank's statistics, also for an empty batch (count 0), where no kernel has anything to read.
BatchStats local_stats(const Tensor& x) {
  if (x.numel() > 0) return batch_norm_stats(x);
  const Tensor z = zeros({x.size(1)}, {.dtype = x.dtype(), .device = x.device()});
  return {z, z, z};
}

BatchNormGradSums local_sums(const Tensor& dy, const Tensor& x, const Tensor& mean) {
  if (x.numel() > 0) return batch_norm_backward_reduce(dy, x, mean);
  const Tensor z = zeros_like(mean);
  return {z, z};
}

} // namespace

Tensor sync_batch_norm(const Tensor& x_in, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training, double momentum,
                       double eps, Communicator* comm) {
  if (!training || comm == nullptr || comm->world_size() == 1)
    return batch_norm(x_in, running_mean, running_var, weight, bias, training, momentum, eps);
  constexpr std::string_view op = "sync_batch_norm";
  SPLAT_CHECK(x_in.dim() >= 2, op, ": x must be (N, C, ...), got ", shape_str(x_in.shape()));
  const Tensor x = contiguous(x_in.detach());

  // One all_gather of every rank's (count, mean, m2), merged in rank order.
  const BatchStats local = local_stats(x);
  const Tensor gathered = comm->all_gather(stack({local.count, local.mean, local.m2}, 0));  // (W, 3, C)
  const BatchStats global = batch_norm_merge_stats(
      {select(gathered, 1, 0), select(gathered, 1, 1), select(gathered, 1, 2)});
  const double count = select(global.count, 0, 0).item<double>();
  SPLAT_CHECK(count > 1, op, ": expected more than 1 value per channel when training, got ", count,
              " over all ", comm->world_size(), " ranks (this rank: x of shape ", shape_str(x.shape()), ")");
  const Tensor invstd = batch_norm_invstd(global, eps);
  batch_norm_update_running_stats(running_mean, running_var, global, momentum);

  const Tensor w = weight.defined() ? contiguous(weight.detach()) : Tensor();
  const Tensor b = bias.defined() ? contiguous(bias.detach()) : Tensor();
  Tensor y = x.numel() > 0 ? batch_norm_elemt(x, global.mean, invstd, w, b) : empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  if (autograd::needs_grad({x_in, weight, bias})) {
    record(std::string(op), {x_in, weight, bias}, {y},
           [comm, count, sx = SavedTensor(x), sw = SavedTensor(w), mean = global.mean, invstd](
               const Grads& g, const Needs& needs) {
             const Tensor& xs = sx.get();
             const Tensor dy = contiguous(g[0]);
             const BatchNormGradSums local = local_sums(dy, xs, mean);
             Grads out(3);
             if (needs[1]) out[1] = mul(local.sum_dy_xmu, invstd);
             if (needs[2]) out[2] = local.sum_dy;
             // Every rank joins the all_reduce, whether or not its x needs a gradient.
             Tensor sums = stack({local.sum_dy, local.sum_dy_xmu}, 0);  // (2, C)
             comm->all_reduce(sums, ReduceOp::sum);
             if (needs[0] && xs.numel() > 0)
               out[0] = batch_norm_backward_elemt(dy, xs, mean, invstd, sw.get(),
                                                  {select(sums, 0, 0), select(sums, 0, 1)}, count);
             else if (needs[0])
               out[0] = zeros_like(xs);
             return out;
           });
  }
  return y;
}

} // namespace splat::ops
