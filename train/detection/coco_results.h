// Detections as a COCO results file (the format pycocotools' COCO.loadRes reads and
// `splat eval` scores): one JSON array with an object per detection,
//   {"image_id": 397133, "category_id": 18, "bbox": [x, y, w, h], "score": 0.87,
//    "file_name": "000000397133.jpg"}
// bbox in original-image pixels, x y the top-left corner (COCO's xywh, not the detectors'
// x1 y1 x2 y2). Detections with masks (Mask R-CNN's) add, after the bbox,
//   "segmentation": {"size": [h, w], "counts": "<pycocotools' compressed RLE string>"}
// of each (h, w) mask, as mmdet's results2json (the counts hold backslashes: JSON-escaped). file_name is not COCO's but loadRes keeps unknown fields; it lets results of
// images without ids (`splat infer` on loose files) be traced back.
#pragma once

#include "models/detection/detector_input.h"
#include "train/detection/dataset_classes.h"

#include <cstdint>
#include <string>
#include <vector>

namespace splat::train {

struct ImageResults {
  int64_t image_id = 0;
  std::string file_name;
  models::Detections detections; // boxes (K, 4) x1 y1 x2 y2, scores (K), labels (K) i64,
                                 // masks (K, H, W) bool or undefined
};

// The JSON text; labels map to classes.category_ids (a label outside them is an error naming
// the image). Numbers are written with the fewest digits that read back as the same float.
std::string coco_results_json(const std::vector<ImageResults>& results, const DatasetClasses& classes);

// Writes coco_results_json atomically (core/atomic_file.h): a failed write keeps the old file.
void write_coco_results(const std::string& path, const std::vector<ImageResults>& results,
                        const DatasetClasses& classes);

} // namespace splat::train
