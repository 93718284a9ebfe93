#include "train/detection/evaluate.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "data/loader.h"
#include "ops/copy.h"
#include "train/detection/coco_results.h"
#include "train/detection/dataset_classes.h"
#include "train/detection/detector_batch.h"
#include "train/eval/detection_results.h"

#include <algorithm>
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

namespace {

// One process's share of an evaluation: the COCO results text of each of its batches.
struct ShardPredictions {
  std::vector<std::string> batch_results; // coco_results_json of each batch, in batch order
  int64_t images = 0, detections = 0;
  bool with_masks = false;
};

ShardPredictions predict_shard(models::TwoStageDetector& detector, const config::Experiment& exp, Device device,
                               const data::CocoSampleDataset& dataset, int rank, int world,
                               const EvalProgress& progress) {
  const DatasetClasses classes = dataset_classes(exp.data.dataset, exp.model.num_classes, exp.path);
  const size_t count = dataset.size(), batch_size = exp.data.test.batch_size;
  std::vector<std::vector<size_t>> batches;
  size_t shard_images = 0;
  for (size_t i = batch_size * static_cast<size_t>(rank); i < count; i += batch_size * static_cast<size_t>(world)) {
    batches.emplace_back();
    for (size_t j = i; j < std::min(count, i + batch_size); ++j) batches.back().push_back(j);
    shard_images += batches.back().size();
  }

  detector.eval();
  autograd::NoGradGuard no_grad;
  ShardPredictions out;
  data::Loader loader(dataset, std::move(batches), 0, exp.data.test_loader(device));
  while (std::optional<data::Batch> batch = loader.next()) {
    std::vector<models::Detections> dets = detector.predict(to_detector_input(*batch, device, false));
    std::vector<ImageResults> results;
    for (size_t i = 0; i < dets.size(); ++i) {
      out.detections += dets[i].scores.numel();
      out.with_masks = out.with_masks || dets[i].masks.defined();
      results.push_back({batch->metas[i].image_id, batch->metas[i].file_name, std::move(dets[i])});
    }
    out.images += static_cast<int64_t>(results.size());
    out.batch_results.push_back(coco_results_json(results, classes));
    if (progress) progress(out.images, static_cast<int64_t>(shard_images));
  }
  return out;
}

// The results files of consecutive batches as one file, as coco_results_json writes it: "[",
// the entries each after "\n" and separated by ",", then "\n]\n" ("]\n" when there is none).
std::string join_results_json(const std::vector<std::string>& parts) {
  std::string out = "[";
  bool any = false;
  for (const std::string& p : parts) {
    if (p == "[]\n") continue;
    SPLAT_CHECK(p.size() > 4 && p.front() == '[' && p.ends_with("\n]\n"), "join_results_json: not a COCO results text");
    if (any) out += ',';
    out.append(p, 1, p.size() - 4);
    any = true;
  }
  out += any ? "\n]\n" : "]\n";
  return out;
}

DetectorEvaluation score(const data::CocoDataset& coco, const std::vector<std::string>& batch_results,
                         int64_t images, int64_t detections, bool with_masks) {
  DetectorEvaluation out;
  out.images = images;
  out.detections = detections;
  out.results_json = join_results_json(batch_results);
  static_cast<CocoScores&>(out) = score_coco_results(coco, out.results_json, with_masks);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Every rank's strings, on every rank (all_gather needs equal shapes: the lengths go first, then
// the bytes padded to the longest rank's).
std::vector<std::vector<std::string>> all_gather_strings(Communicator& comm, const std::vector<std::string>& mine) {
  const int world = comm.world_size();
  int64_t bytes = 0;
  for (const std::string& s : mine) bytes += static_cast<int64_t>(s.size());
  const Tensor sizes = comm.all_gather(ops::from_vector<int64_t>({static_cast<int64_t>(mine.size()), bytes}, {2}));
  int64_t max_count = 0, max_bytes = 0;
  for (int r = 0; r < world; ++r) {
    max_count = std::max(max_count, sizes.data<int64_t>()[2 * r]);
    max_bytes = std::max(max_bytes, sizes.data<int64_t>()[2 * r + 1]);
  }
  Tensor lengths = ops::zeros({std::max<int64_t>(max_count, 1)}, {.dtype = DType::i64});
  Tensor text = ops::zeros({std::max<int64_t>(max_bytes, 1)}, {.dtype = DType::u8});
  int64_t at = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    lengths.data<int64_t>()[i] = static_cast<int64_t>(mine[i].size());
    std::copy(mine[i].begin(), mine[i].end(), text.data<uint8_t>() + at);
    at += static_cast<int64_t>(mine[i].size());
  }
  const Tensor all_lengths = comm.all_gather(lengths), all_text = comm.all_gather(text);
  std::vector<std::vector<std::string>> out(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) {
    const auto* chars = reinterpret_cast<const char*>(all_text.data<uint8_t>()) + r * all_text.size(1);
    int64_t offset = 0;
    for (int64_t i = 0; i < sizes.data<int64_t>()[2 * r]; ++i) {
      const int64_t n = all_lengths.data<int64_t>()[r * all_lengths.size(1) + i];
      out[static_cast<size_t>(r)].emplace_back(chars + offset, static_cast<size_t>(n));
      offset += n;
    }
  }
  return out;
}

} // namespace

DetectorEvaluation evaluate_detector(models::TwoStageDetector& detector, const config::Experiment& exp,
                                     Device device, const EvalProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<data::CocoSampleDataset> dataset = make_val_dataset(exp.data, data::MaskFormat::none);
  const ShardPredictions p = predict_shard(detector, exp, device, *dataset, 0, 1, progress);
  DetectorEvaluation out = score(dataset->coco(), p.batch_results, p.images, p.detections, p.with_masks);
  out.seconds = seconds_since(start);
  return out;
}

std::optional<DetectorEvaluation> evaluate_detector(models::TwoStageDetector& detector, const config::Experiment& exp,
                                                    Device device, Communicator& comm, const EvalProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<data::CocoSampleDataset> dataset = make_val_dataset(exp.data, data::MaskFormat::none);
  const ShardPredictions p = predict_shard(detector, exp, device, *dataset, comm.rank(), comm.world_size(), progress);
  const Tensor counts = comm.all_gather(
      ops::from_vector<int64_t>({p.images, p.detections, p.with_masks ? 1 : 0}, {3}));
  const std::vector<std::vector<std::string>> all = all_gather_strings(comm, p.batch_results);
  if (comm.rank() != 0) return std::nullopt;
  // Rank r's k-th batch is batch k * world + r.
  std::vector<std::string> in_order;
  for (size_t k = 0;; ++k) {
    const size_t before = in_order.size();
    for (const auto& rank_parts : all)
      if (k < rank_parts.size()) in_order.push_back(rank_parts[k]);
    if (in_order.size() == before) break;
  }
  int64_t images = 0, detections = 0;
  bool with_masks = false;
  for (int r = 0; r < comm.world_size(); ++r) {
    const int64_t* c = counts.data<int64_t>() + 3 * r;
    images += c[0], detections += c[1], with_masks = with_masks || c[2] != 0;
  }
  DetectorEvaluation out = score(dataset->coco(), in_order, images, detections, with_masks);
  out.seconds = seconds_since(start);
  return out;
}

} // namespace splat::train
