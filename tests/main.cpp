// The doctest entry point shared by every suite executable.
#define DOCTEST_CONFIG_IMPLEMENT
#include "core/cuda/runtime.h"

#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char** argv) {
  // CUDA test cases carry a skip decorator when no GPU is present; say so once, visibly.
  if (splat::cuda::device_count() == 0)
    std::printf("[splat] no CUDA device: CUDA test cases are skipped, CPU cases run\n");
  doctest::Context context(argc, argv);
  return context.run();
}
