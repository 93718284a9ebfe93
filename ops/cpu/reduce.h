// CPU reduction kernels. `reduced[d]` marks the input dims folded together; `out` is contiguous
// with the kept dims in order (either keepdim layout works, as size-1 dims add nothing). Every
// kernel overwrites out. x may have any strides.
#pragma once

#include "core/tensor.h"

#include <string>
#include <string_view>
#include <vector>

namespace splat::ops::cpu {

enum class ReduceOp : uint8_t { sum, prod, mean, max, min, all, any };

// The profiler's row names of the reduction kernel, "reduce.sum" (ops/device_dispatch.h).
inline std::string kernel_label(std::string_view kernel, ReduceOp op) {
  static constexpr const char* kNames[] = {"sum", "prod", "mean", "max", "min", "all", "any"};
  return std::string(kernel) + "." + kNames[static_cast<int>(op)];
}

// out = op over the reduced dims. out dtype: i64 for sum/prod of integral or bool input,
// bool for all/any, else x's dtype. mean needs a floating x.
void reduce(ReduceOp op, const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);
// out = variance (Welford in double), dividing by n - correction.
void var(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced, int64_t correction);
// values/indices = max (is_max) or min along dim; first occurrence wins ties, NaN beats numbers.
void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim);

} // namespace splat::ops::cpu
