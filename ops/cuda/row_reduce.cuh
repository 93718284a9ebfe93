// Per-row reductions inside one block, shared by the softmax kernels (ops/cuda/softmax.cu) and
// the fused cross-entropy (ops/cuda/loss.cu).
//
// A row is n elements spaced `inner` apart in a contiguous (outer, n, inner) tensor
// (cpu::SoftmaxRows); row r starts at (r / inner) * n * inner + r % inner. A block of kRowBlock
// threads is laid out as (lanes) x (slots): each slot owns one row at a time and its lanes
// stride over the row's elements, then combine_lanes merges the lanes' accumulators.
//  * inner == 1 (rows contiguous): lanes on threadIdx.x, so a warp reads consecutive elements of
//    one row; rows up to kWarpRowMax get at most a warp (merged by shuffles), longer rows all
//    kRowBlock threads (shuffles, then shared memory across the warps).
//  * inner > 1: slots on threadIdx.x, so a warp reads the same element of neighbouring rows
//    (consecutive addresses); lanes on threadIdx.y merge by a shared-memory tree.
// Rows longer than the lanes are walked in a loop. Every lane gets the merged value, and the
// merge order depends on the shape only, so results never depend on the schedule.
#pragma once

#include "core/cuda/kernel.cuh"
#include "ops/cpu/softmax.h"

#include <algorithm>
#include <limits>

namespace splat::ops::cuda {

constexpr unsigned kRowBlock = 256;
constexpr unsigned kRowMaxBlocks = 4096; // more rows loop in the blocks (grid-stride)
constexpr int64_t kWarpRowMax = 1024;    // 32 elements per lane

struct RowPlan {
  cpu::SoftmaxRows rows;
  bool lanes_on_x;
  unsigned lanes, slots, blocks;

  splat::cuda::Dim3 block() const {
    return lanes_on_x ? splat::cuda::Dim3(lanes, slots) : splat::cuda::Dim3(slots, lanes);
  }
  int64_t row_count() const { return rows.outer * rows.inner; }
};

inline RowPlan make_row_plan(const cpu::SoftmaxRows& r) {
  auto pow2_at_least = [](int64_t n, unsigned cap) {
    unsigned p = 1;
    while (p < cap && p < n) p *= 2;
    return p;
  };
  RowPlan p{r, r.inner == 1, 1, 1, 1};
  // Contiguous rows up to kWarpRowMax elements get a warp at most (merged by shuffles alone, no
  // barriers), longer ones the whole block. Strided rows keep up to a warp of neighbouring rows
  // side by side for coalescing.
  const unsigned max_lanes = !p.lanes_on_x        ? kRowBlock / pow2_at_least(r.inner, 32)
                             : r.n <= kWarpRowMax ? 32
                                                  : kRowBlock;
  p.lanes = pow2_at_least(r.n, max_lanes);
  p.slots = kRowBlock / p.lanes;
  p.blocks = static_cast<unsigned>(
      std::clamp<int64_t>((p.row_count() + p.slots - 1) / p.slots, 1, kRowMaxBlocks));
  return p;
}

// This thread's place in the plan's block layout.
struct RowThread {
  unsigned lane, lanes, slot, slots;
};
__device__ inline RowThread row_thread(bool lanes_on_x) {
  return lanes_on_x ? RowThread{threadIdx.x, blockDim.x, threadIdx.y, blockDim.y}
                    : RowThread{threadIdx.y, blockDim.y, threadIdx.x, blockDim.x};
}

SPLAT_HD inline int64_t row_base(const cpu::SoftmaxRows& r, int64_t row) {
  return (row / r.inner) * r.n * r.inner + row % r.inner;
}

// The online softmax normaliser of a set of values: their max m and s = sum exp(v - m). -inf
// values add nothing, so a row of -inf ends with s = 0 (and NaN results, as in PyTorch).
template <class T> struct MaxSum {
  T m, s;
  SPLAT_HD static MaxSum identity() { return {-std::numeric_limits<T>::infinity(), T(0)}; }
  // Symmetric in a and b, bit for bit, so butterfly shuffles leave every lane the same value.
  SPLAT_HD static MaxSum combine(MaxSum a, MaxSum b) {
    constexpr T kNegInf = -std::numeric_limits<T>::infinity();
    if (b.m == kNegInf) return a;
    if (a.m == kNegInf) return b;
    const T m = a.m > b.m ? a.m : b.m;
    return {m, a.s * std::exp(a.m - m) + b.s * std::exp(b.m - m)};
  }
  SPLAT_HD void add(T v) { *this = combine(*this, MaxSum{v, T(1)}); }
  __device__ static MaxSum shfl_xor(MaxSum a, int mask, int width) {
    return {__shfl_xor_sync(0xffffffffu, a.m, mask, width),
            __shfl_xor_sync(0xffffffffu, a.s, mask, width)};
  }
};

template <class T> struct Sum {
  T v;
  SPLAT_HD static Sum identity() { return {T(0)}; }
  SPLAT_HD static Sum combine(Sum a, Sum b) { return {a.v + b.v}; }
  __device__ static Sum shfl_xor(Sum a, int mask, int width) {
    return {__shfl_xor_sync(0xffffffffu, a.v, mask, width)};
  }
};

// Merges the accumulators of each slot's lanes and returns the result to every lane. Every
// thread of the block calls it (it holds barriers); smem holds kRowBlock accumulators.
template <class Acc> __device__ Acc combine_lanes(Acc a, Acc* smem, bool lanes_on_x) {
  if (lanes_on_x) {
    const unsigned lanes = blockDim.x;
    const int width = lanes < 32 ? static_cast<int>(lanes) : 32;
    for (int d = width / 2; d > 0; d /= 2) a = Acc::combine(a, Acc::shfl_xor(a, d, width));
    if (lanes <= 32) return a;
    const unsigned warps = lanes / 32, first = threadIdx.y * warps;
    if (threadIdx.x % 32 == 0) smem[first + threadIdx.x / 32] = a;
    __syncthreads();
    a = smem[first];
    for (unsigned w = 1; w < warps; ++w) a = Acc::combine(a, smem[first + w]);
    __syncthreads(); // smem is reused for the slot's next row
    return a;
  }
  const unsigned bx = blockDim.x, tx = threadIdx.x, ty = threadIdx.y;
  smem[ty * bx + tx] = a;
  __syncthreads();
  for (unsigned s = blockDim.y / 2; s > 0; s /= 2) {
    if (ty < s) smem[ty * bx + tx] = Acc::combine(smem[ty * bx + tx], smem[(ty + s) * bx + tx]);
    __syncthreads();
  }
  a = smem[tx];
  __syncthreads();
  return a;
}

// The normaliser of row `row` (a row past the end yields the identity; its threads still join
// the barriers). Every lane of the slot gets it.
template <class T>
__device__ MaxSum<T> row_max_sum(const cpu::SoftmaxRows& r, const T* x, int64_t row,
                                 int64_t row_count, const RowThread& t, MaxSum<T>* smem,
                                 bool lanes_on_x) {
  MaxSum<T> a = MaxSum<T>::identity();
  if (row < row_count) {
    const int64_t base = row_base(r, row);
    for (int64_t i = t.lane; i < r.n; i += t.lanes) a.add(x[base + i * r.inner]);
  }
  return combine_lanes(a, smem, lanes_on_x);
}

} // namespace splat::ops::cuda
