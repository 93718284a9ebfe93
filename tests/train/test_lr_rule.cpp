// The lr's batch rule (train/trainer/lr_rule.h): processes x batch_size must be the config's
// schedule.total_batch, or the config asks for linear scaling; a mismatch is one clear error.
#include "tests/helpers.h"
#include "train/config/experiment.h"
#include "train/trainer/lr_rule.h"

using namespace splat;
using namespace splat::train;

namespace {

const std::string kCoco = SPLAT_SOURCE_DIR "/configs/resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";

} // namespace

TEST_CASE("the seed configs' lr is for 8 processes x 2 images; another total batch needs scale_lr") {
  const config::Experiment exp = config::load_experiment(kCoco);
  REQUIRE(exp.schedule.total_batch == 16);
  REQUIRE(exp.data.train.batch_size == 2);
  CHECK(exp.schedule.scale_lr == config::ScheduleConfig::ScaleLr::none);
  CHECK(lr_scale(exp.schedule, 8, 2, exp.path) == 1.0);
  CHECK(lr_scale(exp.schedule, 4, 4, exp.path) == 1.0);
  CHECK_THROWS_WITH_AS(lr_scale(exp.schedule, 1, 2, exp.path),
                       doctest::Contains("schedule.lr 0.02 is for schedule.total_batch = 16 images per step, but 1 "
                                         "process x data.train.batch_size 2 = 2; run on 8 processes, set "
                                         "schedule.total_batch = 2 with an lr for it, or set schedule.scale_lr = "
                                         "\"linear\" (lr 0.0025)"),
                       Error);

  const config::Experiment linear = config::load_experiment(kCoco, std::vector<std::string>{"schedule.scale_lr=\"linear\""});
  CHECK(linear.schedule.scale_lr == config::ScheduleConfig::ScaleLr::linear);
  CHECK(lr_scale(linear.schedule, 2, 2, exp.path) == 0.25);
  CHECK(lr_scale(linear.schedule, 16, 2, exp.path) == 2.0);
  CHECK(lr_scale(linear.schedule, 8, 2, exp.path) == 1.0);

  CHECK_THROWS_WITH_AS(config::load_experiment(kCoco, std::vector<std::string>{"schedule.scale_lr=\"sqrt\""}),
                       doctest::Contains("schedule.scale_lr"), Error);
}
