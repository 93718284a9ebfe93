// `splat bench eval`: the time of COCO evaluation (train/eval) on a synthetic COCO-val-sized
// set: by default 5,000 images, 80 categories, about 7 gts per image (sides log-uniform over
// 4..400 px, so all three area ranges fill; 1% crowds) and 100 detections per image (up to two
// jittered copies of each gt, the rest random boxes; scores with 3 decimals, so ties occur).
// The annotations and results are generated as JSON text, and the times of reading each and of
// the evaluation are printed on one line (--save writes the files, e.g. for pycocotools).
#include "core/json_writer.h"
#include "core/threads.h"
#include "train/bench/bench.h"
#include "train/eval/coco_eval.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

namespace splat::train {
namespace {

struct EvalBenchOptions {
  int64_t images = 5000, detections = 100, categories = 80;
  std::string iou_type = "bbox";
  uint64_t seed = 1;
  std::string save; // folder for gt.json and results.json (to score them elsewhere too)
};

struct SyntheticSet {
  std::string annotations, results;
  size_t n_gt = 0, n_det = 0;
};

SyntheticSet synthesise(const EvalBenchOptions& o, IouType type) {
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(rng);
  };
  auto integer = [&](int64_t a, int64_t b) {
    return std::uniform_int_distribution<int64_t>(a, b)(rng);
  };
  SyntheticSet s;
  std::string images, anns, cats;
  s.results = "[";
  char buf[256];
  for (int64_t c = 1; c <= o.categories; ++c)
    cats += str(c > 1 ? "," : "", "{\"id\": ", c, ", \"name\": \"c", c, "\"}");
  auto add_result = [&](int64_t image, int64_t cat, double x, double y, double w, double h,
                        double score, int64_t H, int64_t W) {
    std::snprintf(buf, sizeof buf,
                  "%s{\"image_id\": %lld, \"category_id\": %lld, \"bbox\": [%.2f, %.2f, %.2f, "
                  "%.2f], \"score\": %.3f",
                  s.n_det ? ",\n" : "\n", static_cast<long long>(image),
                  static_cast<long long>(cat), x, y, w, h, score);
    s.results += buf;
    if (type == IouType::segm) {
      s.results += str(", \"segmentation\": {\"size\": [", H, ", ", W, "], \"counts\": ");
      // The compressed counts use '\\' (92) too: escaped as JSON requires.
      append_json_string(s.results, data::rle_to_string(data::rle_from_box({x, y, w, h}, H, W)));
      s.results += "}";
    }
    s.results += "}";
    ++s.n_det;
  };
  for (int64_t i = 1; i <= o.images; ++i) {
    const int64_t W = integer(320, 640), H = integer(320, 640);
    images += str(i > 1 ? "," : "", "{\"id\": ", i, ", \"file_name\": \"", i,
                  ".jpg\", \"height\": ", H, ", \"width\": ", W, "}");
    struct Box {
      double x, y, w, h;
      int64_t cat;
    };
    std::vector<Box> gts(static_cast<size_t>(integer(0, 14)));
    for (Box& b : gts) {
      b.w = std::min<double>(W - 1, std::exp(uniform(std::log(4.0), std::log(400.0))));
      b.h = std::min<double>(H - 1, b.w * std::exp(uniform(-0.7, 0.7)));
      b.x = uniform(0, W - b.w);
      b.y = uniform(0, H - b.h);
      b.cat = integer(1, o.categories);
      const bool crowd = uniform(0, 1) < 0.01;
      std::snprintf(buf, sizeof buf,
                    "%s{\"id\": %zu, \"image_id\": %lld, \"category_id\": %lld, \"bbox\": [%.2f, "
                    "%.2f, %.2f, %.2f], \"area\": %.2f, \"iscrowd\": %d, \"segmentation\": "
                    "[[%.2f, %.2f, %.2f, %.2f, %.2f, %.2f, %.2f, %.2f]]}",
                    s.n_gt ? "," : "", s.n_gt + 1, static_cast<long long>(i),
                    static_cast<long long>(b.cat), b.x, b.y, b.w, b.h, b.w * b.h, crowd ? 1 : 0,
                    b.x, b.y, b.x + b.w, b.y, b.x + b.w, b.y + b.h, b.x, b.y + b.h);
      anns += buf;
      ++s.n_gt;
    }
    int64_t left = o.detections;
    for (const Box& b : gts)
      for (int k = 0; k < 2 && left > 0; ++k, --left) {
        const double w = b.w * uniform(0.8, 1.2), h = b.h * uniform(0.8, 1.2);
        const double x = std::clamp(b.x + uniform(-0.1, 0.1) * b.w, 0.0, W - w);
        const double y = std::clamp(b.y + uniform(-0.1, 0.1) * b.h, 0.0, H - h);
        const int64_t cat = uniform(0, 1) < 0.9 ? b.cat : integer(1, o.categories);
        add_result(i, cat, std::max(0.0, x), std::max(0.0, y), w, h, uniform(0.3, 1), H, W);
      }
    for (; left > 0; --left) {
      const double w = std::exp(uniform(std::log(4.0), std::log(300.0)));
      const double h = std::min<double>(H - 1, w * std::exp(uniform(-0.7, 0.7)));
      const double ww = std::min<double>(W - 1, w);
      add_result(i, integer(1, o.categories), uniform(0, W - ww), uniform(0, H - h), ww, h,
                 uniform(0, 0.6), H, W);
    }
  }
  s.results += "\n]\n";
  s.annotations = str("{\"images\": [", images, "], \"categories\": [", cats,
                      "], \"annotations\": [", anns, "]}");
  return s;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  SPLAT_CHECK(f.good(), path, ": cannot write the file");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

void add_bench_eval_command(CLI::App& bench, Commands& out) {
  auto o = std::make_shared<EvalBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "eval", "COCO evaluation time on a synthetic COCO-val-sized results set");
  cmd->add_option("--images", o->images, "Images")->check(CLI::PositiveNumber);
  cmd->add_option("--detections", o->detections, "Detections per image")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--categories", o->categories, "Categories")->check(CLI::PositiveNumber);
  cmd->add_option("--iou-type", o->iou_type, "bbox or segm")
      ->check(CLI::IsMember({"bbox", "segm"}));
  cmd->add_option("--seed", o->seed, "Generator seed");
  cmd->add_option("--save", o->save, "Also write the set as DIR/gt.json and DIR/results.json");
  out.push_back(
      {cmd, [o] {
         const IouType type = o->iou_type == "segm" ? IouType::segm : IouType::bbox;
         const SyntheticSet s = synthesise(*o, type);
         if (!o->save.empty()) {
           std::filesystem::create_directories(o->save);
           write_text(o->save + "/gt.json", s.annotations);
           write_text(o->save + "/results.json", s.results);
         }
         auto t0 = std::chrono::steady_clock::now();
         const data::CocoDataset gt = data::CocoDataset::parse(s.annotations, "synthetic gt");
         const double gt_s = seconds_since(t0);
         t0 = std::chrono::steady_clock::now();
         const DetectionResults res =
             parse_detection_results(s.results, "synthetic results", gt, type);
         const double res_s = seconds_since(t0);
         t0 = std::chrono::steady_clock::now();
         const CocoEvalResult r = coco_evaluate(gt, res, type);
         const double eval_s = seconds_since(t0);
         std::printf("eval iou_type=%s images=%lld gts=%zu detections=%zu categories=%lld "
                     "results_mb=%.1f load_gt_s=%.3f load_results_s=%.3f evaluate_s=%.3f "
                     "total_s=%.3f threads=%d AP=%.4f\n",
                     o->iou_type.c_str(), static_cast<long long>(o->images), s.n_gt, s.n_det,
                     static_cast<long long>(o->categories), s.results.size() / 1e6, gt_s, res_s,
                     eval_s, gt_s + res_s + eval_s, num_threads(), r.stats[0]);
       }});
}

} // namespace splat::train
