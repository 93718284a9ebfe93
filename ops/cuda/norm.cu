// CUDA batch norm (contract in ops/cuda/norm.h).
//
// Reductions (statistics, backward sums): one block of up to 256 threads per channel
// (grid-stride over channels), laid out as PyTorch's: threadIdx.x strides over the L positions
// of a row (so a warp reads consecutive elements) and threadIdx.y over the batch, with
// blockDim.x the smallest power of two covering L, so small planes and (N, C) inputs keep the
// threads busy. Each thread folds its elements into a private double accumulator; the block then
// merges the accumulators with warp shuffles (__shfl_down_sync) and one shared-memory round
// between warps. The merge tree depends only on the shape, so results are deterministic; no
// atomics.
// Elementwise kernels: grid y over the (n, c) rows, grid x and threadIdx.x over a row's L
// elements (no per-element index division), with the per-channel coefficients and formulas of
// ops/norm_math.h.
#include "ops/cuda/norm.h"

#include "ops/cuda/loop.cuh"
#include "ops/norm_math.h"

namespace splat::ops::cuda {
namespace {

using splat::cuda::Dim3;

constexpr unsigned kFullMask = 0xffffffffu;
constexpr unsigned kWarp = 32;
constexpr unsigned kReduceThreads = 256;
constexpr unsigned kMaxChannelBlocks = 4096;
constexpr unsigned kMaxRowBlocks = 65535; // grid y limit
constexpr unsigned kMaxRowChunks = 64;    // grid x: blocks per row

__device__ Welford shfl_down(const Welford& w, unsigned delta) {
  return {__shfl_down_sync(kFullMask, w.n, delta), __shfl_down_sync(kFullMask, w.mean, delta),
          __shfl_down_sync(kFullMask, w.m2, delta)};
}
__device__ GradSums shfl_down(const GradSums& s, unsigned delta) {
  return {__shfl_down_sync(kFullMask, s.dy, delta), __shfl_down_sync(kFullMask, s.dy_xmu, delta)};
}

template <class Acc> __device__ Acc warp_merge(Acc a) {
  for (unsigned d = kWarp / 2; d > 0; d /= 2) a = Acc::merge(a, shfl_down(a, d));
  return a;
}

// Merges the accumulators of the block's threads (a multiple of 32, numbered as the hardware
// forms warps: x fastest); the result is valid in thread (0, 0). Every thread must call it (it
// holds barriers). smem: one Acc per warp.
template <class Acc> __device__ Acc block_merge(Acc a, Acc* smem) {
  const unsigned tid = threadIdx.y * blockDim.x + threadIdx.x;
  const unsigned warp = tid / kWarp, lane = tid % kWarp;
  const unsigned warps = blockDim.x * blockDim.y / kWarp;
  a = warp_merge(a);
  if (lane == 0) smem[warp] = a;
  __syncthreads();
  if (warp == 0) a = warp_merge(lane < warps ? smem[lane] : Acc{});
  __syncthreads(); // smem is rewritten for the block's next channel
  return a;
}

template <class T> __global__ void stats_kernel(NclShape s, const T* x, T* count, T* mean, T* m2) {
  SPLAT_SHARED(Welford, smem, kReduceThreads / kWarp);
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    Welford w;
    for (int64_t n = threadIdx.y; n < s.n; n += blockDim.y)
      for (int64_t l = threadIdx.x; l < s.l; l += blockDim.x) w.add(x[(n * s.c + c) * s.l + l]);
    w = block_merge(w, smem);
    if (threadIdx.x == 0 && threadIdx.y == 0) {
      count[c] = static_cast<T>(w.n);
      mean[c] = static_cast<T>(w.mean);
      m2[c] = static_cast<T>(w.m2);
    }
  }
}

template <class T>
__global__ void grad_sums_kernel(NclShape s, const T* dy, const T* x, const T* mean, T* sum_dy,
                                 T* sum_dy_xmu) {
  SPLAT_SHARED(GradSums, smem, kReduceThreads / kWarp);
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    const double m = mean[c];
    GradSums acc;
    for (int64_t n = threadIdx.y; n < s.n; n += blockDim.y)
      for (int64_t l = threadIdx.x; l < s.l; l += blockDim.x) {
        const int64_t i = (n * s.c + c) * s.l + l;
        acc.dy += dy[i];
        acc.dy_xmu += dy[i] * (x[i] - m);
      }
    acc = block_merge(acc, smem);
    if (threadIdx.x == 0 && threadIdx.y == 0) {
      sum_dy[c] = static_cast<T>(acc.dy);
      sum_dy_xmu[c] = static_cast<T>(acc.dy_xmu);
    }
  }
}

// One thread per channel merges the sets in order.
template <class T>
__global__ void merge_kernel(int64_t sets, int64_t channels, const T* count, const T* mean,
                             const T* m2, T* out_count, T* out_mean, T* out_m2) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += stride) {
    const Welford w = merge_sets(sets, channels, c, count, mean, m2);
    out_count[c] = static_cast<T>(w.n);
    out_mean[c] = static_cast<T>(w.mean);
    out_m2[c] = static_cast<T>(w.m2);
  }
}

