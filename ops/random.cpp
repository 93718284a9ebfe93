#include "ops/random.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/cpu/random.h"
#include "ops/cuda/random.h"
#include "ops/device_dispatch.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace splat::ops {
namespace {

PhiloxState reserve(Generator* gen, int64_t n) {
  return (gen != nullptr ? *gen : default_generator()).reserve_state(static_cast<uint64_t>(n));
}

void check_floating(std::string_view op, DType t) {
  SPLAT_CHECK(is_floating(t), op, ": expected a floating dtype, got ", t,
              is_integral(t) ? " (use randint for random integers)" : "");
}

// Every integer in [low, high) must be exactly representable in dtype.
void check_fits(std::string_view op, int64_t low, int64_t high, DType dtype) {
  dispatch<DTypeSet::numeric>(dtype, op, [&]<class T>() {
    using L = std::numeric_limits<T>;
    const double exact = std::ldexp(1.0, L::digits); // floats hold every integer up to 2^digits
    const double min = L::is_integer ? static_cast<double>(L::lowest()) : -exact;
    const double max = L::is_integer ? static_cast<double>(L::max()) : exact;
    SPLAT_CHECK(static_cast<double>(low) >= min && static_cast<double>(high - 1) <= max, op,
                ": values in [", low, ", ", high, ") do not fit dtype ", dtype,
                L::is_integer ? ", which holds [" : ", which holds the integers of [",
                static_cast<int64_t>(min), ", ", static_cast<int64_t>(max), "] exactly");
  });
}

} // namespace

Tensor rand(Shape shape, TensorOptions opts, Generator* gen) {
  check_floating("rand", opts.dtype);
  Tensor out = Tensor::empty(std::move(shape), opts.dtype, opts.device);
  SPLAT_KERNEL(out.device(), uniform, out, reserve(gen, out.numel()), 0, 1);
  return out;
}

Tensor randn(Shape shape, TensorOptions opts, Generator* gen) {
  check_floating("randn", opts.dtype);
  Tensor out = Tensor::empty(std::move(shape), opts.dtype, opts.device);
  SPLAT_KERNEL(out.device(), normal, out, reserve(gen, out.numel()), 0, 1);
  return out;
}

Tensor randint(int64_t low, int64_t high, Shape shape, TensorOptions opts, Generator* gen) {
  SPLAT_CHECK(high > low, "randint: high must be greater than low, got low=", low, ", high=", high);
  check_fits("randint", low, high, opts.dtype);
  Tensor out = Tensor::empty(std::move(shape), opts.dtype, opts.device);
  // high - low may exceed INT64_MAX; as an unsigned count it is exact.
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  SPLAT_KERNEL(out.device(), randint, out, reserve(gen, out.numel()), low, range);
  return out;
}

Tensor randint(int64_t low, int64_t high, Shape shape, Generator* gen) {
  return randint(low, high, std::move(shape), {.dtype = DType::i64}, gen);
}

Tensor randperm(int64_t n, TensorOptions opts, Generator* gen) {
  SPLAT_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  check_fits("randperm", 0, std::max<int64_t>(n, 1), opts.dtype);
  Tensor out = Tensor::empty({n}, opts.dtype, opts.device);
  SPLAT_KERNEL(out.device(), randperm, out, reserve(gen, n));
  return out;
}

Tensor randperm(int64_t n, Generator* gen) { return randperm(n, {.dtype = DType::i64}, gen); }

Tensor& uniform_(Tensor& t, double lo, double hi, Generator* gen) {
  check_same_device("uniform_", {&t});
  check_floating("uniform_", t.dtype());
  SPLAT_CHECK(std::isfinite(lo) && std::isfinite(hi) && std::isfinite(hi - lo),
              "uniform_: bounds must be finite with a finite difference, got lo=", lo, ", hi=", hi);
  SPLAT_CHECK(lo <= hi, "uniform_: expected lo <= hi, got lo=", lo, ", hi=", hi);
  check_writable("uniform_", t);
  return overwrite("uniform_", t,
                   [&] { SPLAT_KERNEL(t.device(), uniform, t, reserve(gen, t.numel()), lo, hi); });
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  check_same_device("normal_", {&t});
  check_floating("normal_", t.dtype());
  SPLAT_CHECK(std::isfinite(mean) && std::isfinite(std),
              "normal_: mean and std must be finite, got mean=", mean, ", std=", std);
  SPLAT_CHECK(std >= 0, "normal_: std must be non-negative, got ", std);
  check_writable("normal_", t);
  return overwrite("normal_", t, [&] {
    SPLAT_KERNEL(t.device(), normal, t, reserve(gen, t.numel()), mean, std);
  });
}

} // namespace splat::ops
