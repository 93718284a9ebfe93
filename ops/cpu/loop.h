// Elementwise loops over strided, broadcast operands: the machinery under every CPU pointwise op.
//
//   cpu::map<float, float, float>(out, [](float a, float b) { return a + b; }, a, b);
//
// writes f(a[i], b[i]) into out[i] for every index of out.shape(), where the inputs broadcast
// to out.shape() (checked by the caller) and every operand may have any strides. Dims are
// coalesced first, so dense operands run as one flat loop that the compiler vectorises. Work is
// split over threads in chunks of rows. Kernels must not throw inside the loop (an exception
// cannot leave an OpenMP region): all checks happen before.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/parallel.h"
#include "ops/loop_geometry.h"

#include <array>
#include <tuple>
#include <utility>

namespace splat::ops::cpu {

// Calls row(offsets, inner_size, inner_strides) for every innermost row of the geometry, with
// the element offsets of each operand at the row start, in parallel over rows.
template <size_t N, class Row> void for_each_row(const LoopGeometry<N>& g, Row&& row) {
  const int64_t nd = static_cast<int64_t>(g.sizes.size());
  const int64_t inner = nd == 0 ? 1 : g.sizes.back();
  std::array<int64_t, N> inner_strides{};
  for (size_t k = 0; k < N; ++k) inner_strides[k] = nd == 0 ? 0 : g.strides[k].back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < nd; ++d) rows *= g.sizes[d];
  if (rows * inner == 0) return;

  parallel_for(rows, inner, [&](int64_t begin, int64_t end) {
    // Decompose the first row index into outer coordinates, then walk them like an odometer.
    Shape idx(std::max<int64_t>(nd - 1, 0));
    std::array<int64_t, N> offs{};
    int64_t r = begin;
    for (int64_t d = nd - 2; d >= 0; --d) {
      idx[d] = r % g.sizes[d];
      r /= g.sizes[d];
      for (size_t k = 0; k < N; ++k) offs[k] += idx[d] * g.strides[k][d];
    }
    for (int64_t i = begin; i < end; ++i) {
      row(offs, inner, inner_strides);
      for (int64_t d = nd - 2; d >= 0; --d) {
        for (size_t k = 0; k < N; ++k) offs[k] += g.strides[k][d];
        if (++idx[d] < g.sizes[d]) break;
        for (size_t k = 0; k < N; ++k) offs[k] -= idx[d] * g.strides[k][d];
        idx[d] = 0;
      }
    }
  });
}

namespace detail {
template <class Out, class... In, class F, size_t... K>
void map_impl(const Tensor& out, F& f, std::index_sequence<K...>, const std::array<const Tensor*, sizeof...(In)>& in) {
  constexpr size_t N = 1 + sizeof...(In);
  const auto g = make_geometry<N>(out.shape(), {&out, in[K]...});
  Out* po = out.data<Out>();
  const std::tuple<const In*...> pi{in[K]->template data<In>()...};
  for_each_row<N>(g, [&](const std::array<int64_t, N>& offs, int64_t n,
                         const std::array<int64_t, N>& st) {
    Out* o = po + offs[0];
    const std::tuple<const In*...> p{(std::get<K>(pi) + offs[K + 1])...};
    if (((st[K + 1] == 1) && ...) && st[0] == 1) {
      // Dense: a plain indexed loop the compiler can vectorise.
      for (int64_t i = 0; i < n; ++i) o[i] = f(std::get<K>(p)[i]...);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(std::get<K>(p)[i * st[K + 1]]...);
    }
  });
}
} // namespace detail

// out[i] = f(in[i]...) over out.shape(); see the file comment.
template <class Out, class... In, class F> void map(const Tensor& out, F f, const std::same_as<Tensor> auto&... in) {
  static_assert(sizeof...(In) == sizeof...(in), "one C++ type per input tensor");
  detail::map_impl<Out, In...>(out, f, std::index_sequence_for<In...>{}, {&in...});
}

} // namespace splat::ops::cpu
