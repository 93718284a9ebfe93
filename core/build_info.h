// What this binary was built with and what the machine it runs on offers: the compiler, the
// instruction-set flags of the host code (meson.build, option `cpu`) and the CPU's vector
// features. `splat info` prints both, and scripts/test.sh shows them before the tests, so a
// report from another machine says which code was tested.
#pragma once

#include <string>

namespace splat {

struct BuildInfo {
  std::string compiler;   // e.g. "gcc 12.2.0"
  std::string arch_flags; // e.g. "-march=x86-64-v3"
  std::string build_type; // meson's buildtype
  bool cuda;              // the nvcc build (else CUDA kernels run on the host emulator)
};
BuildInfo build_info();

// The vector features of this CPU that matter for the host code, e.g. "sse4.2 avx avx2 fma
// avx512f"; empty on other architectures.
std::string cpu_features();

// Whether the compiled host code itself uses AVX-512 instructions.
bool compiled_with_avx512();

} // namespace splat
