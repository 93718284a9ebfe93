// Elementwise CUDA kernels over strided, broadcast operands: the machinery under every CUDA
// pointwise op, the counterpart of ops/cpu/loop.h.
//
//   cuda::map<float, float, float>(out, fn, a, b);   // out[i] = fn(a[i], b[i])
//
// fn is a functor with a SPLAT_HD call operator (no device lambdas, so the same source builds
// under g++ for the emulator). The host side coalesces dims (ops/loop_geometry.h) and passes
// per-operand strides by value; each thread turns its linear index into offsets. Grid-stride
// loop, 256 threads per block.
#pragma once

#include "core/cuda/device_guard.h"
#include "core/cuda/kernel.cuh"
#include "ops/loop_geometry.h"

#include <algorithm>
#include <concepts>
#include <utility>

namespace splat::ops::cuda {

constexpr int kMaxDims = 10;  // after coalescing; more is an error naming the shape
constexpr unsigned kThreads = 256;
constexpr unsigned kMaxBlocks = 4096;

template <int N> struct Offsets {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  SPLAT_HD void at(int64_t linear, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
  }
};

template <size_t N> Offsets<static_cast<int>(N)> offsets_of(const LoopGeometry<N>& g, const Shape& shape) {
  SPLAT_CHECK(g.sizes.size() <= static_cast<size_t>(kMaxDims), "cuda: shape ", shape_str(shape),
              " has more than ", kMaxDims, " non-mergeable dims");
  Offsets<static_cast<int>(N)> o;
  o.ndim = static_cast<int>(g.sizes.size());
  for (int d = 0; d < o.ndim; ++d) {
    o.sizes[d] = g.sizes[static_cast<size_t>(d)];
    for (size_t k = 0; k < N; ++k) o.strides[k][d] = g.strides[k][static_cast<size_t>(d)];
  }
  return o;
}

// Blocks for n elements: enough to fill a GPU, capped so a grid-stride loop covers the rest.
inline unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

template <class Out, class F, class... In, size_t... K>
__device__ void map_one(int64_t i, const Offsets<1 + sizeof...(In)>& oc, Out* out, const F& f,
                        std::index_sequence<K...>, const In*... in) {
  int64_t off[1 + sizeof...(In)];
  oc.at(i, off);
  out[off[0]] = f(in[off[K + 1]]...);
}

template <class Out, class F, class... In>
__global__ void map_kernel(int64_t n, Offsets<1 + sizeof...(In)> oc, Out* out, F f, const In*... in) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    map_one(i, oc, out, f, std::index_sequence_for<In...>{}, in...);
}

// out[i] = f(in[i]...) over out.shape(); inputs broadcast to it; any strides.
template <class Out, class... In, class F>
void map(const Tensor& out, F f, const std::same_as<Tensor> auto&... in) {
  static_assert(sizeof...(In) == sizeof...(in), "one C++ type per input tensor");
  constexpr size_t N = 1 + sizeof...(In);
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto oc = offsets_of<N>(make_geometry<N>(out.shape(), {&out, &in...}), out.shape());
  splat::cuda::DeviceGuard guard(out.device());
  splat::cuda::launch(map_kernel<Out, F, In...>, {blocks_for(n), kThreads}, n, oc, out.data<Out>(),
                      f, in.template data<In>()...);
}

} // namespace splat::ops::cuda
