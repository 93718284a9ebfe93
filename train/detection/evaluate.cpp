#include "train/detection/evaluate.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "data/loader.h"
#include "train/detection/coco_results.h"
#include "train/detection/dataset_classes.h"
#include "train/detection/detector_batch.h"
#include "train/eval/detection_results.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>

namespace splat::train {

std::unique_ptr<data::CocoSampleDataset> make_val_dataset(const config::DataConfig& data, data::MaskFormat masks) {
  const config::SplitFiles& files = data.dataset.val;
  SPLAT_CHECK(std::filesystem::is_regular_file(files.annotations), files.annotations,
              ": no such annotation file (the val split of data.dataset, or --data)");
  SPLAT_CHECK(std::filesystem::is_directory(files.images), files.images, ": no such image folder");
  auto coco = std::make_shared<const data::CocoDataset>(data::CocoDataset::load(files.annotations));
  std::vector<size_t> images(coco->images().size());
  std::iota(images.begin(), images.end(), size_t{0});
  return std::make_unique<data::CocoSampleDataset>(
      coco, files.images, std::move(images), std::make_shared<const data::TestPipeline>(data.test.pipeline),
      data.seed, masks);
}

CocoScores score_coco_results(const data::CocoDataset& gt, const std::string& results_json,
                              bool with_masks) {
  CocoScores out;
  const auto score = [&](IouType t) {
    return coco_evaluate(gt, parse_detection_results(results_json, "detections", gt, t), t);
  };
  out.bbox = score(IouType::bbox);
  if (with_masks) out.segm = score(IouType::segm);
  return out;
}

std::vector<std::pair<std::string, double>> coco_metric_values(const CocoScores& s) {
  static const char* const kNames[] = {"mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"};
  std::vector<std::pair<std::string, double>> out;
  const auto add = [&](const char* type, const CocoEvalResult& r) {
    for (size_t i = 0; i < 6; ++i) out.emplace_back(str("coco/", type, "_", kNames[i]), r.stats[i]);
  };
  add("bbox", s.bbox);
  if (s.segm) add("segm", *s.segm);
  return out;
}

DetectorEvaluation evaluate_detector(models::TwoStageDetector& detector, const config::Experiment& exp,
                                     Device device, const EvalProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<data::CocoSampleDataset> dataset = make_val_dataset(exp.data, data::MaskFormat::none);
  const data::CocoDataset& coco = dataset->coco();
  const DatasetClasses classes = dataset_classes(exp.data.dataset, exp.model.num_classes, exp.path);
  const size_t count = dataset->size();
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < count; i += exp.data.test.batch_size) {
    batches.emplace_back();
    for (size_t j = i; j < std::min(count, i + exp.data.test.batch_size); ++j) batches.back().push_back(j);
  }

  detector.eval();
  autograd::NoGradGuard no_grad;
  data::Loader loader(*dataset, std::move(batches), 0, exp.data.test_loader(device));
  std::vector<ImageResults> results;
  DetectorEvaluation out;
  bool with_masks = false;
  while (std::optional<data::Batch> batch = loader.next()) {
    std::vector<models::Detections> dets = detector.predict(to_detector_input(*batch, device, false));
    for (size_t i = 0; i < dets.size(); ++i) {
      out.detections += dets[i].scores.numel();
      with_masks = with_masks || dets[i].masks.defined();
      results.push_back({batch->metas[i].image_id, batch->metas[i].file_name, std::move(dets[i])});
    }
    if (progress) progress(static_cast<int64_t>(results.size()), static_cast<int64_t>(count));
  }
  out.images = static_cast<int64_t>(results.size());
  out.results_json = coco_results_json(results, classes);
  static_cast<CocoScores&>(out) = score_coco_results(coco, out.results_json, with_masks);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

} // namespace splat::train
