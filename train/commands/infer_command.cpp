// `splat infer CONFIG CKPT IMAGE... --out DIR`: train/detection/infer.h does the work; this file
// declares the options and prints one line per image.
#include "train/commands/command.h"
#include "train/detection/infer.h"

#include <cstdio>
#include <memory>

namespace splat::train {

void add_infer_command(CLI::App& app, Commands& out) {
  auto o = std::make_shared<InferOptions>();
  CLI::App* cmd = app.add_subcommand(
      "infer", "Detect objects in images: annotated PNGs and a COCO results JSON in --out");
  cmd->add_option("config", o->config, "Detector config (configs/*.toml)")->required();
  cmd->add_option("checkpoint", o->checkpoint, "Weights: splat .safetensors or MMDetection .pth")
      ->required();
  cmd->add_option("images", o->images, "JPEG or PNG files")->required();
  cmd->add_option("--out", o->out, "Output folder (created if missing)")->required();
  cmd->add_option("--score-thr", o->score_thr,
                  "Draw detections scoring at least this (results.json keeps them all)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--set", o->overrides, "Config overrides key.path=value (repeatable)");
  out.push_back({cmd, [o] {
    for (const InferredImage& r : run_infer(*o))
      std::printf("%s: %lld detections, %lld drawn (score >= %.2f) -> %s\n", r.image.c_str(),
                  static_cast<long long>(r.detections), static_cast<long long>(r.drawn),
                  o->score_thr, r.picture.c_str());
    std::printf("COCO results: %s/results.json\n", o->out.c_str());
  }});
}

} // namespace splat::train
