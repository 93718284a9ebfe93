#include "models/detection/multiclass_nms.h"

#include "core/error.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/nms.h"
#include "ops/view.h"

namespace splat::models {

Detections multiclass_nms(const Tensor& boxes, const Tensor& scores, double score_thr, double nms_iou,
                          int64_t max_per_img) {
  const int64_t n = scores.size(0), classes = scores.size(1) - 1;
  SPLAT_CHECK(classes >= 1 && boxes.size(0) == n && (boxes.size(1) == 4 || boxes.size(1) == 4 * classes),
              "multiclass_nms: boxes ", shape_str(boxes.shape()), " do not match scores ", shape_str(scores.shape()));
  const Tensor per_class = boxes.size(1) == 4 ? ops::expand(ops::unsqueeze(boxes, 1), {n, classes, 4})
                                              : ops::reshape(boxes, {n, classes, 4});
  const Tensor flat_boxes = ops::reshape(ops::contiguous(per_class), {-1, 4});
  const Tensor flat_scores = ops::reshape(ops::contiguous(ops::narrow(scores, 1, 0, classes)), {-1});
  const Tensor keep = ops::score_above(flat_scores, score_thr);
  // The class of flattened entry j is j mod C.
  const Tensor all_labels = ops::reshape(
      ops::contiguous(ops::expand(ops::unsqueeze(ops::arange(static_cast<double>(classes), {.dtype = DType::i64, .device = scores.device()}), 0), {n, classes})),
      {-1});
  const Tensor b = ops::index_select(flat_boxes, 0, keep);
  const Tensor s = ops::index_select(flat_scores, 0, keep);
  const Tensor l = ops::index_select(all_labels, 0, keep);
  const Tensor kept = ops::batched_nms(b, s, l, nms_iou, max_per_img > 0 ? max_per_img : -1);
  return {ops::index_select(b, 0, kept), ops::index_select(s, 0, kept), ops::index_select(l, 0, kept)};
}

} // namespace splat::models
