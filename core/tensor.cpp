#include "core/tensor.h"

#include "core/autograd_meta.h"
#include "core/cuda/runtime.h"

#include <cstring>

namespace splat {

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  const int64_t n = splat::numel(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(n) * splat::itemsize(dtype), device);
  impl->strides = contiguous_strides(shape);
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim("size", d, dim())]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim("stride", d, dim())]; }

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape()) n *= s;
  return n;
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  auto* base = static_cast<char*>(storage()->data());
  return base == nullptr ? nullptr : base + offset() * static_cast<int64_t>(itemsize());
}

Tensor Tensor::as_strided(Shape shape, Strides strides, int64_t offset) const {
  SPLAT_CHECK(shape.size() == strides.size(), "as_strided: shape ", shape_str(shape), " and strides ",
              shape_str(strides), " differ in length");
  SPLAT_CHECK(offset >= 0, "as_strided: negative offset ", offset);
  // The furthest element must stay inside the storage.
  int64_t lo = offset, hi = offset;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    SPLAT_CHECK(shape[i] >= 0, "as_strided: negative size in shape ", shape_str(shape));
    if (shape[i] == 0) empty = true;
    const int64_t reach = (shape[i] - 1) * strides[i];
    (reach < 0 ? lo : hi) += reach;
  }
  const int64_t capacity = static_cast<int64_t>(storage()->nbytes() / itemsize());
  SPLAT_CHECK(empty || (lo >= 0 && hi < capacity), "as_strided: shape ", shape_str(shape),
              " strides ", shape_str(strides), " offset ", offset, " reach elements ", lo, "..", hi,
              " outside a storage of ", capacity, " elements");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

void copy_bytes_to_host(void* dst, const void* src, size_t nbytes, Device src_device) {
  if (src_device.is_cpu()) std::memcpy(dst, src, nbytes);
  else cuda::memcpy(dst, src, nbytes, cuda::CopyKind::device_to_host);
}

} // namespace splat

namespace splat {

AutogradMeta& Tensor::autograd() const {
  auto& m = impl().autograd;
  if (!m) m = std::make_shared<AutogradMeta>();
  return *m;
}

bool Tensor::requires_grad() const {
  const AutogradMeta* m = autograd_meta();
  return m != nullptr && (m->requires_grad || m->grad_fn != nullptr);
}

Tensor& Tensor::requires_grad_(bool on) {
  SPLAT_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad (this one "
              "was produced by an op); use detach() first");
  SPLAT_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating tensors can require "
              "grad, this one is ", dtype());
  if (on || autograd_meta() != nullptr) autograd().requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const {
  const AutogradMeta* m = autograd_meta();
  return m == nullptr || m->grad_fn == nullptr;
}

Tensor Tensor::grad() const {
  const AutogradMeta* m = autograd_meta();
  return m == nullptr ? Tensor() : m->grad;
}

void Tensor::set_grad(const Tensor& g) const {
  SPLAT_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape ",
              shape_str(g.shape()), " for a tensor of shape ", shape_str(shape()));
  autograd().grad = g;
}

Tensor Tensor::detach() const { return as_strided(shape(), strides(), offset()); }

void Tensor::set_data(const Tensor& other) const {
  SPLAT_CHECK(is_leaf(), "set_data: only leaf tensors can be repointed (this one was produced by an op)");
  SPLAT_CHECK(!requires_grad() || is_floating(other.dtype()), "set_data: a tensor requiring grad "
              "cannot take ", dtype_name(other.dtype()), " data");
  TensorImpl& me = impl();
  const TensorImpl& src = other.impl();
  me.storage = src.storage;
  me.shape = src.shape;
  me.strides = src.strides;
  me.offset = src.offset;
  me.dtype = src.dtype;
}

} // namespace splat
