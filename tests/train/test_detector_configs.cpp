// The detector configs of configs/: each seed row loads, builds the spec's model (parameter
// counts and state-dict entries of spec 6.4, the key list of spec_keys.tsv with its shapes),
// the small shapes config builds a model of the intended size, config errors name the file,
// the key and the line, and MMDetection-style checkpoints load strictly (generated at test time
// by PyTorch when Debian's python3-torch is present; skipped visibly otherwise).
#include "models/detection/detector_weights.h"
#include "nn/checkpoint_keys.h"
#include "nn/pth.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/config/config_file.h"
#include "train/config/experiment.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace splat;
namespace cfg = splat::train::config;

namespace {

const std::string kConfigs = SPLAT_SOURCE_DIR "/configs/";
const std::string kFasterS50 = kConfigs + "resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";
const std::string kFasterS101 = kConfigs + "resnest/faster_rcnn_s101_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";
const std::string kMaskS50 = kConfigs + "resnest/mask_rcnn_s50_fpn_syncbn-backbone+head_mstrain_1x_coco.toml";
const std::string kMaskS101 = kConfigs + "resnest/mask_rcnn_s101_fpn_syncbn-backbone+head_mstrain_1x_coco.toml";
const std::string kCascadeS50 = kConfigs + "resnest/cascade_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";
const std::string kCascadeS101 = kConfigs + "resnest/cascade_rcnn_s101_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";
const std::string kCascadeMaskS50 = kConfigs + "resnest/cascade_mask_rcnn_s50_fpn_syncbn-backbone+head_mstrain_1x_coco.toml";
const std::string kCascadeMaskS101 = kConfigs + "resnest/cascade_mask_rcnn_s101_fpn_syncbn-backbone+head_mstrain_1x_coco.toml";
const std::string kShapes = kConfigs + "shapes/faster_rcnn_s18_fpn_shapes.toml";

// key -> "AxBxC" (the TSV's shape spelling; "scalar" for a 0-d tensor) of the given components.
std::vector<std::pair<std::string, std::string>> spec_keys(const std::vector<std::string>& components) {
  std::ifstream in(SPLAT_SOURCE_DIR "/tests/fixtures/spec_keys.tsv");
  REQUIRE(in);
  std::vector<std::pair<std::string, std::string>> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    std::string component, key, shape;
    std::getline(row, component, '\t');
    std::getline(row, key, '\t');
    std::getline(row, shape, '\t');
    for (const auto& c : components)
      if (c == component) keys.emplace_back(key, shape);
  }
  return keys;
}

std::string shape_x(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

void check_seed_model(const std::string& path, const std::string& backbone, int64_t params, size_t entries,
                      const std::string& roi_head = "roi_head_faster") {
  const cfg::Experiment e = cfg::load_experiment(path);
  auto model = cfg::build_detector(e.model);
  CHECK(model->num_parameters() == params);
  const auto state = model->state_dict();
  CHECK(state.size() == entries);
  const auto expected = spec_keys({backbone, "neck", "rpn_head", roi_head});
  CHECK(expected.size() == entries);
  for (const auto& [key, shape] : expected) {
    CAPTURE(key);
    const auto it = state.find(key);
    REQUIRE_MESSAGE(it != state.end(), "the model has no ", key);
    CHECK(shape_x(it->second.shape()) == shape);
  }
}

bool have_torch() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0;
  return ok;
}

std::string random_checkpoint(const std::filesystem::path& out, const std::string& extra_args = "",
                              const std::string& model = "faster_s50") {
  const std::string cmd = "/usr/bin/python3 " SPLAT_SOURCE_DIR "/scripts/fixtures/random_mmdet_checkpoint.py " +
                          out.string() + " " + model + " " + extra_args + " > /dev/null";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "failed: ", cmd);
  return out.string();
}

} // namespace

TEST_CASE("seed configs build the spec's Faster R-CNN S-50 and S-101") {
  check_seed_model(kFasterS50, "backbone_s50", 44'991'008, 526);
  check_seed_model(kFasterS101, "backbone_s101", 65'782'784, 985);
  const cfg::Experiment e = cfg::load_experiment(kFasterS50);
  // A few of the spec's numbers as they reach the model and the data structs.
  CHECK(e.model.two_stage.rpn_train.allowed_border == -1);
  CHECK(e.model.two_stage.rpn_proposal_train.nms_pre == 2000);
  CHECK(e.model.roi_head.train.sampler.num == 512);
  CHECK(e.model.roi_head.bbox_head.coder.stds[2] == 0.2);
  CHECK(e.model.two_stage.backbone.norm.kind == nn::NormKind::sync_batch);
  CHECK(e.data.train.pipeline.mode == data::MultiscaleMode::range);
  CHECK(e.schedule.milestones == std::vector<int64_t>{8, 11});
  CHECK(e.schedule.warmup_iters == 500);
  CHECK(e.schedule.norm_decay_mult == 1.0); // spec 5: weight decay on all parameters
  CHECK(e.schedule.bias_decay_mult == 1.0);
}

