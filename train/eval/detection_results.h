// A COCO results file read as pycocotools' COCO.loadRes reads it, for COCO evaluation
// (train/eval/coco_eval.h). The file is one JSON array of objects
//   {"image_id": 397133, "category_id": 18, "bbox": [x, y, w, h], "score": 0.87,
//    "segmentation": {"size": [h, w], "counts": "..."}}
// (train/detection/coco_results.h writes it; other fields are skipped). As loadRes:
// - the first object decides the kind: with a non-empty "bbox" every result needs a bbox, its
//   area is w * h and a missing segmentation is the box's polygon; otherwise every result needs a
//   "segmentation" (an RLE, "counts" a string or a list), its area is the mask's pixel count and
//   a missing bbox is the mask's toBbox;
// - a result's id is its 1-based position in the file, iscrowd is 0;
// - a result on an image that is not in the annotations is an error naming the image id;
//   results of categories the annotations lack are kept here and skipped by the evaluation.
// Deliberate differences: an empty array is accepted (loadRes fails on anns[0]) and gives no
// detections; every missing field, wrong type or malformed JSON is a splat::Error naming the
// file and the JSON path ("results.json: [17].score: expected a number, got \"high\"").
#pragma once

#include "data/coco.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splat::train {

enum class IouType { bbox, segm };

struct Detection {
  int64_t id = 0;           // 1-based position in the file
  uint32_t image_index = 0; // position of image_id in the annotations' images()
  int64_t category_id = 0;
  double score = 0;
  double area = 0;               // loadRes's: w * h, or the RLE's pixel count (see above)
  data::BoxXywh bbox{};          // x, y, w, h
  std::optional<data::Rle> mask; // read only for IouType::segm (annToRLE of the segmentation)
};

struct DetectionResults {
  std::string name;                  // the file, for messages
  std::vector<Detection> detections; // file order
};

// Reads `path`; `gt` gives the images (sizes for polygon segmentations). Masks are decoded only
// when `iou_type` is segm.
DetectionResults load_detection_results(const std::string& path, const data::CocoDataset& gt,
                                        IouType iou_type);
// The same on text in memory; `name` stands for the file in messages.
DetectionResults parse_detection_results(std::string_view json, const std::string& name,
                                         const data::CocoDataset& gt, IouType iou_type);

} // namespace splat::train
