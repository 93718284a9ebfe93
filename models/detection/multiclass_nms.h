// mmdet's multiclass_nms (spec section 3.3): per-class boxes (N, 4C) or shared boxes (N, 4)
// and scores (N, C + 1) with the background last; every (box, class) pair scoring strictly
// above score_thr, in row-major (N, C) order, goes through NMS within its class, and the
// max_per_img best survivors are kept in score order.
#pragma once

#include "models/detection/detector_input.h"

namespace splat::models {

Detections multiclass_nms(const Tensor& boxes, const Tensor& scores, double score_thr, double nms_iou,
                          int64_t max_per_img);

} // namespace splat::models
