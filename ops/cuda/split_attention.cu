// CUDA split-attention kernels (contracts in ops/cuda/split_attention.h; the CPU kernels of
// ops/cpu/split_attention.cpp are the oracle, and both take their formulas from
// ops/split_attention_fns.h).
//
// Elementwise kernels (pool backward, r-softmax and its backward, combine forward) run one
// thread per output element in a grid-stride loop. The two reductions (pool forward: sum over R
// planes of HW; combine backward: da = sum over HW of dout * x) give one block to one output
// plane at a time: its threads stride over the plane, each folding a private double, then the
// block combines them in a fixed tree (warp shuffles, then warp totals in order), so results
// depend on the shape alone, never on the schedule; no atomics. The block is sized to the plane
// (32 to 256 threads) so small late-stage planes (7x7) do not idle most of a block.
#include "ops/cuda/split_attention.h"

#include "ops/cuda/loop.cuh"
#include "ops/split_attention_fns.h"

namespace splat::ops::cuda {
namespace {

using namespace split_attention_fns;

constexpr unsigned kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr unsigned kMaxPlaneThreads = 256;

// Every thread of the block gets the sum of v over the block. blockDim.x is a multiple of 32;
// scratch holds one double per warp and is free again on return.
__device__ double block_sum(double v, double* scratch) {
  const unsigned lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  for (unsigned d = kWarp / 2; d > 0; d /= 2) v += __shfl_xor_sync(kFullMask, v, d);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (unsigned w = 1; w < warps; ++w) v += scratch[w];
  __syncthreads();
  return v;
}

// Threads for a block that reduces `work` elements: a multiple of 32 from 32 to 256.
unsigned plane_threads(int64_t work) {
  unsigned t = kWarp;
  while (t < kMaxPlaneThreads && t < work) t *= 2;
  return t;
}

unsigned plane_blocks(int64_t planes) {
  return static_cast<unsigned>(std::clamp<int64_t>(planes, 1, kMaxBlocks));
}

// Threads per block of a grid-stride elementwise launch over n elements: tiny tensors (the
// N*R*C attentions) get one small block rather than a mostly idle 256-thread one.
unsigned elementwise_threads(int64_t n) { return n < kThreads ? plane_threads(n) : kThreads; }

Splits splits_of(const Tensor& x, int64_t radix) {
  return {x.shape()[0], x.shape()[1] / radix, radix, x.shape()[2] * x.shape()[3]};
}

template <class T> __global__ void pool_kernel(Splits s, const T* x, T* out) {
  SPLAT_SHARED(double, scratch, kMaxPlaneThreads / kWarp);
  const int64_t per_plane = s.radix * s.hw;
  for (int64_t i = blockIdx.x; i < s.n * s.c; i += gridDim.x) {
    const int64_t p0 = s.first_plane(i);
    double acc = 0;
    for (int64_t e = threadIdx.x; e < per_plane; e += blockDim.x)
      acc += x[(p0 + (e / s.hw) * s.c) * s.hw + e % s.hw];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[i] = static_cast<T>(acc / static_cast<double>(s.hw));
  }
}

template <class T> __global__ void pool_backward_kernel(Splits s, const T* dout, T* dx) {
  const int64_t total = s.n * s.radix * s.c * s.hw;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = e / s.hw, ni = p / (s.radix * s.c), ci = p % s.c;
    dx[e] = static_cast<T>(dout[ni * s.c + ci] / static_cast<double>(s.hw));
  }
}

template <class T> __global__ void rsoftmax_kernel(Groups g, int64_t n, const T* z, T* a) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    rsoftmax_group(g, z + g.z_offset(i), a + g.a_offset(i));
}

template <class T>
__global__ void rsoftmax_backward_kernel(Groups g, int64_t n, T* dz, const T* da, const T* a) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    rsoftmax_group_backward(g, dz + g.z_offset(i), da + g.a_offset(i), a + g.a_offset(i));
}

template <class T> __global__ void combine_kernel(Splits s, const T* x, const T* a, T* out) {
  const int64_t total = s.n * s.c * s.hw;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total;
       e += int64_t{gridDim.x} * blockDim.x)
    out[e] = combine_at(s, x, a, e / s.hw, e % s.hw);
}

