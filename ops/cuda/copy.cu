#include "ops/cuda/copy.h"

#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

template <class D, class S> struct Cast {
  SPLAT_HD D operator()(S v) const { return static_cast<D>(v); }
};
template <class T> struct Constant {
  T value;
  SPLAT_HD T operator()() const { return value; }
};

} // namespace

void copy(const Tensor& dst, const Tensor& src) {
  dispatch<DTypeSet::all>(dst.dtype(), "copy_", [&]<class D>() {
    dispatch<DTypeSet::all>(src.dtype(), "copy_", [&]<class S>() { map<D, S>(dst, Cast<D, S>{}, src); });
  });
}

void fill(const Tensor& t, double value) {
  dispatch<DTypeSet::all>(t.dtype(), "fill_", [&]<class T>() { map<T>(t, Constant<T>{static_cast<T>(value)}); });
}

} // namespace splat::ops::cuda
