// Small tensor helpers for the data layer, which cannot use ops/ (design.md section 1): argument
// checks for CPU u8 images and masks, and a dense copy of a strided CPU tensor.
#pragma once

#include "core/error.h"
#include "core/tensor.h"

#include <cstring>
#include <string_view>

namespace splat::data {

// Throws unless t is a defined CPU tensor of this dtype with `ndim` dims; `what` names the
// argument: "resize_bilinear: image must be a cpu u8 tensor with 3 dims, got f32 [2, 3] on cuda:0".
inline void check_cpu_tensor(std::string_view op, std::string_view what, const Tensor& t,
                             DType dtype, int64_t ndim) {
  SPLAT_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
  SPLAT_CHECK(t.device().is_cpu() && t.dtype() == dtype && t.dim() == ndim, op, ": ", what,
              " must be a cpu ", dtype_name(dtype), " tensor with ", ndim, " dims, got ",
              dtype_name(t.dtype()), " ", shape_str(t.shape()), " on ", t.device());
}

// t itself when contiguous, else a contiguous copy (CPU tensors of any dtype).
inline Tensor contiguous_cpu(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  const auto item = static_cast<int64_t>(t.itemsize());
  const auto* src = static_cast<const char*>(t.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  const int64_t nd = t.dim();
  Shape idx(static_cast<size_t>(nd), 0);
  for (int64_t i = 0, n = t.numel(); i < n; ++i) {
    int64_t off = 0;
    for (int64_t d = 0; d < nd; ++d) off += idx[d] * t.strides()[d];
    std::memcpy(dst + i * item, src + off * item, static_cast<size_t>(item));
    for (int64_t d = nd - 1; d >= 0 && ++idx[d] == t.shape()[d]; --d) idx[d] = 0;
  }
  return out;
}

} // namespace splat::data
