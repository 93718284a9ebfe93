// Learning-rate schedules against mmengine's own schedulers (scripts/fixtures/mmdet_lr_schedule.py)
// and the optimizer and schedule a config's [schedule] builds.
#include "core/safetensors.h"
#include "tests/helpers.h"
#include "train/config/config_file.h"
#include "train/config/experiment.h"
#include "train/optim/adamw.h"
#include "train/optim/from_config.h"
#include "train/optim/sgd.h"

#include <cmath>

using namespace splat;
using namespace splat::train;

TEST_CASE("LrSchedule equals mmengine's chained schedulers at every iteration") {
  const auto f = load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/mmdet_lr_schedule.safetensors").tensors;
  using P = LrScheduleOptions::Policy;
  const std::pair<std::string, LrScheduleOptions> cases[] = {
      {"step", {.base_lr = 0.02, .iters_per_epoch = 100, .epochs = 12, .warmup_iters = 500,
                .warmup_ratio = 0.001, .policy = P::step, .milestones = {8, 11}, .gamma = 0.1}},
      {"cosine", {.base_lr = 0.01, .iters_per_epoch = 20, .epochs = 5, .warmup_iters = 50,
                  .warmup_ratio = 0.001, .policy = P::cosine, .min_lr_ratio = 0}},
      {"cosine_min", {.base_lr = 0.01, .iters_per_epoch = 20, .epochs = 5, .policy = P::cosine,
                      .min_lr_ratio = 0.1}},
  };
  for (const auto& [name, options] : cases) {
    CAPTURE(name);
    const LrSchedule schedule(options);
    const Tensor expected = f.at(name + ".lr");
    REQUIRE(expected.numel() == schedule.total_iters());
    for (int64_t i = 0; i < schedule.total_iters(); ++i) {
      CAPTURE(i);
      const double want = expected.data<double>()[i];
      REQUIRE(std::abs(schedule.lr(i) - want) <= 1e-12 * want + 1e-18);
    }
  }
  // Spot values by hand (the 1x shape): the first iteration, the last of the warm-up, the
  // first of epochs 8 and 11.
  const LrSchedule s(cases[0].second);
  CHECK(s.lr(0) == doctest::Approx(0.02 * 0.001));
  CHECK(s.lr(499) == doctest::Approx(0.02));
  CHECK(s.lr(799) == doctest::Approx(0.02));
  CHECK(s.lr(800) == doctest::Approx(0.002));
  CHECK(s.lr(1100) == doctest::Approx(0.0002));
  CHECK_THROWS_WITH_ALL(LrSchedule({.warmup_iters = 1}), "warmup_iters >= 2");
}

TEST_CASE("make_optimizer and make_lr_schedule follow the config's [schedule]") {
  const std::string shapes = SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml";
  const auto exp = config::load_experiment(shapes);
  auto model = config::build_detector(exp.model);
  auto opt = make_optimizer(exp.schedule, *model, 0.5);
  CHECK(dynamic_cast<Sgd*>(opt.get()) != nullptr);
  CHECK(opt->lr() == doctest::Approx(0.01));
  size_t n = 0;
  for (const ParamGroup& g : opt->groups()) n += g.params.size();
  CHECK(n == model->parameters().size()); // nothing frozen in the shapes config
  const LrSchedule lr = make_lr_schedule(exp.schedule, 10, 0.5);
  CHECK(lr.lr(0) == doctest::Approx(0.01 * 0.001));
  CHECK(lr.lr(100) == doctest::Approx(0.001)); // epoch 10: the first milestone
  CHECK(lr.total_iters() == 160);

  const char* adamw = R"(
[schedule]
optimizer = "AdamW"
lr = 0.001
total_batch = 4
betas = [0.9, 0.999]
eps = 1e-8
weight_decay = 0.05
norm_decay_mult = 0.0
bias_decay_mult = 0.0
grad_clip = 10
warmup = "none"
policy = "cosine"
min_lr_ratio = 0.01
epochs = 3
checkpoint_interval = 1
eval_interval = 1
)";
  const config::ScheduleConfig s = config::read_schedule_config(config::parse(adamw, "adamw.toml").table("schedule"));
  auto adam = make_optimizer(s, *model);
  CHECK(dynamic_cast<AdamW*>(adam.get()) != nullptr);
  REQUIRE(adam->groups().size() == 2);
  CHECK(adam->groups()[1].weight_decay == 0);
  CHECK(make_lr_schedule(s, 10).lr(15) == doctest::Approx(0.001 * (0.01 + 0.99 * 0.5))); // half way down
}
