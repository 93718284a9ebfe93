#include "ops/cpu/copy.h"

#include "ops/cpu/loop.h"

namespace splat::ops::cpu {

void copy(const Tensor& dst, const Tensor& src) {
  dispatch<DTypeSet::all>(dst.dtype(), "copy_", [&]<class D>() {
    dispatch<DTypeSet::all>(src.dtype(), "copy_", [&]<class S>() {
      map<D, S>(dst, [](S v) { return static_cast<D>(v); }, src);
    });
  });
}

void fill(const Tensor& t, double value) {
  dispatch<DTypeSet::all>(t.dtype(), "fill_", [&]<class T>() {
    const T v = static_cast<T>(value);
    map<T>(t, [v]() { return v; });
  });
}

} // namespace splat::ops::cpu
