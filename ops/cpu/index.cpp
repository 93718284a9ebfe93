#include "ops/cpu/index.h"

#include "ops/cpu/loop.h"
#include "ops/cpu/parallel.h"

#include <cstdlib>
#include <numeric>
#include <vector>

namespace splat::ops::cpu {
namespace {

template <size_t N> int64_t flat_size(const LoopGeometry<N>& g) {
  int64_t n = 1;
  for (int64_t s : g.sizes) n *= s;
  return n;
}

// Calls seg(pos, offs, count, st) for consecutive runs covering the flat row-major positions
// [begin, end) of g: the run holds `count` positions from flat position `pos`, where operand k
// sits at element offs[k] + i * st[k] for i in [0, count). Coalescing in make_geometry keeps
// the row-major order of the original shape, so flat positions are those of the unmerged shape.
template <size_t N, class Seg>
void walk(const LoopGeometry<N>& g, int64_t begin, int64_t end, Seg&& seg) {
  const int64_t nd = static_cast<int64_t>(g.sizes.size());
  const int64_t inner = nd == 0 ? 1 : g.sizes.back();
  std::array<int64_t, N> st{};
  for (size_t k = 0; k < N; ++k) st[k] = nd == 0 ? 0 : g.strides[k].back();
  for (int64_t pos = begin; pos < end;) {
    const int64_t i0 = pos % inner;
    const int64_t count = std::min(inner - i0, end - pos);
    std::array<int64_t, N> offs{};
    int64_t row = pos / inner;
    for (int64_t d = nd - 2; d >= 0; --d) {
      const int64_t c = row % g.sizes[d];
      row /= g.sizes[d];
      for (size_t k = 0; k < N; ++k) offs[k] += c * g.strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) offs[k] += i0 * st[k];
    seg(pos, offs, count, st);
    pos += count;
  }
}

// Calls line(offs, count, st) for runs of the 1-d slices ("lines") along dim of iter_shape, in
// parallel over lines: operand k's line i starts at offs[k] + i * st[k]; moving along dim is up
// to the caller. One thread owns a whole line, which is what keeps accumulation deterministic.
template <size_t N, class Line>
void for_each_line(Shape iter_shape, int64_t dim, const std::array<const Tensor*, N>& operands,
                   Line&& line) {
  const int64_t len = iter_shape[dim];
  iter_shape[dim] = 1;  // make_geometry drops size-1 dims: what remains indexes the lines
  const LoopGeometry<N> g = make_geometry<N>(iter_shape, operands);
  parallel_for(flat_size(g), len, [&](int64_t begin, int64_t end) {
    walk(g, begin, end, [&](int64_t, const auto& offs, int64_t count, const auto& st) {
      line(offs, count, st);
    });
  });
}

// Calls f(i, j) for lines i in [0, n) and positions j in [0, len) along dim, with the axis of
// smaller stride innermost so memory is walked in order. For a fixed i, j always ascends: the
// order in which an accumulating kernel sums into one element does not depend on the choice.
template <class F>
void along(int64_t n, int64_t len, int64_t line_stride, int64_t dim_stride, F&& f) {
  if (std::abs(dim_stride) >= std::abs(line_stride)) {
    for (int64_t j = 0; j < len; ++j)
      for (int64_t i = 0; i < n; ++i) f(i, j);
  } else {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < len; ++j) f(i, j);
  }
}

// A 1-d index seen as a tensor of `shape` that varies only along dim (stride 0 elsewhere):
// index_select and index_add are then gather and scatter_add.
Tensor spread_along(const Tensor& index, const Shape& shape, int64_t dim) {
  Strides strides(shape.size(), 0);
  strides[dim] = index.strides()[0];
  return index.as_strided(shape, std::move(strides), index.offset());
}

// Order-preserving kernels (masked_select, nonzero, ...) cut the flat range into fixed blocks
// rather than per-thread chunks, so the per-block counts of a first pass line up with the
// blocks of the second whatever the thread count.
constexpr int64_t kBlock = 16384;

int64_t num_blocks(int64_t n) { return (n + kBlock - 1) / kBlock; }

// Calls fn(block, begin, end) for every block of [0, n), in parallel.
template <class F> void for_each_block(int64_t n, F&& fn) {
  parallel_for(num_blocks(n), kBlock, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) fn(k, k * kBlock, std::min(n, (k + 1) * kBlock));
  });
}

