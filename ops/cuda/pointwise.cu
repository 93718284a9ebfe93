// Each pointwise functor of ops/pointwise_fns.h wrapped for the elementwise kernel; the formula
// is the one the CPU kernels use.
#include "ops/cuda/pointwise.h"

#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

template <class Fn, class T, class R> struct Unary {
  SPLAT_HD R operator()(T v) const { return Fn::apply(v); }
};
template <class Fn, class T, class R> struct Binary {
  SPLAT_HD R operator()(T a, T b) const { return Fn::apply(a, b); }
};
template <class Fn, class T, class R> struct WithScalar {
  T s;
  SPLAT_HD R operator()(T a) const { return Fn::apply(a, s); }
};
template <class T> struct Clamp {
  T lo, hi;
  bool has_lo, has_hi;
  SPLAT_HD T operator()(T v) const {
    if (has_lo && v < lo) v = lo;  // comparisons with NaN are false: NaN passes through
    if (has_hi && v > hi) v = hi;
    return v;
  }
};
template <class T> struct Select {
  SPLAT_HD T operator()(bool c, T a, T b) const { return c ? a : b; }
};

} // namespace

void unary(UnaryOp op, const Tensor& out, const Tensor& x) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(x.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      map<R, T>(out, Unary<Fn, T, R>{}, x);
    });
  });
}

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(a.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      map<R, T, T>(out, Binary<Fn, T, R>{}, a, b);
    });
  });
}

void binary_scalar(BinaryOp op, const Tensor& out, const Tensor& a, double s) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(a.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      map<R, T>(out, WithScalar<Fn, T, R>{static_cast<T>(s)}, a);
    });
  });
}

void clamp(const Tensor& out, const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  dispatch<DTypeSet::numeric>(x.dtype(), "clamp", [&]<class T>() {
    map<T, T>(out, Clamp<T>{static_cast<T>(lo.value_or(0)), static_cast<T>(hi.value_or(0)),
                            lo.has_value(), hi.has_value()}, x);
  });
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  dispatch<DTypeSet::all>(a.dtype(), "where", [&]<class T>() { map<T, bool, T, T>(out, Select<T>{}, cond, a, b); });
}

} // namespace splat::ops::cuda