TEST_CASE("seed configs build the spec's Mask R-CNN S-50 and S-101") {
  check_seed_model(kMaskS50, "backbone_s50", 47'635'312, 554, "roi_head_mask");
  check_seed_model(kMaskS101, "backbone_s101", 68'427'088, 1013, "roi_head_mask");
  const cfg::Experiment e = cfg::load_experiment(kMaskS50);
  REQUIRE(e.model.mask.has_value());
  CHECK(e.model.roi_head.train.assigner.match_low_quality); // spec 3.1: on for Mask R-CNN only
  CHECK(e.model.mask->roi_extractor.output_size == 14);
  CHECK(e.model.mask->roi_extractor.sampling_ratio == 0);
  CHECK(e.model.mask->mask_size == 28);
  CHECK(e.model.mask->mask_thr_binary == 0.5);
  CHECK(e.model.mask->head.num_classes == 80);
  CHECK(e.model.mask->head.norm->kind == nn::NormKind::sync_batch);
  CHECK(e.data.train.with_masks);
  CHECK(e.data.train.pipeline.mode == data::MultiscaleMode::value);
  CHECK(e.data.train.pipeline.scales.size() == 6);
  // The Faster configs keep their assigner and reject the mask keys.
  const cfg::Experiment faster = cfg::load_experiment(kFasterS50);
  CHECK_FALSE(faster.model.mask.has_value());
  CHECK_FALSE(faster.model.roi_head.train.assigner.match_low_quality);
  const auto error = [](const std::string& path, const std::string& override_) {
    const std::vector<std::string> overrides{override_};
    return test::error_of([&] { cfg::load_experiment(path, overrides); });
  };
  CHECK(error(kFasterS50, "model.test.rcnn.mask_thr_binary=0.5").find("unknown key") != std::string::npos);
  CHECK(error(kMaskS50, "model.train.rcnn.mask_size=14").find("twice the mask RoI extractor's output_size") !=
        std::string::npos);
}

TEST_CASE("seed configs build the spec's Cascade R-CNN S-50 and S-101") {
  check_seed_model(kCascadeS50, "backbone_s50", 75'256'206, 586, "roi_head_cascade");
  check_seed_model(kCascadeS101, "backbone_s101", 96'047'982, 1045, "roi_head_cascade");
  const cfg::Experiment e = cfg::load_experiment(kCascadeS50);
  // The Cascade R-CNN differences of spec 2.5, 3.1-3.4 as they reach the structs.
  const auto& ts = e.model.two_stage;
  CHECK(ts.rpn_train.allowed_border == 0);
  CHECK(ts.rpn_proposal_train.max_per_img == 2000);
  CHECK(ts.rpn_head.loss_bbox.kind == models::BoxLoss::Kind::smooth_l1);
  CHECK(ts.rpn_head.loss_bbox.beta == 1.0 / 9);
  const auto& stages = e.model.cascade_roi_head.stages;
  REQUIRE(stages.size() == 3);
  const auto spec = models::cascade_rcnn_stages(stages[0].bbox_head);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    CHECK(stages[s].loss_weight == spec[s].loss_weight);
    CHECK(stages[s].bbox_head.reg_class_agnostic);
    CHECK(stages[s].bbox_head.coder.stds == spec[s].bbox_head.coder.stds);
    CHECK(stages[s].bbox_head.loss_bbox.kind == models::BoxLoss::Kind::smooth_l1);
    CHECK(stages[s].bbox_head.loss_bbox.beta == 1.0);
    CHECK(stages[s].train.assigner.pos_iou_thr == spec[s].train.assigner.pos_iou_thr);
    CHECK(stages[s].train.assigner.neg_iou_thr.hi == spec[s].train.assigner.neg_iou_thr.hi);
    CHECK(stages[s].train.assigner.min_pos_iou == spec[s].train.assigner.min_pos_iou);
    CHECK(!stages[s].train.assigner.match_low_quality);
    CHECK(stages[s].train.sampler.num == 512);
    CHECK(stages[s].train.sampler.add_gt_as_proposals);
  }
  CHECK(e.data.train.pipeline.mode == data::MultiscaleMode::range);
  // The stage arrays must agree in length.
  const std::vector<std::string> two_weights{"model.roi_head.stage_loss_weights=[1.0, 0.5]"};
  const std::string short_weights = test::error_of([&] { cfg::load_experiment(kCascadeS50, two_weights); });
  CHECK(short_weights.find("2 weights for 3 stages") != std::string::npos);
}