// ranks[k] = number of nonzero elements of t (broadcast to shape) in the blocks before block k;
// ranks.back() is the total.
std::vector<int64_t> block_ranks(const Shape& shape, const Tensor& t) {
  const LoopGeometry<1> g = make_geometry<1>(shape, {&t});
  const int64_t n = numel(shape);
  std::vector<int64_t> ranks(num_blocks(n) + 1, 0);
  dispatch<DTypeSet::all>(t.dtype(), "count_nonzero", [&]<class T>() {
    const T* p = t.data<T>();
    for_each_block(n, [&](int64_t k, int64_t begin, int64_t end) {
      int64_t c = 0;
      walk(g, begin, end, [&](int64_t, const auto& o, int64_t count, const auto& st) {
        for (int64_t i = 0; i < count; ++i) c += p[o[0] + i * st[0]] != T(0);
      });
      ranks[k + 1] = c;
    });
  });
  std::partial_sum(ranks.begin(), ranks.end(), ranks.begin());
  return ranks;
}

} // namespace

std::optional<BadIndex> find_bad_index(const Tensor& index, int64_t size) {
  const LoopGeometry<1> g = make_geometry<1>(index.shape(), {&index});
  const int64_t n = index.numel();
  // The first bad position of each block (-1: none) and its value; the earliest block wins.
  std::vector<BadIndex> first(num_blocks(n), BadIndex{-1, 0});
  dispatch<kIndexDTypes>(index.dtype(), "index", [&]<class I>() {
    const I* p = index.data<I>();
    for_each_block(n, [&](int64_t k, int64_t begin, int64_t end) {
      walk(g, begin, end, [&](int64_t pos, const auto& o, int64_t count, const auto& st) {
        for (int64_t i = 0; i < count && first[k].position < 0; ++i) {
          const auto v = static_cast<int64_t>(p[o[0] + i * st[0]]);
          if (v < 0 || v >= size) first[k] = {pos + i, v};
        }
      });
    });
  });
  for (const BadIndex& b : first)
    if (b.position >= 0) return b;
  return std::nullopt;
}

void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t len = out.shape()[dim];
  const int64_t os = out.strides()[dim], xs = x.strides()[dim], is = index.strides()[dim];
  dispatch<DTypeSet::all>(x.dtype(), "gather", [&]<class T>() {
    dispatch<kIndexDTypes>(index.dtype(), "gather", [&]<class I>() {
      T* po = out.data<T>();
      const T* px = x.data<T>();
      const I* pi = index.data<I>();
      for_each_line<3>(out.shape(), dim, {&out, &x, &index},
                       [&](const auto& o, int64_t n, const auto& st) {
        along(n, len, st[0], os, [&](int64_t i, int64_t j) {
          const auto k = static_cast<int64_t>(pi[o[2] + i * st[2] + j * is]);
          po[o[0] + i * st[0] + j * os] = px[o[1] + i * st[1] + k * xs];
        });
      });
    });
  });
}

void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t len = index.shape()[dim];
  const int64_t os = out.strides()[dim], ss = src.strides()[dim], is = index.strides()[dim];
  dispatch<DTypeSet::numeric>(out.dtype(), "scatter_add", [&]<class T>() {
    dispatch<kIndexDTypes>(index.dtype(), "scatter_add", [&]<class I>() {
      T* po = out.data<T>();
      const T* ps = src.data<T>();
      const I* pi = index.data<I>();
      // Lines are those of index; all of index's line i lands in out's line i, so threads own
      // disjoint sets of out elements and each element sums its src values in ascending j.
      for_each_line<3>(index.shape(), dim, {&out, &src, &index},
                       [&](const auto& o, int64_t n, const auto& st) {
        along(n, len, st[1], ss, [&](int64_t i, int64_t j) {
          const auto k = static_cast<int64_t>(pi[o[2] + i * st[2] + j * is]);
          po[o[0] + i * st[0] + k * os] += ps[o[1] + i * st[1] + j * ss];
        });
      });
    });
  });
}

