// `splat bench ...`: throughput measurements (never tests). Each benchmark prints one line per
// configuration so scripts/bench_vs_torch.py can parse and compare it.
#pragma once

#include <cstdint>
#include <vector>

namespace splat::train {

// Square f32 GEMMs: prints "matmul n=N gflops=G threads=T" per size.
void bench_matmul(const std::vector<int64_t>& sizes, double min_seconds);

} // namespace splat::train