// dx and da of output plane i for each split r: dout's plane is read R times (from cache), x's
// planes once. dx or da may be null.
template <class T>
__global__ void combine_backward_kernel(Splits s, const T* dout, const T* x, const T* a, T* dx,
                                        T* da) {
  SPLAT_SHARED(double, scratch, kMaxPlaneThreads / kWarp);
  for (int64_t i = blockIdx.x; i < s.n * s.c; i += gridDim.x) {
    const T* gi = dout + i * s.hw;
    for (int64_t r = 0; r < s.radix; ++r) {
      const int64_t p = s.first_plane(i) + r * s.c;
      const T w = a[p];
      double acc = 0;
      for (int64_t k = threadIdx.x; k < s.hw; k += blockDim.x) {
        if (dx) dx[p * s.hw + k] = gi[k] * w;
        if (da) acc += static_cast<double>(gi[k]) * x[p * s.hw + k];
      }
      if (da) {
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) da[p] = static_cast<T>(acc);
      }
    }
  }
}

template <class F> void floating(const Tensor& t, std::string_view op, F&& f) {
  splat::cuda::DeviceGuard guard(t.device());
  dispatch<DTypeSet::floating>(t.dtype(), op, std::forward<F>(f));
}

template <class T> T* data_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

} // namespace

void split_attention_pool(const Tensor& out, const Tensor& x, int64_t radix) {
  const Splits s = splits_of(x, radix);
  if (out.numel() == 0) return;
  floating(x, "split_attention_pool", [&]<class T>() {
    splat::cuda::launch(pool_kernel<T>, {plane_blocks(s.n * s.c), plane_threads(s.radix * s.hw)}, s,
                        x.data<T>(), out.data<T>());
  });
}

void split_attention_pool_backward(const Tensor& dx, const Tensor& dout, int64_t radix) {
  const Splits s = splits_of(dx, radix);
  if (dx.numel() == 0) return;
  floating(dx, "split_attention_pool_backward", [&]<class T>() {
    splat::cuda::launch(pool_backward_kernel<T>,
                        {blocks_for(dx.numel()), elementwise_threads(dx.numel())}, s,
                        dout.data<T>(), dx.data<T>());
  });
}

void rsoftmax(const Tensor& a, const Tensor& z, int64_t radix, int64_t cardinality) {
  const int64_t c = z.shape()[1] / radix, n = z.shape()[0] * c;
  if (n == 0) return;
  floating(z, "rsoftmax", [&]<class T>() {
    splat::cuda::launch(rsoftmax_kernel<T>, {blocks_for(n), elementwise_threads(n)},
                        Groups{c, c / cardinality, radix}, n, z.data<T>(), a.data<T>());
  });
}

void rsoftmax_backward(const Tensor& dz, const Tensor& da, const Tensor& a, int64_t radix,
                       int64_t cardinality) {
  const int64_t c = a.shape()[1] / radix, n = a.shape()[0] * c;
  if (n == 0) return;
  floating(a, "rsoftmax_backward", [&]<class T>() {
    splat::cuda::launch(rsoftmax_backward_kernel<T>, {blocks_for(n), elementwise_threads(n)},
                        Groups{c, c / cardinality, radix}, n, dz.data<T>(), da.data<T>(),
                        a.data<T>());
  });
}

void split_attention_combine(const Tensor& out, const Tensor& x, const Tensor& a, int64_t radix) {
  const Splits s = splits_of(x, radix);
  if (out.numel() == 0) return;
  floating(x, "split_attention_combine", [&]<class T>() {
    splat::cuda::launch(combine_kernel<T>,
                        {blocks_for(out.numel()), elementwise_threads(out.numel())}, s, x.data<T>(),
                        a.data<T>(), out.data<T>());
  });
}

void split_attention_combine_backward(const Tensor& dx, const Tensor& da, const Tensor& dout,
                                      const Tensor& x, const Tensor& a, int64_t radix) {
  const Splits s = splits_of(x, radix);
  if (s.n * s.c == 0) return; // an empty HW still writes da = 0
  floating(x, "split_attention_combine_backward", [&]<class T>() {
    splat::cuda::launch(combine_backward_kernel<T>, {plane_blocks(s.n * s.c), plane_threads(s.hw)},
                        s, dout.data<T>(), x.data<T>(), a.data<T>(), data_or_null<T>(dx),
                        data_or_null<T>(da));
  });
}

} // namespace splat::ops::cuda
