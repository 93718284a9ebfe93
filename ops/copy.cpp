#include "ops/copy.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/device_dispatch.h"
#include "ops/cpu/copy.h"
#include "ops/cuda/copy.h"
#include "core/cuda/device_guard.h"
#include "core/cuda/runtime.h"

#include <cmath>

namespace splat::ops {

Tensor& copy_(Tensor& dst, const Tensor& src) {
  SPLAT_CHECK(dst.defined() && src.defined(), "copy_: undefined tensor");
  if (src.device() != dst.device()) return copy_(dst, to(src, dst.device()));
  const Shape b = broadcast_shapes("copy_", dst.shape(), src.shape());
  SPLAT_CHECK(b == dst.shape(), "copy_: source of shape ", shape_str(src.shape()),
              " does not broadcast to the destination shape ", shape_str(dst.shape()));
  check_writable("copy_", dst);
  const bool grad = autograd::needs_grad({dst, src});
  if (grad) autograd::check_inplace("copy_", dst);
  SPLAT_KERNEL(dst.device(), copy, dst, src);
  dst.storage()->bump_version();
  if (grad) {
    // dst's old values are gone (no gradient); src's gradient is summed over broadcast dims.
    record("copy_", {dst, src}, {dst}, [src_shape = src.shape(), src_dtype = src.dtype()](const Grads& g, const Needs& needs) -> Grads {
      return {Tensor(), needs[1] ? sum_to(to(g[0], src_dtype), src_shape) : Tensor()};
    });
  }
  return dst;
}

Tensor& fill_(Tensor& t, double value) {
  check_writable("fill_", t);
  return overwrite("fill_", t, [&] { SPLAT_KERNEL(t.device(), fill, t, value); });
}

Tensor contiguous(const Tensor& t) { return t.is_contiguous() ? t : clone(t); }

namespace {

splat::cuda::CopyKind copy_kind(Device from, Device to) {
  if (from.is_cpu()) return to.is_cpu() ? splat::cuda::CopyKind::host_to_host : splat::cuda::CopyKind::host_to_device;
  return to.is_cpu() ? splat::cuda::CopyKind::device_to_host : splat::cuda::CopyKind::device_to_device;
}

// The bytes of a contiguous tensor moved to another device (same dtype, no autograd).
Tensor transfer(const Tensor& dense, Device device) {
  Tensor out = Tensor::empty(dense.shape(), dense.dtype(), device);
  splat::cuda::DeviceGuard guard(device.is_cuda() ? device : dense.device());
  splat::cuda::memcpy(out.raw_data(), dense.raw_data(), static_cast<size_t>(dense.numel()) * dense.itemsize(),
                      copy_kind(dense.device(), device));
  return out;
}

// A copy of t in another dtype and/or on another device; the gradient converts back.
Tensor converted_copy(std::string_view op, const Tensor& t, DType dtype, Device device) {
  Tensor out;
  if (device == t.device()) {
    // Allocating on a device this build cannot reach fails with a message naming it.
    out = Tensor::empty(t.shape(), dtype, device);
    SPLAT_KERNEL(device, copy, out, t);
  } else {
    // Cross-device copies move dense bytes; a dtype change then runs on the destination.
    out = transfer(contiguous(t.detach()), device);
    if (dtype != t.dtype()) {
      Tensor cast = Tensor::empty(t.shape(), dtype, device);
      SPLAT_KERNEL(device, copy, cast, out);
      out = cast;
    }
  }
  if (autograd::needs_grad({t}))
    record(std::string(op), {t}, {out}, [dt = t.dtype(), dev = t.device()](const Grads& g, const Needs&) {
      return Grads{to(to(g[0], dev), dt)};
    });
  return out;
}

} // namespace

Tensor clone(const Tensor& t) { return converted_copy("clone", t, t.dtype(), t.device()); }

Tensor to(const Tensor& t, DType dtype) {
  return t.dtype() == dtype ? t : converted_copy("to", t, dtype, t.device());
}

Tensor to(const Tensor& t, Device device) {
  return t.device() == device ? t : converted_copy("to", t, t.dtype(), device);
}

Tensor empty(Shape shape, TensorOptions opts) {
  return Tensor::empty(std::move(shape), opts.dtype, opts.device);
}

Tensor full(Shape shape, double value, TensorOptions opts) {
  Tensor t = empty(std::move(shape), opts);
  return fill_(t, value);
}
Tensor zeros(Shape shape, TensorOptions opts) { return full(std::move(shape), 0, opts); }
Tensor ones(Shape shape, TensorOptions opts) { return full(std::move(shape), 1, opts); }
Tensor full_like(const Tensor& t, double value) {
  return full(t.shape(), value, {t.dtype(), t.device()});
}
Tensor zeros_like(const Tensor& t) { return full_like(t, 0); }
Tensor ones_like(const Tensor& t) { return full_like(t, 1); }
Tensor scalar_tensor(double value, TensorOptions opts) { return full({}, value, opts); }

namespace {

// Fills a host tensor by formula f(i) for i in [0, n), then moves it to the device.
template <class F> Tensor build_on_host(std::string_view op, Shape shape, TensorOptions opts, F f) {
  Tensor host = Tensor::empty(std::move(shape), opts.dtype, Device::cpu());
  dispatch<DTypeSet::all>(opts.dtype, op, [&]<class T>() {
    T* p = host.data<T>();
    for (int64_t i = 0, n = host.numel(); i < n; ++i) p[i] = static_cast<T>(f(i));
  });
  return to(host, opts.device);
}

} // namespace

Tensor arange(double start, double end, double step, TensorOptions opts) {
  SPLAT_CHECK(step != 0, "arange: step must be nonzero");
  SPLAT_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
              "arange: start, end and step must be finite (got ", start, ", ", end, ", ", step, ")");
  SPLAT_CHECK((end - start) * step >= 0, "arange: step ", step, " moves away from end (start ",
              start, ", end ", end, ")");
  const auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  return build_on_host("arange", {n}, opts, [&](int64_t i) { return start + step * i; });
}

