// How a (B, rows, cols) operand is handed to a row-major GEMM (OpenBLAS on the CPU, cuBLAS on
// CUDA): as-is when its rows have unit stride, as a transpose when its columns do, otherwise as a
// dense copy. Transposed views (weights in Linear backward) thus multiply without a copy.
#pragma once

#include "core/tensor.h"
#include "ops/copy.h"

#include <algorithm>

namespace splat::ops {

struct GemmOperand {
  Tensor t;
  bool transposed;  // stored as the row-major transpose (unit stride along rows)
  int64_t ld;       // the non-unit stride
};

inline GemmOperand as_gemm_operand(const Tensor& x) {
  const int64_t rows = x.shape()[1], cols = x.shape()[2];
  const int64_t sr = x.strides()[1], sc = x.strides()[2];
  if (sc == 1 && sr >= std::max<int64_t>(cols, 1)) return {x, false, sr};
  if (sr == 1 && sc >= std::max<int64_t>(rows, 1)) return {x, true, sc};
  // Degenerate strides (size-1 dims, expanded rows) or fully strided: make it dense.
  return {contiguous(x.detach()), false, std::max<int64_t>(cols, 1)};
}

} // namespace splat::ops
