// Random tensors from the counter-based Philox generator (core/philox.h states the contract:
// element i of a fill, in row-major order of the shape, uses counter offset + i of the
// generator's stream, so results depend on the seed only, never on strides or thread count).
//
// Every function takes an optional Generator as its last argument; nullptr means
// default_generator(). Each call reserves numel counters (n for randperm), so consecutive calls
// draw different numbers and manual_seed(s) replays the same sequence.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace splat::ops {

// Uniform in [0, 1); floating dtypes only.
Tensor rand(Shape shape, TensorOptions opts = {}, Generator* gen = nullptr);
// Standard normal; floating dtypes only.
Tensor randn(Shape shape, TensorOptions opts = {}, Generator* gen = nullptr);
// Uniform integers in [low, high) (high > low); any numeric dtype that holds every value.
// Beware: an explicit `{}` for opts means TensorOptions{}, i.e. f32; the overloads without opts
// keep i64 when only a generator is passed.
Tensor randint(int64_t low, int64_t high, Shape shape, TensorOptions opts = {.dtype = DType::i64},
               Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, Shape shape, Generator* gen);
// A random permutation of 0..n-1, shape (n,): the indices sorted by one random 64-bit key each
// (ties, if any, by index). Any numeric dtype that holds n - 1.
Tensor randperm(int64_t n, TensorOptions opts = {.dtype = DType::i64}, Generator* gen = nullptr);
Tensor randperm(int64_t n, Generator* gen);

// In place, any strides (no expanded dims), floating dtypes. Return t.
// Uniform in [lo, hi); lo <= hi, both finite (lo == hi fills lo).
Tensor& uniform_(Tensor& t, double lo = 0, double hi = 1, Generator* gen = nullptr);
// mean + std * N(0, 1); std >= 0, both finite.
Tensor& normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);

} // namespace splat::ops
