// A detector scored on its config's validation split, as MMDetection's test loop with a
// CocoMetric does it: every image of the val annotation file goes through the test pipeline in
// batches of data.test.batch_size (in file order; padded together as mmdet's collate pads them),
// predict() returns each image's detections in its own pixels, the detections become a COCO
// results file (coco_results.h) and COCO evaluation (train/eval/coco_eval.h) scores that text,
// exactly what pycocotools would read from the written file: bbox, and segm as well when the
// detector returns masks (mmdet's CocoMetric with metric=['bbox', 'segm']).
#pragma once

#include "core/communicator.h"
#include "core/device.h"
#include "data/loader.h"
#include "models/detection/two_stage_detector.h"
#include "train/config/experiment.h"
#include "train/eval/coco_eval.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace splat::train {

struct CocoScores {
  CocoEvalResult bbox;
  std::optional<CocoEvalResult> segm; // when the detections carry masks
};

// COCO evaluation of coco_results_json's text against the annotations: bbox, and segm when
// with_masks (the results then hold a segmentation for every detection).
CocoScores score_coco_results(const data::CocoDataset& gt, const std::string& results_json,
                              bool with_masks);

// The logged metrics under mmdet's CocoMetric names: coco/bbox_mAP (AP), coco/bbox_mAP_50,
// _mAP_75, _mAP_s, _mAP_m, _mAP_l, then the same six as coco/segm_... when there are segm scores.
std::vector<std::pair<std::string, double>> coco_metric_values(const CocoScores& scores);

struct DetectorEvaluation : CocoScores {
  std::string results_json; // the COCO results of every val image
  int64_t images = 0, detections = 0;
  double seconds = 0; // predicting and evaluating
};

// Every image of the val split (annotated or not) in file order, through the test pipeline, as
// evaluation reads it. The annotation file and image folder must exist (errors name them).
std::unique_ptr<data::CocoSampleDataset> make_val_dataset(const config::DataConfig& data, data::MaskFormat masks);

// Called after each batch with the images done so far and the split's total (for progress).
using EvalProgress = std::function<void(int64_t done, int64_t total)>;

// `detector` is put in eval mode (and left there) and run without gradients on `device`.
DetectorEvaluation evaluate_detector(models::TwoStageDetector& detector, const config::Experiment& exp,
                                     Device device, const EvalProgress& progress = {});

// The same over the processes of a data-parallel job (design.md section 6), called by every rank
// of comm: rank r predicts the val batches r, r + world, r + 2 world, ... (the batches above,
// dealt round-robin); every rank's COCO results text is gathered over comm to rank 0, which puts
// the pieces back in file order (the text is byte for byte what one process writes) and scores
// them. Rank 0 gets the evaluation, the others nullopt; progress counts this rank's images.
std::optional<DetectorEvaluation> evaluate_detector(models::TwoStageDetector& detector,
                                                    const config::Experiment& exp, Device device,
                                                    Communicator& comm, const EvalProgress& progress = {});

} // namespace splat::train
