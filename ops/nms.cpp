// NMS: the boxes are sorted by score on their device (stable argsort, ties by index), the
// sorted boxes go to the kernel (ops/cpu/nms.cpp, the greedy loop; ops/cuda/nms.cu, bitmask +
// device sweep), which returns kept positions in the sorted order, mapped back to indices here.
// Score pre-selection composes nonzero / topk.
#include "ops/nms.h"

#include "core/cuda/host_sync.h"
#include "ops/boxes.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/nms.h"
#include "ops/cuda/nms.h"
#include "ops/device_dispatch.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/sort.h"
#include "ops/view.h"

#include <cmath>

namespace splat::ops {
namespace {

void check_scores(std::string_view op, const Tensor& scores) {
  SPLAT_CHECK(scores.defined() && is_floating(scores.dtype()) && scores.dim() == 1, op,
              ": scores must be a floating (N) tensor, got ",
              scores.defined() ? shape_str(scores.shape()) : std::string("undefined"));
}

Tensor run_nms(std::string_view op, const Tensor& boxes, const Tensor& scores, const Tensor& groups,
               double iou_threshold, int64_t max_kept) {
  check_scores(op, scores);
  check_boxes(op, "boxes", boxes, BoxShape::rows);
  check_same_device(op, {&boxes, &scores});
  check_same_dtype(op, boxes, scores);
  SPLAT_CHECK(boxes.size(0) == scores.size(0), op, ": ", boxes.size(0), " boxes but ",
              scores.size(0), " scores");
  SPLAT_CHECK(!std::isnan(iou_threshold), op, ": iou_threshold is NaN");
  const int64_t n = boxes.size(0);
  const Device dev = boxes.device();
  if (n == 0) return Tensor::empty({0}, DType::i64, dev);
  const Tensor order = argsort(scores.detach(), 0, /*descending=*/true);
  const Tensor sorted = contiguous(index_select(boxes.detach(), 0, order));
  const Tensor sorted_groups =
      groups.defined() ? index_select(to(groups, DType::i64), 0, order) : Tensor();
  const Tensor keep = Tensor::empty({n}, DType::i64, dev);
  const int64_t kept = [&] {
    splat::cuda::HostSyncReasonScope reason(splat::cuda::HostSyncReason::output_size);
    return SPLAT_KERNEL(dev, nms_sorted, keep, sorted, sorted_groups, iou_threshold, max_kept);
  }();
  return index_select(order, 0, narrow(keep, 0, 0, kept));
}

} // namespace

Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, int64_t max_kept) {
  return run_nms("nms", boxes, scores, Tensor(), iou_threshold, max_kept);
}

Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                   double iou_threshold, int64_t max_kept) {
  SPLAT_CHECK(idxs.defined() && is_integral(idxs.dtype()) && idxs.dim() == 1,
              "batched_nms: idxs must be an integer (N) tensor, got ",
              idxs.defined() ? shape_str(idxs.shape()) : std::string("undefined"));
  check_same_device("batched_nms", {&boxes, &idxs});
  SPLAT_CHECK(boxes.dim() < 1 || idxs.size(0) == boxes.size(0), "batched_nms: ", idxs.size(0),
              " idxs for ", boxes.size(0), " boxes");
  return run_nms("batched_nms", boxes, scores, idxs, iou_threshold, max_kept);
}

Tensor score_above(const Tensor& scores, double threshold) {
  check_scores("score_above", scores);
  return reshape(nonzero(gt(scores.detach(), threshold)), {-1});
}

Tensor top_k_scores(const Tensor& scores, int64_t k) {
  check_scores("top_k_scores", scores);
  if (k <= 0 || k >= scores.size(0)) return argsort(scores.detach(), 0, /*descending=*/true);
  return topk(scores.detach(), k, 0).indices;
}

} // namespace splat::ops
