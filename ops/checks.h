// Argument checks shared by ops. Each throws splat::Error naming the op and the offending values.
#pragma once

#include "core/tensor.h"

#include <initializer_list>
#include <string_view>

namespace splat::ops {

// Every tensor is defined and all live on one device: "add: tensors on different devices
// (argument 0 on cpu, argument 1 on cuda:0)".
void check_same_device(std::string_view op, std::initializer_list<const Tensor*> tensors);

// Both tensors have one dtype: "add: dtype mismatch (f32 vs f64)".
void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b);

// The tensor can be written in place: no two indices alias one element (expanded dims).
void check_writable(std::string_view op, const Tensor& t);

} // namespace splat::ops
