// Copies, casts, fills and the tensor factories that are not random (see ops/random.h).
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::ops {

// Writes src into dst elementwise; src broadcasts to dst's shape and is cast to dst's dtype.
// dst may have any strides but no expanded dims. Returns dst.
Tensor& copy_(Tensor& dst, const Tensor& src);
// Sets every element of t to value (cast to t's dtype). Returns t.
Tensor& fill_(Tensor& t, double value);

// t itself when already contiguous, else a dense copy.
Tensor contiguous(const Tensor& t);
// A dense copy that shares nothing with t.
Tensor clone(const Tensor& t);
// t converted to another dtype (t itself when it already has it).
Tensor to(const Tensor& t, DType dtype);
// t on another device (t itself when already there).
Tensor to(const Tensor& t, Device device);

Tensor empty(Shape shape, TensorOptions opts = {});
Tensor zeros(Shape shape, TensorOptions opts = {});
Tensor ones(Shape shape, TensorOptions opts = {});
Tensor full(Shape shape, double value, TensorOptions opts = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// A 0-d tensor holding value.
Tensor scalar_tensor(double value, TensorOptions opts = {});
// [start, end) in steps of step; integer dtypes get exact integer steps.
Tensor arange(double start, double end, double step = 1, TensorOptions opts = {.dtype = DType::i64});
Tensor arange(double end, TensorOptions opts = {.dtype = DType::i64});
// steps points from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, TensorOptions opts = {});
// n x m identity (m = n when omitted).
Tensor eye(int64_t n, int64_t m = -1, TensorOptions opts = {});

// A tensor holding a copy of values with the given shape (numel(shape) == values.size(); {} makes
// a 0-d tensor from one value). Factories that fill by formula (arange, linspace, eye) and this
// one build on the host and copy to the device.
template <class T> Tensor from_vector(const std::vector<T>& values, Shape shape, Device device = Device::cpu());

} // namespace splat::ops
