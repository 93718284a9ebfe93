#include "ops/checks.h"

namespace splat::ops {

void check_same_device(std::string_view op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  int i = 0, first_i = 0;
  for (const Tensor* t : tensors) {
    SPLAT_CHECK(t->defined(), op, ": argument ", i, " is an undefined tensor");
    if (first == nullptr) {
      first = t;
      first_i = i;
    } else {
      SPLAT_CHECK(t->device() == first->device(), op, ": tensors on different devices (argument ",
                  first_i, " on ", first->device(), ", argument ", i, " on ", t->device(), ")");
    }
    ++i;
  }
}

void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  SPLAT_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch (", a.dtype(), " vs ", b.dtype(),
              "); convert one with to(dtype)");
}

void check_writable(std::string_view op, const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    SPLAT_CHECK(t.shape()[d] <= 1 || t.strides()[d] != 0, op,
                ": cannot write in place into a tensor whose dim ", d,
                " is expanded (stride 0, shape ", shape_str(t.shape()),
                "): several elements share one memory location; clone() it first");
}

} // namespace splat::ops
