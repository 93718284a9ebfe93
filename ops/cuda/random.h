// CUDA kernels for random fills: the contract of ops/cpu/random.h. Element i (row-major over
// out.shape(), any strides, no expanded dims) comes from the Philox block at counter
// st.offset + i through the same SPLAT_HD functions of core/philox.h, so a CUDA device draws the
// numbers the CPU draws for one seed. The caller reserved numel(out) counters at st.offset.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace splat::ops::cuda {

// out: floating.
void uniform(const Tensor& out, PhiloxState st, double lo, double hi);
void normal(const Tensor& out, PhiloxState st, double mean, double std);
// out: numeric; range = high - low as an unsigned count (> 0).
void randint(const Tensor& out, PhiloxState st, int64_t low, uint64_t range);
// out: (n,), numeric. A permutation of 0..n-1 ordered by the 64-bit keys of blocks offset + i.
void randperm(const Tensor& out, PhiloxState st);

} // namespace splat::ops::cuda
