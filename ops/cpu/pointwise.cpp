#include "ops/cpu/pointwise.h"

#include "ops/cpu/loop.h"

namespace splat::ops::cpu {

void unary(UnaryOp op, const Tensor& out, const Tensor& x) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(x.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      map<R, T>(out, [](T v) { return Fn::apply(v); }, x);
    });
  });
}

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(a.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      map<R, T, T>(out, [](T u, T v) { return Fn::apply(u, v); }, a, b);
    });
  });
}

void binary_scalar(BinaryOp op, const Tensor& out, const Tensor& a, double s) {
  visit(op, [&]<class Fn>() {
    dispatch<Fn::dtypes>(a.dtype(), Fn::name, [&]<class T>() {
      using R = std::conditional_t<Fn::bool_result, bool, T>;
      const T sv = static_cast<T>(s);
      map<R, T>(out, [sv](T u) { return Fn::apply(u, sv); }, a);
    });
  });
}

void clamp(const Tensor& out, const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  dispatch<DTypeSet::numeric>(x.dtype(), "clamp", [&]<class T>() {
    const T l = static_cast<T>(lo.value_or(0)), h = static_cast<T>(hi.value_or(0));
    const bool has_l = lo.has_value(), has_h = hi.has_value();
    map<T, T>(out, [=](T v) {
      if (has_l && v < l) v = l;  // comparisons with NaN are false: NaN passes through
      if (has_h && v > h) v = h;
      return v;
    }, x);
  });
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  dispatch<DTypeSet::all>(a.dtype(), "where", [&]<class T>() {
    map<T, bool, T, T>(out, [](bool c, T u, T v) { return c ? u : v; }, cond, a, b);
  });
}

} // namespace splat::ops::cpu
