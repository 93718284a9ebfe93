// PyTorch-like tensor printing:
//   tensor([[ 1.5000, -2.0000],
//           [ 0.2500,  4.0000]], dtype=f64)
// Floats use a shared format: integral values as "1.", otherwise 4 decimals, switching to
// scientific notation when the magnitudes span too much. Large tensors are summarised with "...".
#include "core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace splat {
namespace {

constexpr int64_t kSummariseAbove = 1000;  // elements
constexpr int64_t kEdgeItems = 3;

struct Printer {
  const Tensor& t;
  std::vector<char> host;  // the storage bytes, copied from the device
  bool summarise;
  enum class Style { integer, boolean, float_integral, fixed, scientific } style;
  size_t width = 1;

  double value_at(int64_t elem) const {
    return dispatch<DTypeSet::all>(t.dtype(), "print", [&]<class T>() {
      T v;
      std::memcpy(&v, host.data() + elem * sizeof(T), sizeof(T));
      return static_cast<double>(v);
    });
  }

  std::string format(double v) const {
    char buf[64];
    switch (style) {
    case Style::boolean: return v != 0 ? "True" : "False";
    case Style::integer: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v)); break;
    case Style::float_integral:
      if (std::isfinite(v)) std::snprintf(buf, sizeof buf, "%.0f.", v);
      else std::snprintf(buf, sizeof buf, "%g", v);
      break;
    case Style::fixed: std::snprintf(buf, sizeof buf, "%.4f", v); break;
    case Style::scientific: std::snprintf(buf, sizeof buf, "%.4e", v); break;
    }
    return buf;
  }

  // Indices of dim d that are shown (all, or the edges when summarising).
  std::vector<int64_t> shown(int64_t d) const {
    const int64_t n = t.shape()[d];
    std::vector<int64_t> idx;
    if (summarise && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);  // the "..." marker
      for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
    }
    return idx;
  }

  void collect(int64_t d, int64_t elem, std::vector<double>& out) const {
    if (d == t.dim()) {
      out.push_back(value_at(elem));
      return;
    }
    for (int64_t i : shown(d))
      if (i >= 0) collect(d + 1, elem + i * t.strides()[d], out);
  }

  void choose_style() {
    if (t.dtype() == DType::b8) { style = Style::boolean; }
    else if (!is_floating(t.dtype())) { style = Style::integer; }
    else {
      std::vector<double> vals;
      collect(0, t.offset(), vals);
      double lo = INFINITY, hi = 0;
      bool integral = true;
      for (double v : vals) {
        if (!std::isfinite(v)) continue;
        if (v != std::floor(v)) integral = false;
        const double a = std::fabs(v);
        if (a > 0) lo = std::min(lo, a);
        hi = std::max(hi, a);
      }
      if (integral && hi < 1e8) style = Style::float_integral;
      else if (hi >= 1e8 || (lo < 1e-4) || hi / lo > 1e3 * 1e3) style = Style::scientific;
      else style = Style::fixed;
    }
    std::vector<double> vals;
    collect(0, t.offset(), vals);
    for (double v : vals) width = std::max(width, format(v).size());
  }

  void print(std::ostream& os, int64_t d, int64_t elem, int indent) const {
    if (d == t.dim()) {
      std::string s = format(value_at(elem));
      os << std::string(width - s.size(), ' ') << s;
      return;
    }
    os << '[';
    bool first = true;
    for (int64_t i : shown(d)) {
      if (!first) {
        if (d == t.dim() - 1) os << ", ";
        else os << ',' << std::string(t.dim() - d - 1, '\n') << std::string(indent + 1, ' ');
      }
      first = false;
      if (i < 0) os << "...";
      else print(os, d + 1, elem + i * t.strides()[d], indent + 1);
    }
    os << ']';
  }
};

} // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  Printer p{t, {}, t.numel() > kSummariseAbove, Printer::Style::fixed};
  if (t.numel() > 0) {
    p.host.resize(t.storage()->nbytes());
    copy_bytes_to_host(p.host.data(), t.storage()->data(), p.host.size(), t.device());
    p.choose_style();
  }
  os << "tensor(";
  if (t.numel() == 0) os << "[], size=" << shape_str(t.shape());
  else p.print(os, 0, t.offset(), 7);
  if (t.dtype() != DType::f32 && t.dtype() != DType::i64 && t.dtype() != DType::b8)
    os << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) os << ", device=" << t.device();
  return os << ')';
}

} // namespace splat