void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  gather(out, x, dim, spread_along(index, out.shape(), dim));
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_add(out, dim, spread_along(index, src.shape(), dim), src);
}

int64_t count_nonzero(const Tensor& t) { return block_ranks(t.shape(), t).back(); }

void masked_select(const Tensor& out, const Tensor& x, const Tensor& mask) {
  const std::vector<int64_t> ranks = block_ranks(x.shape(), mask);
  const LoopGeometry<2> g = make_geometry<2>(x.shape(), {&x, &mask});
  const int64_t os = out.strides()[0];
  dispatch<DTypeSet::all>(x.dtype(), "masked_select", [&]<class T>() {
    T* po = out.data<T>();
    const T* px = x.data<T>();
    const bool* pm = mask.data<bool>();
    for_each_block(x.numel(), [&](int64_t k, int64_t begin, int64_t end) {
      int64_t r = ranks[k];
      walk(g, begin, end, [&](int64_t, const auto& o, int64_t count, const auto& st) {
        for (int64_t i = 0; i < count; ++i)
          if (pm[o[1] + i * st[1]]) po[r++ * os] = px[o[0] + i * st[0]];
      });
    });
  });
}

void masked_scatter(const Tensor& out, const Tensor& mask, const Tensor& src) {
  const std::vector<int64_t> ranks = block_ranks(out.shape(), mask);
  const LoopGeometry<2> g = make_geometry<2>(out.shape(), {&out, &mask});
  const int64_t ss = src.strides()[0];
  dispatch<DTypeSet::all>(out.dtype(), "masked_scatter", [&]<class T>() {
    T* po = out.data<T>();
    const T* ps = src.data<T>();
    const bool* pm = mask.data<bool>();
    for_each_block(out.numel(), [&](int64_t k, int64_t begin, int64_t end) {
      int64_t r = ranks[k];
      walk(g, begin, end, [&](int64_t, const auto& o, int64_t count, const auto& st) {
        for (int64_t i = 0; i < count; ++i)
          if (pm[o[1] + i * st[1]]) po[o[0] + i * st[0]] = ps[r++ * ss];
      });
    });
  });
}

void nonzero(const Tensor& out, const Tensor& x) {
  const int64_t nd = x.dim();
  if (nd == 0) return;  // (n, 0): no coordinates to write
  const std::vector<int64_t> ranks = block_ranks(x.shape(), x);
  const LoopGeometry<1> g = make_geometry<1>(x.shape(), {&x});
  const Shape& shape = x.shape();
  const int64_t rs = out.strides()[0], cs = out.strides()[1];
  int64_t* po = out.data<int64_t>();
  dispatch<DTypeSet::all>(x.dtype(), "nonzero", [&]<class T>() {
    const T* px = x.data<T>();
    for_each_block(x.numel(), [&](int64_t k, int64_t begin, int64_t end) {
      int64_t r = ranks[k];
      Shape coords(nd);
      walk(g, begin, end, [&](int64_t pos, const auto& o, int64_t count, const auto& st) {
        for (int64_t d = nd - 1, flat = pos; d >= 0; --d) {
          coords[d] = flat % shape[d];
          flat /= shape[d];
        }
        for (int64_t i = 0; i < count; ++i) {
          if (px[o[0] + i * st[0]] != T(0)) {
            for (int64_t d = 0; d < nd; ++d) po[r * rs + d * cs] = coords[d];
            ++r;
          }
          for (int64_t d = nd - 1; d >= 0 && ++coords[d] == shape[d]; --d) coords[d] = 0;
        }
      });
    });
  });
}

} // namespace splat::ops::cpu
