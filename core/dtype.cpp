#include "core/dtype.h"

namespace splat {

std::string_view dtype_name(DType t) {
  switch (t) {
  case DType::f32: return "f32";
  case DType::f64: return "f64";
  case DType::i64: return "i64";
  case DType::i32: return "i32";
  case DType::u8: return "u8";
  case DType::b8: return "bool";
  }
  return "invalid";
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

} // namespace splat
