// Losses: the fused element losses (cross_entropy, binary_cross_entropy_with_logits) record
// their own autograd node whose backward runs a kernel; l1, smooth_l1 and mse are compositions
// of differentiable pointwise ops. Weighting and reduction (mmdet's weight_reduce_loss) are
// compositions of mul / sum / div on the element loss.
#include "ops/loss.h"

#include "core/cuda/host_sync.h"
#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/loss.h"
#include "ops/cuda/loss.h"
#include "ops/device_dispatch.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"

#include <cmath>
#include <string_view>

namespace splat::ops {
namespace {

// mmdet divides by avg_factor + torch.finfo(torch.float32).eps.
constexpr double kAvgFactorEps = 1.1920928955078125e-07;

void check_floating(std::string_view op, const Tensor& t, std::string_view name) {
  SPLAT_CHECK(is_floating(t.dtype()), op, ": ", name, " must be f32 or f64, got ", t.dtype());
}

void check_no_grad(std::string_view op, const Tensor& t, std::string_view name) {
  SPLAT_CHECK(!t.requires_grad(), op, ": ", name,
              " requires grad, but gradients flow only to the input; detach() it");
}

// input / target pairs of the pointwise losses: one shape, one floating dtype, one device.
void check_pair(std::string_view op, const Tensor& input, const Tensor& target) {
  check_same_device(op, {&input, &target});
  check_floating(op, input, "input");
  SPLAT_CHECK(target.dtype() == input.dtype(), op, ": target dtype ", target.dtype(),
              " differs from input dtype ", input.dtype());
  SPLAT_CHECK(input.shape() == target.shape(), op, ": input of shape ", shape_str(input.shape()),
              " and target of shape ", shape_str(target.shape()), " differ");
  check_no_grad(op, target, "target");
}

// from broadcasts to `to` without growing it: each trailing dim of from is 1 or matches.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1 && from[d] != to[lead + d]) return false;
  return true;
}

// mmdet's weight_reduce_loss on the element loss. count: the mean's denominator as a 0-d tensor
// of loss's dtype, or undefined for the element count.
Tensor weight_reduce(std::string_view op, Tensor loss, const LossOptions& opts,
                     const Tensor& count = Tensor()) {
  if (const Tensor& w = opts.weight; w.defined()) {
    check_same_device(op, {&loss, &w});
    SPLAT_CHECK(w.dtype() == loss.dtype(), op, ": weight dtype ", w.dtype(),
                " differs from the loss dtype ", loss.dtype());
    SPLAT_CHECK(broadcasts_to(w.shape(), loss.shape()), op, ": weight of shape ",
                shape_str(w.shape()), " does not broadcast to the element loss of shape ",
                shape_str(loss.shape()));
    check_no_grad(op, w, "weight");
    loss = mul(loss, w);
  }
  if (opts.avg_factor) {
    SPLAT_CHECK(opts.reduction != Reduction::sum, op,
                ": avg_factor can only be used with reduction mean (got sum)");
    SPLAT_CHECK(std::isfinite(*opts.avg_factor) && *opts.avg_factor >= 0, op,
                ": avg_factor must be finite and non-negative, got ", *opts.avg_factor);
  }
  switch (opts.reduction) {
  case Reduction::none: return loss;
  case Reduction::sum: return sum(loss);
  case Reduction::mean:
    if (opts.avg_factor) return div(sum(loss), *opts.avg_factor + kAvgFactorEps);
    return count.defined() ? div(sum(loss), count) : mean(loss);
  }
  return loss;
}

std::string describe_bad_target(const Tensor& target, int64_t position, int64_t classes,
                                int64_t ignore_index) {
  const auto value = select(target, 0, position).item<int64_t>();
  return str("cross_entropy: target ", value, " at position ", position, " is out of range for ",
             classes, " classes (valid: 0..", classes - 1, ", or ignore_index ", ignore_index, ")");
}

} // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                     const LossOptions& opts) {
  constexpr std::string_view op = "cross_entropy";
  check_same_device(op, {&logits, &target});
  check_floating(op, logits, "logits");
  SPLAT_CHECK(logits.dim() == 2, op, ": logits must be (N, C), got shape ",
              shape_str(logits.shape()));
  SPLAT_CHECK(target.dtype() == DType::i64, op, ": target must be i64 class indices, got ",
              target.dtype());
  SPLAT_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), op, ": target of shape ",
              shape_str(target.shape()), " does not match logits of shape ",
              shape_str(logits.shape()), " (expected (", logits.size(0), "))");
  const int64_t n = logits.size(0), classes = logits.size(1);
  const Tensor x = contiguous(logits.detach()), t = contiguous(target);
  Tensor loss = Tensor::empty({n}, x.dtype(), x.device());
  Tensor lse = Tensor::empty({n}, x.dtype(), x.device());
  {
    splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::bounds_check);
    const int64_t bad = SPLAT_KERNEL(x.device(), cross_entropy, loss, lse, x, t, ignore_index);
    SPLAT_CHECK(bad < 0, describe_bad_target(t, bad, classes, ignore_index));
  }
  if (autograd::needs_grad({logits})) {
    record(std::string(op), {logits}, {loss},
           [ignore_index, sx = SavedTensor(x), st = SavedTensor(t),
            slse = SavedTensor(lse)](const Grads& g, const Needs&) {
             const Tensor& xv = sx.get();
             Tensor dx = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
             SPLAT_KERNEL(xv.device(), cross_entropy_backward, dx, contiguous(g[0]), xv, st.get(),
                          slse.get(), ignore_index);
             return Grads{dx};
           });
  }
  // PyTorch's mean runs over the targets that are not ignored.
  const bool count_targets = opts.reduction == Reduction::mean && !opts.avg_factor;
  const Tensor count = count_targets ? to(sum(ne(t, double(ignore_index))), x.dtype()) : Tensor();
  return weight_reduce(op, loss, opts, count);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const LossOptions& opts) {
  constexpr std::string_view op = "binary_cross_entropy_with_logits";
  check_pair(op, logits, target);
  Tensor loss = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  SPLAT_KERNEL(logits.device(), bce_with_logits, loss, logits, target);
  if (autograd::needs_grad({logits})) {
    record(std::string(op), {logits}, {loss},
           [sx = SavedTensor(logits), st = SavedTensor(target)](const Grads& g, const Needs&) {
             const Tensor& xv = sx.get();
             Tensor dx = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
             SPLAT_KERNEL(xv.device(), bce_with_logits_backward, dx, g[0], xv, st.get());
             return Grads{dx};
           });
  }
  return weight_reduce(op, loss, opts);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const LossOptions& opts) {
  check_pair("l1_loss", input, target);
  return weight_reduce("l1_loss", abs(sub(input, target)), opts);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta,
                      const LossOptions& opts) {
  check_pair("smooth_l1_loss", input, target);
  SPLAT_CHECK(std::isfinite(beta) && beta >= 0,
              "smooth_l1_loss: beta must be finite and >= 0, got ", beta);
  const Tensor d = sub(input, target);
  const Tensor ad = abs(d);
  // beta == 0 is L1 (as PyTorch); the quadratic branch would divide by zero.
  const Tensor loss =
      beta == 0 ? ad : where(lt(ad, beta), mul(square(d), 0.5 / beta), sub(ad, 0.5 * beta));
  return weight_reduce("smooth_l1_loss", loss, opts);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const LossOptions& opts) {
  check_pair("mse_loss", input, target);
  return weight_reduce("mse_loss", square(sub(input, target)), opts);
}

} // namespace splat::ops