TEST_CASE("seed configs build the spec's Cascade Mask R-CNN S-50 and S-101") {
  check_seed_model(kCascadeMaskS50, "backbone_s50", 83'189'118, 670, "roi_head_cascade_mask");
  check_seed_model(kCascadeMaskS101, "backbone_s101", 103'980'894, 1129, "roi_head_cascade_mask");
  const cfg::Experiment e = cfg::load_experiment(kCascadeMaskS50);
  const cfg::Experiment cascade = cfg::load_experiment(kCascadeS50);
  // The cascade's settings unchanged (its stages re-written with mask_size) ...
  const auto& stages = e.model.cascade_roi_head.stages;
  REQUIRE(stages.size() == 3);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const auto& c = cascade.model.cascade_roi_head.stages[s];
    CHECK(stages[s].loss_weight == c.loss_weight);
    CHECK(stages[s].bbox_head.coder.stds == c.bbox_head.coder.stds);
    CHECK(stages[s].train.assigner.pos_iou_thr == c.train.assigner.pos_iou_thr);
    CHECK(!stages[s].train.assigner.match_low_quality); // spec 3.1: off for the cascades
    CHECK(stages[s].train.sampler.num == 512);
  }
  CHECK(e.model.two_stage.rpn_train.allowed_border == 0);
  // ... plus the mask branch, on the mask data pipeline.
  REQUIRE(e.model.mask.has_value());
  CHECK(e.model.mask->roi_extractor.output_size == 14);
  CHECK(e.model.mask->mask_size == 28);
  CHECK(e.model.mask->mask_thr_binary == 0.5);
  CHECK(e.model.mask->head.num_convs == 4);
  CHECK(e.model.mask->head.norm->kind == nn::NormKind::sync_batch);
  CHECK(e.data.train.with_masks);
  CHECK(e.data.train.pipeline.mode == data::MultiscaleMode::value);
  CHECK(e.data.train.pipeline.scales.size() == 6);
  // Cascade R-CNN has no mask keys; stages that disagree on mask_size are named.
  CHECK_FALSE(cascade.model.mask.has_value());
  test::TempDir tmp;
  const auto path = tmp.dir / "mask_sizes.toml";
  std::ofstream out(path);
  out << "_base = \"" << kCascadeMaskS50 << "\"\n";
  for (int size : {28, 28, 14})
    out << "[[model.train.rcnn]]\n"
        << "assigner = { pos_iou_thr = 0.7, neg_iou_thr = 0.7, min_pos_iou = 0.7, match_low_quality = false, "
           "ignore_iof_thr = -1 }\n"
        << "sampler = { num = 512, pos_fraction = 0.25, neg_pos_ub = -1, add_gt_as_proposals = true }\n"
        << "mask_size = " << size << "\n";
  out.close();
  const std::string msg = test::error_of([&] { cfg::load_experiment(path.string()); });
  CHECK(msg.find("mask_sizes.toml:13:") != std::string::npos);
  CHECK(msg.find("must be the first stage's mask_size (28)") != std::string::npos);
}

TEST_CASE("the shapes config builds a small detector") {
  const cfg::Experiment e = cfg::load_experiment(kShapes);
  auto model = cfg::build_detector(e.model);
  MESSAGE("shapes detector: ", model->num_parameters(), " parameters");
  CHECK(model->num_parameters() > 3'000'000);
  CHECK(model->num_parameters() < 6'000'000);
  CHECK(e.data.dataset.shapes.has_value());
  CHECK(e.model.roi_head.bbox_head.num_classes == e.data.dataset.shapes->options.categories);
}

// scripts/demo.sh trains this config: it must load, and its [schedule] must be AdamW alone (the
// base's SGD keys replaced, not merged).
TEST_CASE("the demo config: AdamW over the shapes base, the demo's shapes set") {
  const cfg::Experiment e = cfg::load_experiment(kConfigs + "shapes/faster_rcnn_s18_fpn_shapes_demo.toml");
  CHECK(e.schedule.optimizer == cfg::ScheduleConfig::Optimizer::adamw);
  CHECK(e.schedule.momentum == 0); // not inherited from the SGD base
  CHECK(e.schedule.lr == 0.001);
  CHECK(e.schedule.norm_decay_mult == 0.0);
  const data::ShapesOptions& o = e.data.dataset.shapes->options;
  CHECK(o.kinds == std::vector<std::string>{"rectangle", "ellipse", "triangle", "star", "cross"});
  CHECK(o.categories == 5);
  CHECK(o.object_sizes == data::ShapesOptions::Sizes::log_uniform);
  CHECK(e.model.roi_head.bbox_head.num_classes == 5);
  CHECK(cfg::build_detector(e.model)->num_parameters() == 2'256'825);
}

