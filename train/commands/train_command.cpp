// `splat train CONFIG [--data DIR] [--work-dir DIR] [--resume CKPT] ...`, one process or one rank
// of `mpirun -np N splat train ...`: train/trainer/trainer.h does the work; this file declares
// the options. An error on any rank ends the whole job at once (train::abort_job), naming the
// rank, so no other rank waits forever in a collective.
#include "train/commands/command.h"
#include "train/distributed.h"
#include "train/trainer/trainer.h"

#include <cstdio>
#include <exception>
#include <memory>

namespace splat::train {

void add_train_command(CLI::App& app, Commands& out) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a detector as its config says");
  cmd->add_option("config", o->config, "Detector config (configs/*.toml)")->required();
  cmd->add_option("--data", o->data, "Dataset folder (the shapes dir or the COCO root)");
  cmd->add_option("--work-dir", o->work_dir, "Logs and checkpoints (default work_dirs/<config name>)");
  cmd->add_option("--resume", o->resume, "Continue from this training checkpoint");
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--log-interval", o->log_interval, "Iterations per log line")->check(CLI::PositiveNumber);
  cmd->add_option("--max-iters", o->max_iters, "Stop after this many iterations in all (with a checkpoint)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("!--no-validate", o->validate, "No COCO evaluation at the end of epochs");
  cmd->add_option("--set", o->overrides, "Config overrides key.path=value (repeatable)");
  out.push_back({cmd, [o] {
    TrainSummary s;
    try {
      s = run_training(*o);
    } catch (const std::exception& e) {
      abort_job(e.what());
    }
    if (make_communicator()->rank() != 0) return;
    std::printf("trained %lld iterations in %.1f min; last checkpoint %s\n",
                static_cast<long long>(s.iterations), s.seconds / 60, s.last_checkpoint.c_str());
    if (s.evaluation)
      std::printf("bbox AP %.3f, AP50 %.3f (epoch-end evaluation on the val split)\n", s.evaluation->stats[0],
                  s.evaluation->stats[1]);
    if (s.segm_evaluation)
      std::printf("segm AP %.3f, AP50 %.3f\n", s.segm_evaluation->stats[0], s.segm_evaluation->stats[1]);
  }});
}

} // namespace splat::train
