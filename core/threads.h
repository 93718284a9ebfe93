// The number of threads CPU kernels use (OpenMP, and OpenBLAS through it).
// Starts from SPLAT_NUM_THREADS when set, otherwise OpenMP's default (one per core).
#pragma once

namespace splat {

void set_num_threads(int n);
int num_threads();

} // namespace splat
