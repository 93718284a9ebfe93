// Shared test utilities: reading tensors back as vectors, tolerance comparisons that report the
// worst element, and non-contiguous copies of inputs.
#pragma once

#include "core/cuda/runtime.h"
#include "core/tensor.h"
#include "ops/copy.h"
#include "ops/view.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace splat::test {

// For decorators: TEST_CASE("..." * doctest::skip(splat::test::no_cuda_device())). True in the
// real (nvcc) build on a machine without a GPU; the emulated build always has its devices.
inline bool no_cuda_device() { return cuda::device_count() == 0; }
// The CPU, then the CUDA device when there is one (the emulated build always has it): for test
// cases that check both and must still run their CPU half in the real build without a GPU.
inline std::vector<Device> cpu_and_cuda() {
  if (no_cuda_device()) return {Device::cpu()};
  return {Device::cpu(), Device::cuda(0)};
}

// The elements of t in row-major order, converted to T (any strides, any device).
template <class T> std::vector<T> to_vector(const Tensor& t) {
  const Tensor c = ops::contiguous(ops::to(t, Device::cpu()));
  std::vector<T> out(static_cast<size_t>(c.numel()));
  dispatch<DTypeSet::all>(c.dtype(), "to_vector", [&]<class S>() {
    const S* p = c.data<S>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(p[i]);
  });
  return out;
}

// Checks shape equality and |a - e| <= atol + rtol * |e| for every element (NaNs must match).
// On failure reports the worst element's index and both values.
inline void check_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                        double atol = 1e-6) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), "shape ", shape_str(actual.shape()),
                  " vs expected ", shape_str(expected.shape()));
  const auto a = to_vector<double>(actual);
  const auto e = to_vector<double>(expected);
  double worst = 0;
  size_t worst_i = 0;
  bool bad = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i]) || std::isnan(a[i])) {
      if (std::isnan(e[i]) != std::isnan(a[i])) { bad = true; worst_i = i; worst = INFINITY; }
      continue;
    }
    const double excess = std::fabs(a[i] - e[i]) - (atol + rtol * std::fabs(e[i]));
    if (excess > 0 && excess >= worst) { bad = true; worst = excess; worst_i = i; }
  }
  CHECK_MESSAGE(!bad, "worst element at flat index ", worst_i, ": got ",
                bad ? a[worst_i] : 0.0, ", expected ", bad ? e[worst_i] : 0.0);
}

// Exact equality of shape, dtype and values.
inline void check_equal(const Tensor& actual, const Tensor& expected) {
  REQUIRE_MESSAGE(actual.dtype() == expected.dtype(), "dtype ", dtype_name(actual.dtype()),
                  " vs expected ", dtype_name(expected.dtype()));
  check_close(actual, expected, 0, 0);
}

// Coordinates of row-major position flat in shape, and back.
inline Shape unravel(const Shape& shape, int64_t flat) {
  Shape c(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    c[d] = flat % shape[d];
    flat /= shape[d];
  }
  return c;
}
inline int64_t ravel(const Shape& shape, const Shape& coords) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + coords[d];
  return flat;
}

// Same values as t, but with strides that are not contiguous (every other element of a larger
// buffer), so kernels see a genuinely strided input.
inline Tensor noncontiguous(const Tensor& t) {
  Shape big = t.shape();
  if (big.empty()) return t;
  big.back() *= 2;
  Tensor buf = ops::zeros(big, {t.dtype(), t.device()});
  Tensor view = ops::slice(buf, -1, 0, big.back(), 2);
  ops::copy_(view, t);
  return view;
}

// The message of the splat::Error f throws ("" if none), for checking a message exactly.
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Asserts that expr throws splat::Error whose message contains every given fragment.
#define CHECK_THROWS_WITH_ALL(expr, ...)                                                          \
  do {                                                                                             \
    std::string msg_;                                                                              \
    try {                                                                                          \
      (void)(expr);                                                                                \
    } catch (const ::splat::Error& e_) {                                                          \
      msg_ = e_.what();                                                                            \
    }                                                                                              \
    REQUIRE_MESSAGE(!msg_.empty(), "expected splat::Error from " #expr);                          \
    for (const std::string& frag_ : std::initializer_list<std::string>{__VA_ARGS__})              \
      CHECK_MESSAGE(msg_.find(frag_) != std::string::npos, "message '", msg_,                     \
                    "' lacks '", frag_, "'");                                                      \
  } while (0)

} // namespace splat::test
