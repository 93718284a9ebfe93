// Inputs for the detection-op tests: random and integer-grid boxes, scores with ties.
#pragma once

#include "core/tensor.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/view.h"

#include <vector>

namespace splat::test {

// n boxes (n, 4) with corners uniform in [0, extent)^2 and sides in [min_side, min_side +
// max_extra).
inline Tensor random_boxes(int64_t n, double extent = 100, double max_extra = 40,
                           DType dtype = DType::f32, double min_side = 0.5) {
  const Tensor xy = ops::mul(ops::rand({n, 2}, {.dtype = DType::f64}), extent);
  const Tensor wh =
      ops::add(ops::mul(ops::rand({n, 2}, {.dtype = DType::f64}), max_extra), min_side);
  return ops::to(ops::cat({xy, ops::add(xy, wh)}, 1), dtype);
}

// n boxes with top-left corners on the even integers 0..10 and sides in {2, 4, 6, 8}: many
// exactly equal IoUs (some exactly 0.5), identical and nested boxes.
inline Tensor grid_boxes(int64_t n, DType dtype = DType::f32) {
  const Tensor xy = ops::mul(ops::randint(0, 6, {n, 2}, {.dtype = DType::f64}), 2.0);
  const Tensor wh = ops::mul(ops::randint(1, 5, {n, 2}, {.dtype = DType::f64}), 2.0);
  return ops::to(ops::cat({xy, ops::add(xy, wh)}, 1), dtype);
}

// n scores in {0, 1/levels, ..., (levels - 1)/levels}: many ties.
inline Tensor tied_scores(int64_t n, int64_t levels = 4, DType dtype = DType::f32) {
  return ops::to(ops::div(ops::randint(0, levels, {n}, {.dtype = DType::f64}), double(levels)),
                 dtype);
}

inline Tensor boxes_of(const std::vector<double>& v, DType dtype = DType::f64) {
  return ops::to(ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}), dtype);
}

} // namespace splat::test
