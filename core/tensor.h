// Tensor: a cheap, shared handle to a strided view of a Storage.
//
// Copying a Tensor copies the handle (both refer to the same TensorImpl); views made by ops
// (ops/view.h) get a new TensorImpl over the same Storage. Shape, strides and offset are in
// elements. Layout is NCHW; strides may be anything, including 0 (expanded dims) and
// non-monotone (permuted). Everything computational lives in ops/; this class only describes
// memory.
#pragma once

#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

#include <memory>
#include <ostream>

namespace splat {

// dtype and device of a new tensor: zeros({2, 3}, {.dtype = DType::f64}).
struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

struct AutogradMeta;  // autograd state (core/autograd_meta.h), present only when needed

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  DType dtype = DType::f32;
  std::shared_ptr<AutogradMeta> autograd;
};

class Tensor {
public:
  Tensor() = default;  // an undefined tensor; defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory of this shape; contiguous.
  static Tensor empty(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  // Size and stride of one dim; negative dims count from the end.
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t numel() const;
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  size_t itemsize() const { return splat::itemsize(dtype()); }
  // Dense row-major (sizes-1 dims and empty tensors ignore strides).
  bool is_contiguous() const;

  // Pointer to the first element. T must match dtype(). On a cuda tensor this is a device pointer.
  template <class T> T* data() const {
    SPLAT_CHECK(dtype_of<T> == dtype(), "data<", dtype_name(dtype_of<T>), ">() called on a ",
                dtype_name(dtype()), " tensor");
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // The value of a one-element tensor, converted to T. Copies from the device if needed.
  template <class T> T item() const;

  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // A new handle over the same storage with other geometry. No bounds beyond the storage are
  // allowed; no autograd is recorded (ops/view.h builds the differentiable views on this).
  Tensor as_strided(Shape shape, Strides strides, int64_t offset) const;

  // Autograd state (core/autograd_meta.h; the engine is in autograd/).
  // requires_grad: a leaf marked by the user, or the output of a recorded op.
  bool requires_grad() const;
  // Marks a leaf as requiring grad (only floating tensors can). Returns *this.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const;
  // The accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  // The same data without autograd history; shares storage and version counter.
  Tensor detach() const;
  // Points this tensor (and every handle sharing it) at other's data: storage, geometry, dtype
  // and device, keeping its autograd state. For modules moving or converting parameters in place
  // (nn::Module::to); only leaves, and only when the dtype stays floating if it requires grad.
  void set_data(const Tensor& other) const;

  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  std::weak_ptr<TensorImpl> weak_impl() const { return impl_; }
  TensorImpl* unsafe_impl() const { return impl_.get(); }
  AutogradMeta* autograd_meta() const { return impl().autograd.get(); }
  // Creates the metadata on first use.
  AutogradMeta& autograd() const;

private:
  TensorImpl& impl() const {
    SPLAT_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

// Copies nbytes from a tensor's storage (on any device) into host memory.
void copy_bytes_to_host(void* dst, const void* src, size_t nbytes, Device src_device);

template <class T> T Tensor::item() const {
  SPLAT_CHECK(numel() == 1, "item(): tensor with ", numel(), " elements (shape ",
              shape_str(shape()), "), expected exactly one");
  return dispatch<DTypeSet::all>(dtype(), "item", [&]<class S>() {
    S v;
    copy_bytes_to_host(&v, raw_data(), sizeof(S), device());
    return static_cast<T>(v);
  });
}

// PyTorch-like printing: tensor([[1.0000, 2.0000], ...], dtype=f64, device=cuda:0)
std::ostream& operator<<(std::ostream& os, const Tensor& t);

} // namespace splat
