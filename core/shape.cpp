#include "core/shape.h"

#include "core/error.h"

namespace splat {

int64_t numel(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    SPLAT_CHECK(s >= 0, "negative size ", s, " in shape ", shape_str(shape));
    n *= s;
  }
  return n;
}

Strides contiguous_strides(std::span<const int64_t> shape) {
  Strides st(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

Shape broadcast_shapes(std::string_view op, std::span<const int64_t> a, std::span<const int64_t> b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    // i counts from the right.
    const int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    SPLAT_CHECK(sa == sb || sa == 1 || sb == 1, op, ": shapes ", shape_str(a), " and ",
                shape_str(b), " cannot be broadcast (dim -", i + 1, ": ", sa, " vs ", sb, ")");
    out[n - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

int64_t wrap_dim(std::string_view op, int64_t dim, int64_t ndim) {
  const int64_t lo = ndim == 0 ? -1 : -ndim;
  const int64_t hi = ndim == 0 ? 0 : ndim - 1;
  SPLAT_CHECK(dim >= lo && dim <= hi, op, ": dim ", dim, " out of range for a ", ndim,
              "-d tensor (expected ", lo, " to ", hi, ")");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

std::string shape_str(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::ostream& operator<<(std::ostream& os, ShapeFmt s) { return os << shape_str(s.shape); }

} // namespace splat
