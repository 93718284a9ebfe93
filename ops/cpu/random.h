// CPU kernels for random fills. Each writes element i (row-major over out.shape(), any strides,
// no expanded dims) from the Philox block at counter st.offset + i (core/philox.h), so the result
// does not depend on how the work is split over threads. Arguments were checked by the caller;
// the caller reserved numel(out) counters starting at st.offset.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace splat::ops::cpu {

// out: floating.
void uniform(const Tensor& out, PhiloxState st, double lo, double hi);
void normal(const Tensor& out, PhiloxState st, double mean, double std);
// out: numeric; range = high - low as an unsigned count (> 0).
void randint(const Tensor& out, PhiloxState st, int64_t low, uint64_t range);
// out: (n,), numeric. A permutation of 0..n-1 ordered by the 64-bit keys of blocks offset + i.
void randperm(const Tensor& out, PhiloxState st);

} // namespace splat::ops::cpu
