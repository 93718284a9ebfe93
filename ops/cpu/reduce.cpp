// Reductions run one output element per iteration of a parallel loop; each walks its reduced
// elements in row-major order, so results do not depend on the thread count.
#include "ops/cpu/reduce.h"

#include "ops/cpu/parallel.h"
#include "ops/pointwise_fns.h"
#include "ops/reduce_geometry.h"

#include <cmath>
#include <limits>
#include <span>

namespace splat::ops::cpu {
namespace {

int64_t offset_of(int64_t linear, std::span<const int64_t> sizes, std::span<const int64_t> strides) {
  int64_t off = 0;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    off += (linear % sizes[d]) * strides[d];
    linear /= sizes[d];
  }
  return off;
}

// Calls visit(offset, r) for the r-th reduced element (row-major) below base.
template <class Visit> void for_each_reduced(const ReduceGeometry& g, int64_t base, Visit&& visit) {
  const int64_t nd = static_cast<int64_t>(g.red_sizes.size());
  if (g.red_numel == 0) return;
  if (nd == 0) {
    visit(base, int64_t{0});
    return;
  }
  const int64_t inner = g.red_sizes.back(), inner_stride = g.red_strides.back();
  const int64_t rows = g.red_numel / inner;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t off = base + offset_of(row, std::span(g.red_sizes).first(nd - 1), g.red_strides);
    for (int64_t i = 0; i < inner; ++i) visit(off + i * inner_stride, row * inner + i);
  }
}

// out[o] = finish(fold of step over the reduced elements of output o).
template <class T, class Out, class Acc, class Step, class Finish>
void run(const ReduceGeometry& g, const T* x, Out* out, Acc init, Step step, Finish finish) {
  parallel_for(g.out_numel, g.red_numel, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      Acc acc = init;
      for_each_reduced(g, offset_of(o, g.kept_sizes, g.kept_strides),
                       [&](int64_t off, int64_t r) { step(acc, x[off], r); });
      out[o] = finish(acc);
    }
  });
}

} // namespace

void reduce(ReduceOp op, const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const ReduceGeometry g = make_reduce_geometry(x, reduced);
  dispatch<DTypeSet::all>(x.dtype(), "reduce", [&]<class T>() {
    const T* px = x.data<T>();
    using A = acc_t<T>;
    // Sums and products of integral and bool inputs are written as i64.
    using S = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    switch (op) {
    case ReduceOp::sum:
      run(g, px, out.data<S>(), A(0), [](A& a, T v, int64_t) { a += static_cast<A>(v); },
          [](A a) { return static_cast<S>(a); });
      break;
    case ReduceOp::prod:
      run(g, px, out.data<S>(), A(1), [](A& a, T v, int64_t) { a *= static_cast<A>(v); },
          [](A a) { return static_cast<S>(a); });
      break;
    case ReduceOp::mean:
      if constexpr (std::is_floating_point_v<T>) {
        const double n = static_cast<double>(g.red_numel);
        run(g, px, out.data<T>(), A(0), [](A& a, T v, int64_t) { a += v; },
            [n](A a) { return static_cast<T>(n == 0 ? NAN : a / n); });
      }
      break;
    case ReduceOp::max:
    case ReduceOp::min: {
      // Empty reductions were rejected by the caller, so every output sees an element.
      struct Extreme {
        T value;
        bool seen;
      };
      const bool is_max = op == ReduceOp::max;
      run(g, px, out.data<T>(), Extreme{T(0), false},
          [is_max](Extreme& a, T v, int64_t) {
            a.value = !a.seen ? v : is_max ? fn::Maximum::apply(a.value, v) : fn::Minimum::apply(a.value, v);
            a.seen = true;
          },
          [](const Extreme& a) { return a.value; });
      break;
    }
    case ReduceOp::all:
      run(g, px, out.data<bool>(), true, [](bool& a, T v, int64_t) { a = a && v != T(0); },
          [](bool a) { return a; });
      break;
    case ReduceOp::any:
      run(g, px, out.data<bool>(), false, [](bool& a, T v, int64_t) { a = a || v != T(0); },
          [](bool a) { return a; });
      break;
    }
  });
}

void var(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced, int64_t correction) {
  const ReduceGeometry g = make_reduce_geometry(x, reduced);
  dispatch<DTypeSet::floating>(x.dtype(), "var", [&]<class T>() {
    struct Welford {
      double n = 0, mean = 0, m2 = 0;
    };
    const double denom = static_cast<double>(g.red_numel - correction);
    run(g, x.data<T>(), out.data<T>(), Welford{},
        [](Welford& w, T v, int64_t) {
          w.n += 1;
          const double d = v - w.mean;
          w.mean += d / w.n;
          w.m2 += d * (v - w.mean);
        },
        [denom](const Welford& w) { return static_cast<T>(denom <= 0 ? NAN : w.m2 / denom); });
  });
}

void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim) {
  const ReduceGeometry g = make_reduce_geometry(x, single_dim_mask(x, dim));
  dispatch<DTypeSet::numeric>(x.dtype(), is_max ? "max" : "min", [&]<class T>() {
    struct Best {
      T value;
      int64_t index;
      bool seen;
    };
    T* pv = values.data<T>();
    int64_t* pi = indices.data<int64_t>();
    const T* px = x.data<T>();
    parallel_for(g.out_numel, g.red_numel, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        Best b{T(0), 0, false};
        for_each_reduced(g, offset_of(o, g.kept_sizes, g.kept_strides), [&](int64_t off, int64_t r) {
          const T v = px[off];
          if (b.seen && is_nan(b.value)) return;  // the first NaN wins
          const bool better = is_nan(v) || (is_max ? v > b.value : v < b.value);
          if (!b.seen || better) b = {v, r, true};
        });
        pv[o] = b.value;
        pi[o] = b.index;
      }
    });
  });
}

} // namespace splat::ops::cpu
