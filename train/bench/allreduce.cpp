// `splat bench allreduce`: all-reduce (sum, f32) bandwidth for sizes 1 KB .. 256 MB in the
// nccl-tests convention, so the same command measures NCCL on GPUs and MPI here:
// algbw = bytes / time, busbw = algbw * 2 (n - 1) / n (what each link carries in a ring).
// Run it under `mpirun -np N splat bench allreduce`; rank 0 prints one line per size.
#include "core/cuda/runtime.h"
#include "ops/copy.h"
#include "train/bench/bench.h"
#include "train/commands/command.h"
#include "train/distributed.h"

#include <cstdio>
#include <memory>

namespace splat::train {

void add_bench_allreduce_command(CLI::App& bench, Commands& out) {
  struct Options {
    int64_t min_bytes = 1 << 10, max_bytes = int64_t(256) << 20;
    std::string device = "cpu";
    int iters = 5;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand("allreduce", "All-reduce bus bandwidth (nccl-tests convention)");
  cmd->add_option("--min-bytes", o->min_bytes, "Smallest message")->check(CLI::PositiveNumber);
  cmd->add_option("--max-bytes", o->max_bytes, "Largest message (sizes double)")->check(CLI::PositiveNumber);
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--iters", o->iters, "Timed repetitions per size (the best is reported)")->check(CLI::PositiveNumber);
  out.push_back({cmd, [o] {
    const auto comm = make_communicator();
    const Device device = o->device == "cuda" ? Device::cuda(comm->local_rank()) : Device::cpu();
    const int n = comm->world_size();
    if (comm->rank() == 0)
      std::printf("# all_reduce sum f32, %d ranks, backend %s, device %s\n# %12s %12s %12s %12s\n", n,
                  std::string(comm->backend()).c_str(), o->device.c_str(), "bytes", "time_us", "algbw_GB/s",
                  "busbw_GB/s");
    for (int64_t bytes = o->min_bytes; bytes <= o->max_bytes; bytes *= 2) {
      Tensor t = ops::ones({bytes / 4}, {.device = device});
      const double s = best_seconds([&] {
        comm->all_reduce(t, ReduceOp::sum);
        if (device.is_cuda()) cuda::device_synchronize();
        comm->barrier();
      }, 0, o->iters);
      const double algbw = bytes / s / 1e9, busbw = algbw * 2.0 * (n - 1) / n;
      if (comm->rank() == 0) std::printf("  %12lld %12.1f %12.3f %12.3f\n", static_cast<long long>(bytes), s * 1e6, algbw, busbw);
    }
    std::fflush(stdout);
  }});
}

} // namespace splat::train
