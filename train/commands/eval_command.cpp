// `splat eval ANNOTATIONS.json RESULTS.json [--iou-type bbox|segm] [--json]`: scores a COCO
// results file against COCO annotations (train/eval/coco_eval.h) and prints the 12 numbers as
// pycocotools' summarize() prints them, or one JSON line.
#include "train/commands/command.h"
#include "train/eval/coco_eval.h"

#include <cstdio>
#include <memory>

namespace splat::train {

void add_eval_command(CLI::App& app, Commands& out) {
  struct Options {
    std::string annotations, results, iou_type = "bbox";
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "COCO box or mask AP of a results file, as pycocotools' COCOeval computes it");
  cmd->add_option("annotations", o->annotations, "COCO annotations (instances_*.json)")->required();
  cmd->add_option("results", o->results, "COCO results: [{image_id, category_id, bbox, score}]")
      ->required();
  cmd->add_option("--iou-type", o->iou_type, "bbox or segm")
      ->check(CLI::IsMember({"bbox", "segm"}));
  cmd->add_flag("--json", o->json, "Print one JSON line (stats and per-category AP)");
  out.push_back({cmd, [o] {
                   const IouType type = o->iou_type == "segm" ? IouType::segm : IouType::bbox;
                   const data::CocoDataset gt = data::CocoDataset::load(o->annotations);
                   const DetectionResults res = load_detection_results(o->results, gt, type);
                   const CocoEvalResult r = coco_evaluate(gt, res, type);
                   if (o->json)
                     std::printf("%s\n", coco_summary_json(r).c_str());
                   else
                     std::fputs(coco_summary(r).c_str(), stdout);
                 }});
}

} // namespace splat::train
