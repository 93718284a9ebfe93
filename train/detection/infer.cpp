#include "train/detection/infer.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "data/batch.h"
#include "data/draw.h"
#include "data/image.h"
#include "models/detection/detector_weights.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "train/config/experiment.h"
#include "train/detection/coco_results.h"
#include "train/detection/dataset_classes.h"
#include "train/detection/detector_batch.h"

#include <filesystem>
#include <set>

namespace splat::train {
namespace {

namespace fs = std::filesystem;

// OUT/<stem>.png, with _2, _3, ... appended when two inputs share a stem (a/x.jpg, b/x.png).
std::vector<std::string> picture_paths(const std::vector<std::string>& images, const std::string& out) {
  std::set<std::string> taken;
  std::vector<std::string> paths;
  for (const std::string& image : images) {
    const std::string stem = fs::path(image).stem().string();
    std::string name = stem;
    for (int n = 2; !taken.insert(name).second; ++n) name = str(stem, "_", n);
    paths.push_back((fs::path(out) / (name + ".png")).string());
  }
  return paths;
}

// The detections scoring >= thr (boxes, labels and scores on the CPU).
models::Detections confident(const models::Detections& d, double thr) {
  const Tensor keep = ops::reshape(ops::nonzero(ops::ge(ops::to(d.scores, Device::cpu()), thr)), {-1});
  const auto pick = [&](const Tensor& t) {
    return t.defined() ? ops::index_select(ops::to(t, Device::cpu()), 0, keep) : t;
  };
  return {pick(d.boxes), pick(d.scores), pick(d.labels), pick(d.masks)};
}

} // namespace

std::vector<InferredImage> run_infer(const InferOptions& o) {
  SPLAT_CHECK(!o.images.empty(), "splat infer: no images given");
  SPLAT_CHECK(o.score_thr >= 0 && o.score_thr <= 1, "splat infer: --score-thr ", o.score_thr,
              " is not in [0, 1]");
  for (const std::string& image : o.images)
    SPLAT_CHECK(fs::is_regular_file(image), image, ": no such image file");
  const config::Experiment exp = config::load_experiment(o.config, o.overrides);
  const DatasetClasses classes = dataset_classes(exp.data.dataset, exp.model.num_classes, exp.path);
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();

  auto detector = config::build_detector(exp.model);
  models::load_detector_weights(*detector, o.checkpoint);
  detector->to(device);
  detector->eval();
  autograd::NoGradGuard no_grad;

  std::error_code ec;
  fs::create_directories(o.out, ec);
  SPLAT_CHECK(fs::is_directory(o.out), o.out, ": cannot create the output folder",
              ec ? ": " + ec.message() : "");
  const data::TestPipeline pipeline(exp.data.test.pipeline);
  const std::vector<std::string> pictures = picture_paths(o.images, o.out);
  std::vector<ImageResults> results;
  std::vector<InferredImage> summary;
  for (size_t i = 0; i < o.images.size(); ++i) {
    data::Sample sample;
    sample.image = data::read_image(o.images[i]);
    sample.meta.file_name = fs::path(o.images[i]).filename().string();
    sample.meta.image_id = static_cast<int64_t>(i);
    const Tensor original = sample.image;
    std::vector<data::Sample> one;
    one.push_back(pipeline(std::move(sample), {}));
    const data::Batch batch = data::collate(std::move(one), exp.data.test.pipeline.size_divisor);
    models::Detections dets = detector->predict(to_detector_input(batch, device, false))[0];

    const models::Detections shown = confident(dets, o.score_thr);
    data::write_png(pictures[i], data::draw_detections(original, shown.boxes, shown.labels,
                                                       shown.scores, classes.names, shown.masks));
    summary.push_back({o.images[i], pictures[i], dets.scores.numel(), shown.scores.numel()});
    results.push_back({static_cast<int64_t>(i), o.images[i], std::move(dets)});
  }
  write_coco_results((fs::path(o.out) / "results.json").string(), results, classes);
  return summary;
}

} // namespace splat::train
