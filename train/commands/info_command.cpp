// `splat info`: the build (compiler, instruction-set flags, CUDA or emulator) and the CPU it runs
// on, so that a result or a bug report says which code produced it.
#include "core/build_info.h"
#include "core/threads.h"
#include "train/commands/command.h"

#include <cstdio>

namespace splat::train {

void add_info_command(CLI::App& app, Commands& out) {
  CLI::App* cmd = app.add_subcommand("info", "Print how this binary was built and the CPU's features");
  out.push_back({cmd, [] {
    const BuildInfo b = build_info();
    std::printf("compiler: %s\n", b.compiler.c_str());
    std::printf("host code flags: %s (AVX-512 code: %s)\n", b.arch_flags.empty() ? "(none)" : b.arch_flags.c_str(),
                compiled_with_avx512() ? "yes" : "no");
    std::printf("build type: %s\n", b.build_type.c_str());
    std::printf("CUDA: %s\n", b.cuda ? "nvcc build" : "host emulator");
    std::printf("CPU features: %s\n", cpu_features().c_str());
    std::printf("threads: %d\n", num_threads());
  }});
}

} // namespace splat::train
