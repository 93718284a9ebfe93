// Element types and the one dtype-dispatch helper every kernel uses.
//
//   dispatch<DTypeSet::floating>(t.dtype(), "exp", [&]<class T>() { ... T ... });
//
// The set names which dtypes an op accepts; any other dtype throws an Error naming the op and
// the dtype. No op writes its own switch over dtypes.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <ostream>
#include <string_view>

namespace splat {

enum class DType : uint8_t { f32, f64, i64, i32, u8, b8 };

constexpr int kNumDTypes = 6;

std::string_view dtype_name(DType t);
std::ostream& operator<<(std::ostream& os, DType t);

constexpr size_t itemsize(DType t) {
  switch (t) {
  case DType::f32: return 4;
  case DType::f64: return 8;
  case DType::i64: return 8;
  case DType::i32: return 4;
  case DType::u8: return 1;
  case DType::b8: return 1;
  }
  return 0;
}
constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }
constexpr bool is_integral(DType t) { return !is_floating(t) && t != DType::b8; }

// C++ scalar type <-> DType.
template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::f64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::i64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::i32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::b8; };
template <class T> constexpr DType dtype_of = DTypeOf<T>::value;

// Accumulator type for sums and products: doubles for floats (exact enough for float32 sums of
// millions of elements), int64 for every integer type and bool (as PyTorch does).
template <class T> struct AccOf { using type = int64_t; };
template <> struct AccOf<float> { using type = double; };
template <> struct AccOf<double> { using type = double; };
template <class T> using acc_t = typename AccOf<T>::type;

// Which dtypes an op accepts, as a bit set.
enum class DTypeSet : uint8_t {
  floating = 0b000011,
  integral = 0b011100,  // i64, i32, u8
  numeric = 0b011111,   // everything but bool
  all = 0b111111,
};
constexpr bool contains(DTypeSet s, DType t) {
  return (static_cast<uint8_t>(s) >> static_cast<uint8_t>(t)) & 1;
}

// Calls f.template operator()<T>() with the C++ type of `t` if `t` is in Allowed, else throws
// "op: unsupported dtype bool". Only the allowed types are instantiated.
template <DTypeSet Allowed, class F> decltype(auto) dispatch(DType t, std::string_view op, F&& f) {
  SPLAT_CHECK(contains(Allowed, t), op, ": unsupported dtype ", dtype_name(t));
  if constexpr (contains(Allowed, DType::f32)) if (t == DType::f32) return f.template operator()<float>();
  if constexpr (contains(Allowed, DType::f64)) if (t == DType::f64) return f.template operator()<double>();
  if constexpr (contains(Allowed, DType::i64)) if (t == DType::i64) return f.template operator()<int64_t>();
  if constexpr (contains(Allowed, DType::i32)) if (t == DType::i32) return f.template operator()<int32_t>();
  if constexpr (contains(Allowed, DType::u8)) if (t == DType::u8) return f.template operator()<uint8_t>();
  if constexpr (contains(Allowed, DType::b8)) if (t == DType::b8) return f.template operator()<bool>();
  throw Error(str(op, ": invalid dtype value ", static_cast<int>(t)));
}

} // namespace splat
