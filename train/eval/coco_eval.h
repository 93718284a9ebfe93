// COCO detection evaluation with pycocotools' COCOeval semantics (evaluate, accumulate,
// summarize; bbox and segm, default Params), so its numbers equal pycocotools' on any input.
//
// What COCOeval does, and so this:
// - images: every image of the annotations, by ascending id; categories: every category of the
//   annotations, by ascending id (results of other categories are skipped);
// - per image and category, detections by descending score (a stable sort: ties keep file
//   order), the best maxDets[-1] = 100 kept; IoU of boxes, or of RLE masks for segm, where a
//   crowd ground truth's "union" is the detection's area; a gt is ignored when it is a crowd
//   (the "ignore" field plays no part) or its annotated "area" lies outside the area range; gts
//   are matched greedily in score order at each of the 10 IoU thresholds (linspace(.5, .95, 10)
//   as numpy computes it), non-ignored gts first, a crowd gt matching any number of detections;
//   a detection matched to an ignored gt, or unmatched and with its area outside the range, is
//   ignored;
// - per category, area range (all [0, 1e10], small [0, 32^2], medium [32^2, 96^2], large
//   [96^2, 1e10], bounds inclusive) and maxDets (1, 10, 100: each image's top detections), the
//   detections of all images merged by descending score (stable: image order, then per-image
//   order), precision interpolated at the 101 recall points 0:.01:1 and the final recall;
//   -1 where the category has no non-ignored gt;
// - the 12 summary numbers: means over the entries that are not -1 (-1 when there are none).
// Quirks kept: a gt annotation with id 0 counts as unmatched when matched (COCOeval stores gt
// ids in dtMatches and tests them for non-zero).
#pragma once

#include "data/coco.h"
#include "train/eval/detection_results.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace splat::train {

inline constexpr size_t kIouThresholds = 10, kRecallThresholds = 101, kAreaRanges = 4,
                        kMaxDetSettings = 3;
inline constexpr std::array<const char*, kAreaRanges> kAreaNames = {"all", "small", "medium",
                                                                    "large"};
inline constexpr std::array<int, kMaxDetSettings> kMaxDets = {1, 10, 100};
// Params.iouThrs and recThrs exactly as numpy's linspace computes them.
double iou_threshold(size_t t);
double recall_threshold(size_t r);

// The names of stats[i], in summarize()'s order.
inline constexpr std::array<const char*, 12> kStatNames = {
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

struct CocoEvalResult {
  IouType iou_type = IouType::bbox;
  std::vector<int64_t> category_ids; // ascending: the K of the arrays
  std::vector<std::string> category_names;
  // COCOeval.eval['precision'] (T, R, K, A, M) and ['recall'] (T, K, A, M), row-major.
  std::vector<double> precision, recall;
  std::array<double, 12> stats{};

  double precision_at(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    return precision[(((t * kRecallThresholds + r) * category_ids.size() + k) * kAreaRanges + a) *
                         kMaxDetSettings +
                     m];
  }
  double recall_at(size_t t, size_t k, size_t a, size_t m) const {
    return recall[((t * category_ids.size() + k) * kAreaRanges + a) * kMaxDetSettings + m];
  }
  // Category k's AP (area all, 100 detections; mmdet's classwise table): the mean of its
  // precision entries that are not -1, or -1 without any.
  double category_ap(size_t k) const;
};

CocoEvalResult coco_evaluate(const data::CocoDataset& gt, const DetectionResults& results,
                             IouType iou_type);

// summarize()'s 12 lines, each "\n"-terminated, e.g.
//  " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.370"
std::string coco_summary(const CocoEvalResult& r);
// One JSON line: {"iou_type": "bbox", "AP": ..., ..., "ARl": ..., "per_category": [{"id": 1,
// "name": "person", "AP": ...}, ...]} (full precision, -1 where undefined).
std::string coco_summary_json(const CocoEvalResult& r);

} // namespace splat::train
