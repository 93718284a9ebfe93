// Pointwise ops: unary functions, binary arithmetic and predicates with NumPy broadcasting, their
// scalar and in-place forms, clamp and where. Inputs of a binary op must share one dtype (no
// implicit promotion: the error names both). Predicates return bool tensors. Any strides work.
#pragma once

#include "core/tensor.h"
#include "ops/pointwise_fns.h"

#include <optional>

namespace splat::ops {

Tensor unary(UnaryOp op, const Tensor& x);
Tensor& unary_(UnaryOp op, Tensor& x);  // in place (not for logical_not)
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// a op s, with s cast to a's dtype (an integral tensor needs an integral s).
Tensor binary(BinaryOp op, const Tensor& a, double s);
// a = a op b; b broadcasts to a's shape. Arithmetic ops only.
Tensor& binary_(BinaryOp op, Tensor& a, const Tensor& b);
Tensor& binary_(BinaryOp op, Tensor& a, double s);

// clang-format off
inline Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, x); }
inline Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, x); }
inline Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, x); }
inline Tensor log(const Tensor& x) { return unary(UnaryOp::log, x); }
inline Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, x); }
inline Tensor rsqrt(const Tensor& x) { return unary(UnaryOp::rsqrt, x); }
inline Tensor square(const Tensor& x) { return unary(UnaryOp::square, x); }
inline Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, x); }
inline Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, x); }
inline Tensor logical_not(const Tensor& x) { return unary(UnaryOp::logical_not, x); }
inline Tensor& neg_(Tensor& x) { return unary_(UnaryOp::neg, x); }
inline Tensor& exp_(Tensor& x) { return unary_(UnaryOp::exp, x); }
inline Tensor& sqrt_(Tensor& x) { return unary_(UnaryOp::sqrt, x); }
inline Tensor& relu_(Tensor& x) { return unary_(UnaryOp::relu, x); }
inline Tensor& sigmoid_(Tensor& x) { return unary_(UnaryOp::sigmoid, x); }

inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::pow, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::maximum, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::minimum, a, b); }
inline Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::eq, a, b); }
inline Tensor ne(const Tensor& a, const Tensor& b) { return binary(BinaryOp::ne, a, b); }
inline Tensor lt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::lt, a, b); }
inline Tensor le(const Tensor& a, const Tensor& b) { return binary(BinaryOp::le, a, b); }
inline Tensor gt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::gt, a, b); }
inline Tensor ge(const Tensor& a, const Tensor& b) { return binary(BinaryOp::ge, a, b); }
inline Tensor logical_and(const Tensor& a, const Tensor& b) { return binary(BinaryOp::logical_and, a, b); }
inline Tensor logical_or(const Tensor& a, const Tensor& b) { return binary(BinaryOp::logical_or, a, b); }

inline Tensor add(const Tensor& a, double s) { return binary(BinaryOp::add, a, s); }
inline Tensor sub(const Tensor& a, double s) { return binary(BinaryOp::sub, a, s); }
inline Tensor mul(const Tensor& a, double s) { return binary(BinaryOp::mul, a, s); }
inline Tensor div(const Tensor& a, double s) { return binary(BinaryOp::div, a, s); }
inline Tensor pow(const Tensor& a, double s) { return binary(BinaryOp::pow, a, s); }
inline Tensor maximum(const Tensor& a, double s) { return binary(BinaryOp::maximum, a, s); }
inline Tensor minimum(const Tensor& a, double s) { return binary(BinaryOp::minimum, a, s); }
inline Tensor eq(const Tensor& a, double s) { return binary(BinaryOp::eq, a, s); }
inline Tensor ne(const Tensor& a, double s) { return binary(BinaryOp::ne, a, s); }
inline Tensor lt(const Tensor& a, double s) { return binary(BinaryOp::lt, a, s); }
inline Tensor le(const Tensor& a, double s) { return binary(BinaryOp::le, a, s); }
inline Tensor gt(const Tensor& a, double s) { return binary(BinaryOp::gt, a, s); }
inline Tensor ge(const Tensor& a, double s) { return binary(BinaryOp::ge, a, s); }

inline Tensor& add_(Tensor& a, const Tensor& b) { return binary_(BinaryOp::add, a, b); }
inline Tensor& sub_(Tensor& a, const Tensor& b) { return binary_(BinaryOp::sub, a, b); }
inline Tensor& mul_(Tensor& a, const Tensor& b) { return binary_(BinaryOp::mul, a, b); }
inline Tensor& div_(Tensor& a, const Tensor& b) { return binary_(BinaryOp::div, a, b); }
inline Tensor& add_(Tensor& a, double s) { return binary_(BinaryOp::add, a, s); }
inline Tensor& sub_(Tensor& a, double s) { return binary_(BinaryOp::sub, a, s); }
inline Tensor& mul_(Tensor& a, double s) { return binary_(BinaryOp::mul, a, s); }
inline Tensor& div_(Tensor& a, double s) { return binary_(BinaryOp::div, a, s); }
// clang-format on

// Elements limited to [min, max]; either bound may be absent. NaN stays NaN.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor& clamp_(Tensor& x, std::optional<double> min, std::optional<double> max);

// cond ? a : b elementwise; cond is bool; all three broadcast together; a and b share a dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with value where mask (bool, broadcast to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor& masked_fill_(Tensor& x, const Tensor& mask, double value);

} // namespace splat::ops

namespace splat {
// clang-format off
inline Tensor operator-(const Tensor& a) { return ops::neg(a); }
inline Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return ops::add(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return ops::sub(a, s); }
inline Tensor operator*(const Tensor& a, double s) { return ops::mul(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return ops::div(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return ops::add(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return ops::mul(a, s); }
inline Tensor operator-(double s, const Tensor& a) { return ops::add(ops::neg(a), s); }
// clang-format on
} // namespace splat
