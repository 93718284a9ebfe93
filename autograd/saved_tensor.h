// A tensor an op keeps for its backward.
//
// It holds a detached alias (same storage, no autograd metadata), so saving an op's own output
// creates no reference cycle, and it remembers the storage version: if an in-place op changed the
// data since, get() refuses instead of computing a wrong gradient.
#pragma once

#include "core/tensor.h"

namespace splat::autograd {

class SavedTensor {
public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t)
      : data_(t.defined() ? t.detach() : Tensor()), version_(t.defined() ? t.storage()->version() : 0) {}

  const Tensor& get() const {
    SPLAT_CHECK(!data_.defined() || data_.storage()->version() == version_,
                "a tensor of shape ", shape_str(data_.shape()), " saved for backward was modified "
                "by an in-place operation (version ", version_, " when saved, ",
                data_.storage()->version(), " now); clone it before the in-place op");
    return data_;
  }

private:
  Tensor data_;
  uint64_t version_ = 0;
};

} // namespace splat::autograd