TEST_CASE("the shapes Mask R-CNN config is the shapes detector plus a mask branch, on polygon masks") {
  const cfg::Experiment faster = cfg::load_experiment(kShapes);
  const cfg::Experiment e = cfg::load_experiment(kConfigs + "shapes/mask_rcnn_s18_fpn_shapes.toml");
  REQUIRE(e.model.mask.has_value());
  CHECK(e.model.mask->head.num_classes == e.data.dataset.shapes->options.categories);
  CHECK(e.model.mask->head.conv_out_channels == 64);
  CHECK(e.data.train.with_masks);
  CHECK(e.data.train.mask_format() == data::MaskFormat::polygons);
  // The mask head (4 3x3 convs + BN, the 2x2 upsample, the 1x1 logits at 64 channels) on top.
  const int64_t head = 4 * (64 * 64 * 9 + 2 * 64) + (64 * 64 * 4 + 64) + (64 * 5 + 5);
  CHECK(cfg::build_detector(e.model)->num_parameters() == cfg::build_detector(faster.model)->num_parameters() + head);
}

TEST_CASE("config errors name the file, the key and the line") {
  const auto error = [](const std::vector<std::string>& overrides) {
    return test::error_of([&] { cfg::load_experiment(kFasterS50, overrides); });
  };
  const std::string unknown = error({"model.rpn_head.anchor_scale=8"});
  CHECK(unknown.find("model.rpn_head.anchor_scale") != std::string::npos);
  CHECK(unknown.find("unknown key") != std::string::npos);
  const std::string type = error({"model.neck.num_outs=\"five\""});
  CHECK(type.find("model.neck.num_outs") != std::string::npos);
  const std::string value = error({"model.backbone.depth=34"});
  CHECK(value.find("--set model.backbone.depth=34") != std::string::npos); // the override set it
  CHECK(value.find("depth 50 or 101") != std::string::npos);
  CHECK(error({"model.roi_head.bbox_head.norm=\"GN\""}).find("SyncBN") != std::string::npos);

  // A missing required key names its table and the file that holds the table.
  const std::string text = R"([model]
type = "faster_rcnn"
num_classes = 3
[model.backbone]
depth = 50
)";
  const std::string missing = test::error_of([&] { cfg::read_model_config(cfg::parse(text, "mini.toml").table("model")); });
  CHECK(missing.find("mini.toml:4:1: model.backbone.") != std::string::npos);
  CHECK(missing.find("required key is missing") != std::string::npos);

  // An unknown key in a file that derives from a seed config: its file and line.
  test::TempDir tmp;
  const auto path = tmp.dir / "mine.toml";
  std::ofstream(path) << "_base = \"" << kFasterS50 << "\"\n[model.neck]\nout_channel = 128\n";
  const std::string typo = test::error_of([&] { cfg::load_experiment(path.string()); });
  CHECK(typo.find("mine.toml:3:1: model.neck.out_channel: unknown key") != std::string::npos);
}

TEST_CASE("MMDetection checkpoints load strictly through the key map" *
          doctest::skip(!have_torch())) {
  test::TempDir tmp;
  auto model = cfg::build_detector(cfg::load_experiment(kFasterS50).model);
  const std::string good = random_checkpoint(tmp.dir / "faster_s50.pth");
  models::load_detector_weights(*model, good);
  // The values arrived: compare with the file read back directly.
  const auto state = nn::map_keys(nn::load_pth_state_dict(good), nn::KeyMap::mmdet);
  for (const char* key : {"backbone.stem.0.weight", "neck.fpn_convs.3.conv.bias", "rpn_head.rpn_reg.weight",
                          "roi_head.bbox_head.shared_fcs.0.weight", "roi_head.bbox_head.shared_convs.2.bn.running_var"}) {
    CAPTURE(key);
    test::check_equal(model->state_dict().at(key), state.at(key));
  }
  const std::string bad = random_checkpoint(tmp.dir / "broken.pth",
                                            "--drop neck.lateral_convs.0.conv.bias --extra roi_head.mask_head.foo "
                                            "--wrong-shape rpn_head.rpn_cls.weight");
  const std::string msg = test::error_of([&] { models::load_detector_weights(*model, bad); });
  CHECK(msg.find("broken.pth") != std::string::npos);
  CHECK(msg.find("neck.lateral_convs.0.conv.bias") != std::string::npos);
  CHECK(msg.find("roi_head.mask_head.foo") != std::string::npos);
  CHECK(msg.find("rpn_head.rpn_cls.weight") != std::string::npos);
  CHECK(test::error_of([&] { models::load_detector_weights(*model, (tmp.dir / "none.pth").string()); })
            .find("no such checkpoint file") != std::string::npos);
}

