// The scalar functions behind every pointwise op, one functor each, shared by the CPU and CUDA
// kernels so both compute exactly the same formula. NaN propagates through relu, maximum and
// minimum as in PyTorch.
#pragma once

#include "core/dtype.h"

#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/cuda/hd.h"

namespace splat::ops {

enum class UnaryOp : uint8_t { neg, abs, exp, log, sqrt, rsqrt, square, relu, sigmoid, tanh, logical_not };
enum class BinaryOp : uint8_t {
  add, sub, mul, div, pow, maximum, minimum,      // arithmetic: result has the input dtype
  relu_backward,                                  // (g, y): relu's gradient, one pass
  eq, ne, lt, le, gt, ge, logical_and, logical_or  // predicates: result is bool
};

template <class T> SPLAT_HD bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

namespace fn {
// Each functor carries its op name, the dtypes it accepts and whether it returns bool; the
// kernels instantiate it only for those dtypes.
#define SPLAT_POINTWISE(Name, str, set, pred) \
  static constexpr std::string_view name = str; \
  static constexpr DTypeSet dtypes = DTypeSet::set; \
  static constexpr bool bool_result = pred;
// clang-format off
struct Neg { SPLAT_POINTWISE(Neg, "neg", numeric, false)
  template <class T> SPLAT_HD static T apply(T x) { return static_cast<T>(-x); } };
struct Abs { SPLAT_POINTWISE(Abs, "abs", numeric, false)
  template <class T> SPLAT_HD static T apply(T x) {
    if constexpr (std::is_unsigned_v<T>) return x; else return x < T(0) ? static_cast<T>(-x) : x; } };
struct Exp { SPLAT_POINTWISE(Exp, "exp", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return std::exp(x); } };
struct Log { SPLAT_POINTWISE(Log, "log", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return std::log(x); } };
struct Sqrt { SPLAT_POINTWISE(Sqrt, "sqrt", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return std::sqrt(x); } };
struct Rsqrt { SPLAT_POINTWISE(Rsqrt, "rsqrt", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return T(1) / std::sqrt(x); } };
struct Square { SPLAT_POINTWISE(Square, "square", numeric, false)
  template <class T> SPLAT_HD static T apply(T x) { return static_cast<T>(x * x); } };
struct Relu { SPLAT_POINTWISE(Relu, "relu", numeric, false)
  template <class T> SPLAT_HD static T apply(T x) {
    if constexpr (std::is_unsigned_v<T>) return x; else return x < T(0) ? T(0) : x; } };
struct Sigmoid { SPLAT_POINTWISE(Sigmoid, "sigmoid", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return T(1) / (T(1) + std::exp(-x)); } };
struct Tanh { SPLAT_POINTWISE(Tanh, "tanh", floating, false)
  template <class T> SPLAT_HD static T apply(T x) { return std::tanh(x); } };
struct LogicalNot { SPLAT_POINTWISE(LogicalNot, "logical_not", all, true)
  template <class T> SPLAT_HD static bool apply(T x) { return !(x != T(0)); } };

struct Add { SPLAT_POINTWISE(Add, "add", numeric, false)
  template <class T> SPLAT_HD static T apply(T a, T b) { return static_cast<T>(a + b); } };
struct Sub { SPLAT_POINTWISE(Sub, "sub", numeric, false)
  template <class T> SPLAT_HD static T apply(T a, T b) { return static_cast<T>(a - b); } };
struct Mul { SPLAT_POINTWISE(Mul, "mul", numeric, false)
  template <class T> SPLAT_HD static T apply(T a, T b) { return static_cast<T>(a * b); } };
// Integer division would need PyTorch's promotion to float; we ask for an explicit cast.
struct Div { SPLAT_POINTWISE(Div, "div", floating, false)
  template <class T> SPLAT_HD static T apply(T a, T b) { return a / b; } };
struct Pow { SPLAT_POINTWISE(Pow, "pow", floating, false)
  template <class T> SPLAT_HD static T apply(T a, T b) { return std::pow(a, b); } };
struct Maximum { SPLAT_POINTWISE(Maximum, "maximum", numeric, false)
  template <class T> SPLAT_HD static T apply(T a, T b) {
    return is_nan(a) ? a : is_nan(b) ? b : (a < b ? b : a); } };
struct Minimum { SPLAT_POINTWISE(Minimum, "minimum", numeric, false)
  template <class T> SPLAT_HD static T apply(T a, T b) {
    return is_nan(a) ? a : is_nan(b) ? b : (b < a ? b : a); } };
// g where relu's output y is positive, else 0; a NaN output passes g, as masking y <= 0 does.
struct ReluBackward { SPLAT_POINTWISE(ReluBackward, "relu_backward", numeric, false)
  template <class T> SPLAT_HD static T apply(T g, T y) { return y <= T(0) ? T(0) : g; } };
struct Eq { SPLAT_POINTWISE(Eq, "eq", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a == b; } };
struct Ne { SPLAT_POINTWISE(Ne, "ne", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a != b; } };
struct Lt { SPLAT_POINTWISE(Lt, "lt", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a < b; } };
struct Le { SPLAT_POINTWISE(Le, "le", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a <= b; } };
struct Gt { SPLAT_POINTWISE(Gt, "gt", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a > b; } };
struct Ge { SPLAT_POINTWISE(Ge, "ge", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a >= b; } };
struct LogicalAnd { SPLAT_POINTWISE(LogicalAnd, "logical_and", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a != T(0) && b != T(0); } };
struct LogicalOr { SPLAT_POINTWISE(LogicalOr, "logical_or", all, true)
  template <class T> SPLAT_HD static bool apply(T a, T b) { return a != T(0) || b != T(0); } };
// clang-format on
#undef SPLAT_POINTWISE
} // namespace fn

// Calls f.template operator()<Functor>() for the functor of op.
template <class F> decltype(auto) visit(UnaryOp op, F&& f) {
  switch (op) {
  case UnaryOp::neg: return f.template operator()<fn::Neg>();
  case UnaryOp::abs: return f.template operator()<fn::Abs>();
  case UnaryOp::exp: return f.template operator()<fn::Exp>();
  case UnaryOp::log: return f.template operator()<fn::Log>();
  case UnaryOp::sqrt: return f.template operator()<fn::Sqrt>();
  case UnaryOp::rsqrt: return f.template operator()<fn::Rsqrt>();
  case UnaryOp::square: return f.template operator()<fn::Square>();
  case UnaryOp::relu: return f.template operator()<fn::Relu>();
  case UnaryOp::sigmoid: return f.template operator()<fn::Sigmoid>();
  case UnaryOp::tanh: return f.template operator()<fn::Tanh>();
  case UnaryOp::logical_not: return f.template operator()<fn::LogicalNot>();
  }
  throw Error("invalid UnaryOp");
}

template <class F> decltype(auto) visit(BinaryOp op, F&& f) {
  switch (op) {
  case BinaryOp::add: return f.template operator()<fn::Add>();
  case BinaryOp::sub: return f.template operator()<fn::Sub>();
  case BinaryOp::mul: return f.template operator()<fn::Mul>();
  case BinaryOp::div: return f.template operator()<fn::Div>();
  case BinaryOp::pow: return f.template operator()<fn::Pow>();
  case BinaryOp::maximum: return f.template operator()<fn::Maximum>();
  case BinaryOp::minimum: return f.template operator()<fn::Minimum>();
  case BinaryOp::relu_backward: return f.template operator()<fn::ReluBackward>();
  case BinaryOp::eq: return f.template operator()<fn::Eq>();
  case BinaryOp::ne: return f.template operator()<fn::Ne>();
  case BinaryOp::lt: return f.template operator()<fn::Lt>();
  case BinaryOp::le: return f.template operator()<fn::Le>();
  case BinaryOp::gt: return f.template operator()<fn::Gt>();
  case BinaryOp::ge: return f.template operator()<fn::Ge>();
  case BinaryOp::logical_and: return f.template operator()<fn::LogicalAnd>();
  case BinaryOp::logical_or: return f.template operator()<fn::LogicalOr>();
  }
  throw Error("invalid BinaryOp");
}

// The op's name, accepted dtypes and whether its result is bool.
struct PointwiseInfo {
  std::string_view name;
  DTypeSet dtypes;
  bool bool_result;
};
template <class Op> PointwiseInfo info(Op op) {
  return visit(op, []<class Fn>() { return PointwiseInfo{Fn::name, Fn::dtypes, Fn::bool_result}; });
}

// The profiler's row names of the pointwise kernels, "binary.mul" (ops/device_dispatch.h).
inline std::string kernel_label(std::string_view kernel, UnaryOp op) {
  return std::string(kernel) + "." + std::string(info(op).name);
}
inline std::string kernel_label(std::string_view kernel, BinaryOp op) {
  return std::string(kernel) + "." + std::string(info(op).name);
}

} // namespace splat::ops
