#include "train/bench/bench.h"

#include "train/commands/command.h"

#include "core/threads.h"
#include "ops/matmul.h"
#include "ops/random.h"

#include <cstdio>
#include <memory>

namespace splat::train {

void bench_matmul(const std::vector<int64_t>& sizes, double min_seconds) {
  for (int64_t n : sizes) {
    const Tensor a = ops::randn({n, n}), b = ops::randn({n, n});
    const double s = best_seconds([&] { (void)ops::mm(a, b); }, min_seconds);
    const double gflops = 2.0 * n * n * n / s / 1e9;
    std::printf("matmul n=%lld gflops=%.1f threads=%d\n", static_cast<long long>(n), gflops,
                num_threads());
    std::fflush(stdout);
  }
}

void add_bench_commands(CLI::App& bench, Commands& out) {
  struct Options {
    std::vector<int64_t> sizes{512, 1024, 2048};
    double min_seconds = 1.0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* mm = bench.add_subcommand("matmul", "Square f32 GEMM GFLOP/s");
  mm->add_option("--sizes", o->sizes, "Matrix sizes")->check(CLI::PositiveNumber);
  mm->add_option("--min-seconds", o->min_seconds, "Minimum timed seconds per size");
  out.push_back({mm, [o] { bench_matmul(o->sizes, o->min_seconds); }});
  add_bench_conv_command(bench, out);
  add_bench_model_command(bench, out);
  add_bench_detector_command(bench, out);
  add_bench_allreduce_command(bench, out);
  add_bench_eval_command(bench, out);
}

} // namespace splat::train