template <class T>
__global__ void elemt_kernel(NclShape s, const T* x, const T* mean, const T* invstd,
                             const T* weight, const T* bias, bool relu, T* y) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t row = blockIdx.y; row < s.n * s.c; row += gridDim.y) {
    const auto f = ChannelAffine<T>::at(row % s.c, mean, invstd, weight, bias, relu);
    for (int64_t l = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; l < s.l;
         l += stride)
      y[row * s.l + l] = f(x[row * s.l + l]);
  }
}

template <class T>
__global__ void backward_elemt_kernel(NclShape s, const T* dy, const T* x, const T* mean,
                                      const T* invstd, const T* weight, const T* sum_dy,
                                      const T* sum_dy_xmu, double count, T* dx) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t row = blockIdx.y; row < s.n * s.c; row += gridDim.y) {
    const auto f =
        ChannelGradInput<T>::at(row % s.c, mean, invstd, weight, sum_dy, sum_dy_xmu, count);
    for (int64_t l = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; l < s.l;
         l += stride) {
      const int64_t i = row * s.l + l;
      dx[i] = f(dy[i], x[i]);
    }
  }
}

// The smallest power of two >= n, between lo and hi.
unsigned pow2_between(int64_t n, unsigned lo, unsigned hi) {
  unsigned p = lo;
  while (p < hi && p < n) p *= 2;
  return p;
}

struct GridBlock {
  Dim3 grid, block;
};

// Reductions: one block per channel, threads (L lanes, batch lanes), 256 in all or fewer (a
// warp at least) when a channel has fewer elements, as the BN after a global pool has.
GridBlock reduce_shape(const NclShape& s) {
  const unsigned threads = pow2_between(s.per_channel(), kWarp, kReduceThreads);
  const unsigned lanes = pow2_between(s.l, 1, threads);
  return {Dim3(static_cast<unsigned>(std::clamp<int64_t>(s.c, 1, kMaxChannelBlocks))),
          Dim3(lanes, threads / lanes)};
}

// Elementwise: a warp-multiple block over L, enough blocks per row to cover it, rows on grid y.
GridBlock elemt_shape(const NclShape& s) {
  const unsigned threads = pow2_between(s.l, kWarp, kThreads);
  const int64_t chunks = (s.l + threads - 1) / threads;
  return {Dim3(static_cast<unsigned>(std::clamp<int64_t>(chunks, 1, kMaxRowChunks)),
               static_cast<unsigned>(std::clamp<int64_t>(s.n * s.c, 1, kMaxRowBlocks))),
          Dim3(threads)};
}

} // namespace

void batch_norm_stats(const BatchStats& stats, const Tensor& x) {
  const NclShape s = ncl_shape(x);
  if (s.c == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_stats", [&]<class T>() {
    const GridBlock g = reduce_shape(s);
    splat::cuda::launch(stats_kernel<T>, {g.grid, g.block}, s, x.data<T>(), stats.count.data<T>(),
                        stats.mean.data<T>(), stats.m2.data<T>());
  });
}

void batch_norm_merge_stats(const BatchStats& out, const BatchStats& sets) {
  const int64_t n_sets = sets.count.size(0), channels = sets.count.size(1);
  if (channels == 0) return;
  splat::cuda::DeviceGuard guard(out.mean.device());
  dispatch<DTypeSet::floating>(sets.mean.dtype(), "batch_norm_merge_stats", [&]<class T>() {
    splat::cuda::launch(merge_kernel<T>, {blocks_for(channels), kThreads}, n_sets, channels,
                        sets.count.data<T>(), sets.mean.data<T>(), sets.m2.data<T>(),
                        out.count.data<T>(), out.mean.data<T>(), out.m2.data<T>());
  });
}

void batch_norm_elemt(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, Activation act) {
  const NclShape s = ncl_shape(x);
  if (x.numel() == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_elemt", [&]<class T>() {
    const GridBlock g = elemt_shape(s);
    splat::cuda::launch(elemt_kernel<T>, {g.grid, g.block}, s, x.data<T>(), mean.data<T>(),
                        invstd.data<T>(), data_or_null<T>(weight), data_or_null<T>(bias),
                        act == Activation::relu, y.data<T>());
  });
}

void batch_norm_backward_reduce(const BatchNormGradSums& sums, const Tensor& dy, const Tensor& x,
                                const Tensor& mean) {
  const NclShape s = ncl_shape(x);
  if (s.c == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_backward_reduce", [&]<class T>() {
    const GridBlock g = reduce_shape(s);
    splat::cuda::launch(grad_sums_kernel<T>, {g.grid, g.block}, s, dy.data<T>(), x.data<T>(),
                        mean.data<T>(), sums.sum_dy.data<T>(), sums.sum_dy_xmu.data<T>());
  });
}

void batch_norm_backward_elemt(const Tensor& dx, const Tensor& dy, const Tensor& x,
                               const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                               const BatchNormGradSums& sums, double count) {
  const NclShape s = ncl_shape(x);
  if (x.numel() == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_backward_elemt", [&]<class T>() {
    const GridBlock g = elemt_shape(s);
    splat::cuda::launch(backward_elemt_kernel<T>, {g.grid, g.block}, s, dy.data<T>(), x.data<T>(),
                        mean.data<T>(), invstd.data<T>(), data_or_null<T>(weight),
                        sums.sum_dy.data<T>(), sums.sum_dy_xmu.data<T>(), count, dx.data<T>());
  });
}

} // namespace splat::ops::cuda
