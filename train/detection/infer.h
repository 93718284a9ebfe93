// `splat infer`: a trained detector on image files. Each image goes through the config's test
// pipeline alone (batch 1: images of any sizes, nothing padded to a neighbour), the detections
// come back in the image's own pixels, and two kinds of output are written to the out folder:
//   <stem>.png    the image with every detection scoring >= score_thr drawn (box, class, score;
//                 its mask blended translucently, for detectors with masks)
//   results.json  every detection the model returned (test.rcnn's score_thr, NMS and
//                 max_per_img applied, not score_thr), as COCO results (coco_results.h); the
//                 image_id of an image is its position in `images`.
#pragma once

#include <string>
#include <vector>

namespace splat::train {

struct InferOptions {
  std::string config;                 // configs/*.toml
  std::string checkpoint;             // .safetensors (splat) or .pth (MMDetection)
  std::vector<std::string> images;    // JPEG or PNG files
  std::string out;                    // created if missing
  double score_thr = 0.3;             // what is drawn
  std::string device = "cpu";         // "cpu" or "cuda"
  std::vector<std::string> overrides; // key.path=value, as for every config
};

struct InferredImage {
  std::string image, picture; // the input and the PNG written
  int64_t detections = 0, drawn = 0;
};

// Everything is checked before the first image is read (config, checkpoint, that every image
// file exists); a bad image or checkpoint throws one line naming the file.
std::vector<InferredImage> run_infer(const InferOptions& options);

} // namespace splat::train
