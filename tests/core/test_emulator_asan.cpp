// The ASan+UBSan configuration must catch a kernel that writes past the end of device memory
// (device memory is heap memory in the emulator). The faulty kernel runs in a child process
// (this test binary re-run on one test case), which AddressSanitizer must abort with a report.
#include "core/cuda/kernel.cuh"
#include "core/cuda/runtime.h"
#include "tests/helpers.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

constexpr const char* kChildEnv = "SPLAT_TEST_OOB_CHILD";

// One element too far: thread n writes out[n] in a buffer of n floats.
__global__ void write_one_past_the_end(float* out, int n) {
  if (static_cast<int>(threadIdx.x) <= n) out[threadIdx.x] = 1.f;
}

} // namespace

TEST_CASE("emulator (child): out-of-bounds kernel write" * doctest::skip(std::getenv(kChildEnv) == nullptr)) {
  const int n = 16;
  auto* buf = static_cast<float*>(splat::cuda::device_malloc(n * sizeof(float)));
  splat::cuda::launch(write_one_past_the_end, {1, 32}, buf, n);
  splat::cuda::device_free(buf);
}

TEST_CASE("emulator: ASan catches an out-of-bounds write in a kernel" * doctest::skip(!kAsan)) {
  const std::string cmd = std::string(kChildEnv) + "=1 /proc/" + std::to_string(getpid()) +
                          "/exe -tc='emulator (child): out-of-bounds kernel write' 2>&1";
  FILE* child = popen(cmd.c_str(), "r");
  REQUIRE(child != nullptr);
  std::string output;
  char buf[4096];
  while (size_t got = fread(buf, 1, sizeof buf, child)) output.append(buf, got);
  const int status = pclose(child);
  const bool failed = WIFEXITED(status) && WEXITSTATUS(status) != 0;
  CHECK_MESSAGE(failed, "child exit status ", status);
  CHECK_MESSAGE(output.find("heap-buffer-overflow") != std::string::npos, output);
  CHECK_MESSAGE(output.find("write_one_past_the_end") != std::string::npos, output);
}
