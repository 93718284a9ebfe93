// The `splat` command. Subcommands grow with the roadmap (design.md section 8) and register
// themselves through train/command.h; errors print one line and exit non-zero.
#include "core/threads.h"
#include "train/commands/command.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"splat: ResNeSt and R-CNN detectors from scratch in C++20/CUDA"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads (default: SPLAT_NUM_THREADS or all cores)")
      ->check(CLI::PositiveNumber);
  CLI::App* bench = app.add_subcommand("bench", "Measure throughput");
  bench->require_subcommand(1);

  splat::train::Commands commands;
  splat::train::add_bench_commands(*bench, commands);
  splat::train::add_demo_command(app, commands);
  splat::train::add_data_commands(app, *bench, commands);
  splat::train::add_convert_command(app, commands);
  splat::train::add_classify_command(app, commands);
  splat::train::add_train_command(app, commands);
  splat::train::add_test_command(app, commands);
  splat::train::add_infer_command(app, commands);
  splat::train::add_eval_command(app, commands);
  splat::train::add_info_command(app, commands);

  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) splat::set_num_threads(threads);
    for (const auto& c : commands)
      if (c.cli->parsed()) c.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "splat: error: %s\n", e.what());
    return 1;
  }
}
