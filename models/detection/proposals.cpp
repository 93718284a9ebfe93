#include "models/detection/proposals.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/nms.h"
#include "ops/pointwise.h"
#include "ops/view.h"

namespace splat::models {

Proposals generate_proposals(const std::vector<Tensor>& cls, const std::vector<Tensor>& reg,
                             const std::vector<Tensor>& anchors, ops::SizeHW img_shape,
                             const ops::DeltaXYWHBBoxCoder& coder, const ProposalConfig& cfg) {
  SPLAT_CHECK(cls.size() == reg.size() && cls.size() == anchors.size() && !cls.empty(),
              "generate_proposals: ", cls.size(), " cls, ", reg.size(), " reg and ", anchors.size(),
              " anchor levels");
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> scores, deltas, priors, levels;
  for (size_t l = 0; l < cls.size(); ++l) {
    Tensor s = ops::sigmoid(ops::reshape(ops::permute(cls[l], {1, 2, 0}), {-1}));
    Tensor d = ops::reshape(ops::permute(reg[l], {1, 2, 0}), {-1, 4});
    Tensor a = anchors[l];
    SPLAT_CHECK(d.size(0) == s.size(0) && a.size(0) == s.size(0), "generate_proposals: level ", l, ": ",
                s.size(0), " scores, ", d.size(0), " deltas, ", a.size(0), " anchors");
    const Tensor keep = ops::top_k_scores(s, cfg.nms_pre);
    scores.push_back(ops::index_select(s, 0, keep));
    deltas.push_back(ops::index_select(d, 0, keep));
    priors.push_back(ops::index_select(a, 0, keep));
    levels.push_back(ops::full({keep.numel()}, static_cast<double>(l), {.dtype = DType::i64, .device = s.device()}));
  }
  Tensor score = ops::cat(scores), level = ops::cat(levels);
  Tensor boxes = ops::bbox_decode(ops::cat(priors), ops::cat(deltas), coder, img_shape);
  const Tensor w = ops::sub(ops::select(boxes, 1, 2), ops::select(boxes, 1, 0));
  const Tensor h = ops::sub(ops::select(boxes, 1, 3), ops::select(boxes, 1, 1));
  const Tensor big = ops::reshape(ops::nonzero(ops::logical_and(ops::gt(w, cfg.min_bbox_size),
                                                                ops::gt(h, cfg.min_bbox_size))), {-1});
  if (big.numel() < boxes.size(0)) {
    boxes = ops::index_select(boxes, 0, big);
    score = ops::index_select(score, 0, big);
    level = ops::index_select(level, 0, big);
  }
  const Tensor keep = ops::batched_nms(boxes, score, level, cfg.nms_iou, cfg.max_per_img);
  return {ops::index_select(boxes, 0, keep), ops::index_select(score, 0, keep)};
}

} // namespace splat::models