TEST_CASE("MMDetection Mask R-CNN checkpoints load strictly through the key map" * doctest::skip(!have_torch())) {
  test::TempDir tmp;
  auto model = cfg::build_detector(cfg::load_experiment(kMaskS50).model);
  const std::string good = random_checkpoint(tmp.dir / "mask_s50.pth", "", "mask_s50");
  models::load_detector_weights(*model, good);
  const auto state = nn::map_keys(nn::load_pth_state_dict(good), nn::KeyMap::mmdet);
  for (const char* key : {"roi_head.mask_head.convs.0.conv.weight", "roi_head.mask_head.convs.3.bn.running_var",
                          "roi_head.mask_head.upsample.weight", "roi_head.mask_head.conv_logits.bias",
                          "roi_head.bbox_head.fc_reg.weight"}) {
    CAPTURE(key);
    test::check_equal(model->state_dict().at(key), state.at(key));
  }
  // A Faster R-CNN checkpoint lacks the mask head: every one of its 28 entries is named.
  const std::string faster = random_checkpoint(tmp.dir / "faster_s50.pth");
  const std::string msg = test::error_of([&] { models::load_detector_weights(*model, faster); });
  CHECK(msg.find("roi_head.mask_head.upsample.bias") != std::string::npos);
  CHECK(msg.find("roi_head.mask_head.convs.2.bn.num_batches_tracked") != std::string::npos);
}

TEST_CASE("an MMDetection Cascade Mask R-CNN checkpoint loads strictly (roi_head.mask_head.{0,1,2})" *
          doctest::skip(!have_torch())) {
  test::TempDir tmp;
  auto model = cfg::build_detector(cfg::load_experiment(kCascadeMaskS50).model);
  const std::string path = random_checkpoint(tmp.dir / "cascade_mask_s50.pth", "", "cascade_mask_s50");
  models::load_detector_weights(*model, path);
  const auto state = nn::map_keys(nn::load_pth_state_dict(path), nn::KeyMap::mmdet);
  for (const char* key : {"roi_head.mask_head.0.convs.0.conv.weight", "roi_head.mask_head.1.upsample.bias",
                          "roi_head.mask_head.2.conv_logits.weight", "roi_head.mask_head.2.convs.3.bn.running_var",
                          "roi_head.bbox_head.2.fc_reg.weight"}) {
    CAPTURE(key);
    test::check_equal(model->state_dict().at(key), state.at(key));
  }
  // A Cascade R-CNN checkpoint lacks the three mask heads.
  const std::string cascade = random_checkpoint(tmp.dir / "cascade_s50.pth", "", "cascade_s50");
  const std::string msg = test::error_of([&] { models::load_detector_weights(*model, cascade); });
  CHECK(msg.find("roi_head.mask_head.0.upsample.weight") != std::string::npos);
  CHECK(msg.find("roi_head.mask_head.2.convs.1.bn.num_batches_tracked") != std::string::npos);
}

TEST_CASE("an MMDetection Cascade R-CNN checkpoint loads strictly (roi_head.bbox_head.{0,1,2})" *
          doctest::skip(!have_torch())) {
  test::TempDir tmp;
  auto model = cfg::build_detector(cfg::load_experiment(kCascadeS50).model);
  const std::string path = random_checkpoint(tmp.dir / "cascade_s50.pth", "", "cascade_s50");
  models::load_detector_weights(*model, path);
  const auto state = nn::map_keys(nn::load_pth_state_dict(path), nn::KeyMap::mmdet);
  for (const char* key : {"roi_head.bbox_head.0.fc_reg.weight", "roi_head.bbox_head.1.shared_convs.3.bn.running_mean",
                          "roi_head.bbox_head.2.shared_fcs.0.weight", "roi_head.bbox_head.2.fc_cls.bias"}) {
    CAPTURE(key);
    test::check_equal(model->state_dict().at(key), state.at(key));
  }
}
