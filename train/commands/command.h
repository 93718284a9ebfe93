// How subcommands join the `splat` binary (design.md section 8): every file that implements
// commands has one add_* function that declares the commands and their options on the CLI11
// tree and returns what runs when one of them is chosen. main.cpp only calls these.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace splat::train {

struct Command {
  CLI::App* cli;              // the subcommand; run() is called when it was parsed
  std::function<void()> run;  // owns (captures) the parsed options
};
using Commands = std::vector<Command>;

// `splat bench matmul|conv` (train/bench/bench.cpp); bench is the `bench` subcommand.
void add_bench_commands(CLI::App& bench, Commands& out);
// `splat demo` (train/commands/demo.cpp).
void add_demo_command(CLI::App& app, Commands& out);
// `splat make-shapes`, `splat browse-dataset`, `splat bench data` (train/commands/data_commands.cpp).
void add_data_commands(CLI::App& app, CLI::App& bench, Commands& out);
// `splat convert` (train/commands/convert_command.cpp).
void add_convert_command(CLI::App& app, Commands& out);
// `splat classify` (train/commands/classify_command.cpp).
void add_classify_command(CLI::App& app, Commands& out);
// `splat train` (train/commands/train_command.cpp).
void add_train_command(CLI::App& app, Commands& out);
// `splat test` (train/commands/test_command.cpp).
void add_test_command(CLI::App& app, Commands& out);
// `splat infer` (train/commands/infer_command.cpp).
void add_infer_command(CLI::App& app, Commands& out);
// `splat eval` (train/commands/eval_command.cpp).
void add_eval_command(CLI::App& app, Commands& out);
// `splat info` (train/commands/info_command.cpp).
void add_info_command(CLI::App& app, Commands& out);

} // namespace splat::train