Tensor arange(double end, TensorOptions opts) { return arange(0, end, 1, opts); }

Tensor linspace(double start, double end, int64_t steps, TensorOptions opts) {
  SPLAT_CHECK(steps >= 0, "linspace: steps must be non-negative, got ", steps);
  const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  // Fill symmetric halves from both ends so the last point is exactly `end`, as PyTorch does.
  return build_on_host("linspace", {steps}, opts, [&](int64_t i) {
    return i < (steps + 1) / 2 ? start + delta * i : end - delta * (steps - 1 - i);
  });
}

Tensor eye(int64_t n, int64_t m, TensorOptions opts) {
  if (m < 0) m = n;
  SPLAT_CHECK(n >= 0, "eye: n must be non-negative, got ", n);
  return build_on_host("eye", {n, m}, opts, [m](int64_t i) { return i / m == i % m ? 1.0 : 0.0; });
}

template <class T> Tensor from_vector(const std::vector<T>& values, Shape shape, Device device) {
  const int64_t n = numel(shape);
  SPLAT_CHECK(n == static_cast<int64_t>(values.size()), "from_vector: ", values.size(),
              " values do not fill shape ", shape_str(shape), " (", n, " elements)");
  Tensor host = Tensor::empty(std::move(shape), dtype_of<T>, Device::cpu());
  std::copy(values.begin(), values.end(), host.data<T>());
  return to(host, device);
}

template Tensor from_vector(const std::vector<float>&, Shape, Device);
template Tensor from_vector(const std::vector<double>&, Shape, Device);
template Tensor from_vector(const std::vector<int64_t>&, Shape, Device);
template Tensor from_vector(const std::vector<int32_t>&, Shape, Device);
template Tensor from_vector(const std::vector<uint8_t>&, Shape, Device);
template Tensor from_vector(const std::vector<bool>&, Shape, Device);

} // namespace splat::ops
