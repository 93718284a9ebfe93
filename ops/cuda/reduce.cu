// CUDA reductions, the counterparts of ops/cpu/reduce.cpp (contract in ops/cuda/reduce.h).
//
// Layout: the host splits x's dims into kept and reduced groups (ops/reduce_geometry.h) and
// passes them by value. A block is 256 threads arranged as (reduce lanes) x (output slots): an
// output slot owns one output element at a time, its reduce lanes stride over that output's
// reduced elements folding them into a private accumulator, and the lanes are then combined by
// warp shuffles and a shared-memory tree; reduce lane 0 writes the result (overwriting out).
// When the reduced elements are the faster-moving ones in memory the reduce lanes are
// threadIdx.x, so a warp reads consecutive elements of one output; when the kept elements are,
// the output slots are threadIdx.x, so a warp reads the same element of 32 neighbouring outputs.
// Few outputs with many elements each also split the reduced range over gridDim.y chunks: each
// block writes its partial accumulator to a workspace and a second kernel combines the chunks of
// every output in chunk order.
//
// Dtypes and accumulators as on the CPU: sums and products in acc_t<T> (double for floats, i64
// for integers and bool, which are written as i64), max/min with NaN propagation (first NaN and
// first extremum win for arg_reduce, by index, so lane order does not matter), var with Welford
// per lane merged by Chan's formula.
// Determinism: the combination tree of every output depends on the shape alone (fixed block size,
// chunking from constants rather than device properties), never on the schedule; no float atomics.
#include "ops/cuda/reduce.h"

#include "ops/cuda/loop.cuh"
#include "ops/pointwise_fns.h"
#include "ops/reduce_geometry.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace splat::ops::cuda {
namespace {

using splat::cuda::Dim3;

constexpr unsigned kFullMask = 0xffffffffu;
// Elements each reduce lane should fold at least before a reduction is split into chunks, the
// number of blocks worth filling a GPU with, and the most chunks (the second pass is serial in c).
constexpr int64_t kMinPerLane = 16;
constexpr int64_t kTargetBlocks = 512;
constexpr int64_t kMaxChunks = 64;
// About one wave of 256-thread blocks on an H100 (132 SMs x 8); more outputs loop in the blocks.
constexpr int64_t kMaxOutBlocks = 1024;

// The geometry on the device: offsets of output o's first element and of its r-th reduced one.
struct Indexer {
  int kept_ndim = 0, red_ndim = 0;
  int64_t out_numel = 1, red_numel = 1;
  int64_t kept_sizes[kMaxDims] = {}, kept_strides[kMaxDims] = {};
  int64_t red_sizes[kMaxDims] = {}, red_strides[kMaxDims] = {};

  SPLAT_HD static int64_t offset(int64_t linear, int nd, const int64_t* sizes,
                                 const int64_t* strides) {
    if (nd == 1) return linear * strides[0];
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; --d) {
      off += (linear % sizes[d]) * strides[d];
      linear /= sizes[d];
    }
    return off;
  }
  SPLAT_HD int64_t kept_offset(int64_t o) const {
    return offset(o, kept_ndim, kept_sizes, kept_strides);
  }
  SPLAT_HD int64_t red_offset(int64_t r) const {
    return offset(r, red_ndim, red_sizes, red_strides);
  }
};

Indexer make_indexer(const ReduceGeometry& g, const Tensor& x) {
  SPLAT_CHECK(g.kept_sizes.size() <= size_t{kMaxDims} && g.red_sizes.size() <= size_t{kMaxDims},
              "cuda reduce: shape ", shape_str(x.shape()), " has more than ", kMaxDims,
              " non-mergeable kept or reduced dims");
  Indexer ix;
  ix.kept_ndim = static_cast<int>(g.kept_sizes.size());
  ix.red_ndim = static_cast<int>(g.red_sizes.size());
  ix.out_numel = g.out_numel;
  ix.red_numel = g.red_numel;
  for (int d = 0; d < ix.kept_ndim; ++d) {
    ix.kept_sizes[d] = g.kept_sizes[static_cast<size_t>(d)];
    ix.kept_strides[d] = g.kept_strides[static_cast<size_t>(d)];
  }
  for (int d = 0; d < ix.red_ndim; ++d) {
    ix.red_sizes[d] = g.red_sizes[static_cast<size_t>(d)];
    ix.red_strides[d] = g.red_strides[static_cast<size_t>(d)];
  }
  return ix;
}

// ---------------------------------------------------------------------------------------------
// Warp shuffles of accumulators. The hardware shuffles 4- and 8-byte scalars: smaller ones are
// widened, structs shuffle field by field.

template <class V> __device__ V shfl_down(V v, unsigned delta, int width) {
  if constexpr (std::is_arithmetic_v<V>) {
    if constexpr (sizeof(V) < sizeof(int))
      return static_cast<V>(__shfl_down_sync(kFullMask, static_cast<int>(v), delta, width));
    else
      return __shfl_down_sync(kFullMask, v, delta, width);
  } else {
    return V::shfl_down(v, delta, width);
  }
}

// ---------------------------------------------------------------------------------------------
// The reduction ops. Each has an accumulator type Acc, identity(), step(acc, element, r) for the
// r-th reduced element, combine(a, b) and store(o, acc) writing output o.

template <class T> struct Sum {
  using Acc = acc_t<T>;
  using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  Out* out;
  SPLAT_HD Acc identity() const { return Acc(0); }
  SPLAT_HD void step(Acc& a, T v, int64_t) const { a += static_cast<Acc>(v); }
  SPLAT_HD Acc combine(Acc a, Acc b) const { return a + b; }
  SPLAT_HD void store(int64_t o, Acc a) const { out[o] = static_cast<Out>(a); }
};

template <class T> struct Mean : Sum<T> {
  double n; // reduced elements per output; 0 gives NaN as on the CPU
  SPLAT_HD void store(int64_t o, double a) const {
    this->out[o] = static_cast<T>(n == 0 ? std::numeric_limits<double>::quiet_NaN() : a / n);
  }
};

template <class T> struct Prod {
  using Acc = acc_t<T>;
  using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  Out* out;
  SPLAT_HD Acc identity() const { return Acc(1); }
  SPLAT_HD void step(Acc& a, T v, int64_t) const { a *= static_cast<Acc>(v); }
  SPLAT_HD Acc combine(Acc a, Acc b) const { return a * b; }
  SPLAT_HD void store(int64_t o, Acc a) const { out[o] = static_cast<Out>(a); }
};

// amax / amin: the identity is the far end of T's range, which fn::Maximum / fn::Minimum never
// prefer over an element (NaN included); callers reject empty reductions.
template <class T, bool kMax> struct Extreme {
  using Acc = T;
  T* out;
  SPLAT_HD Acc identity() const {
    if constexpr (std::is_floating_point_v<T>)
      return kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  SPLAT_HD Acc combine(T a, T b) const {
    return kMax ? fn::Maximum::apply(a, b) : fn::Minimum::apply(a, b);
  }
  SPLAT_HD void step(Acc& a, T v, int64_t) const { a = combine(a, v); }
  SPLAT_HD void store(int64_t o, Acc a) const { out[o] = a; }
};

// all / any on an int accumulator (bool does not shuffle).
template <class T, bool kAll> struct Logical {
  using Acc = int;
  bool* out;
  SPLAT_HD Acc identity() const { return kAll ? 1 : 0; }
  SPLAT_HD Acc combine(int a, int b) const { return kAll ? (a && b) : (a || b); }
  SPLAT_HD void step(Acc& a, T v, int64_t) const { a = combine(a, v != T(0)); }
  SPLAT_HD void store(int64_t o, Acc a) const { out[o] = a != 0; }
};

struct Welford {
  double n, mean, m2;
  __device__ static Welford shfl_down(Welford w, unsigned delta, int width) {
    return {cuda::shfl_down(w.n, delta, width), cuda::shfl_down(w.mean, delta, width),
            cuda::shfl_down(w.m2, delta, width)};
  }
};

template <class T> struct Var {
  using Acc = Welford;
  T* out;
  double denom; // n - correction
  SPLAT_HD Acc identity() const { return {0, 0, 0}; }
  SPLAT_HD void step(Acc& w, T v, int64_t) const {
    w.n += 1;
    const double d = v - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (v - w.mean);
  }
  // Chan et al.'s parallel merge of two Welford states.
  SPLAT_HD Acc combine(const Acc& a, const Acc& b) const {
    if (b.n == 0) return a;
    if (a.n == 0) return b;
    const double n = a.n + b.n, d = b.mean - a.mean;
    return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n)};
  }
  SPLAT_HD void store(int64_t o, const Acc& w) const {
    out[o] = static_cast<T>(denom <= 0 ? std::numeric_limits<double>::quiet_NaN() : w.m2 / denom);
  }
};

template <class T> struct Best {
  T value;
  int64_t index; // -1: no element yet
  __device__ static Best shfl_down(Best b, unsigned delta, int width) {
    return {cuda::shfl_down(b.value, delta, width), cuda::shfl_down(b.index, delta, width)};
  }
};

// max/min with indices: NaN beats numbers, and between equals (two NaNs included) the lower index
// wins, which is the CPU's first-occurrence rule made independent of the combination order.
template <class T, bool kMax> struct ArgExtreme {
  using Acc = Best<T>;
  T* values;
  int64_t* indices;
  SPLAT_HD Acc identity() const { return {T(0), -1}; }
  SPLAT_HD Acc combine(const Acc& a, const Acc& b) const {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool an = is_nan(a.value), bn = is_nan(b.value);
    const Acc& first = a.index < b.index ? a : b;
    if (an || bn) return an && bn ? first : an ? a : b;
    if (kMax ? a.value > b.value : a.value < b.value) return a;
    if (kMax ? b.value > a.value : b.value < a.value) return b;
    return first;
  }
  SPLAT_HD void step(Acc& a, T v, int64_t r) const { a = combine(a, Acc{v, r}); }
  SPLAT_HD void store(int64_t o, const Acc& a) const {
    values[o] = a.value;
    indices[o] = a.index;
  }
};

// ---------------------------------------------------------------------------------------------
// Kernels.

// Combines the accumulators of each output slot's reduce lanes; the result is valid in reduce
// lane 0. Every thread of the block calls it (it holds barriers). The block has a multiple of 32
// threads; reduce lanes on x are a power of two, so up to 32 of them share one warp, and reduce
// lanes on y are a power of two too. smem holds one Acc per thread.
template <class Op>
__device__ typename Op::Acc combine_lanes(const Op& op, typename Op::Acc a, typename Op::Acc* smem,
                                          bool red_on_x) {
  const unsigned tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  if (red_on_x) {
    const int width = bx < 32 ? static_cast<int>(bx) : 32;
    for (int d = width / 2; d > 0; d /= 2)
      a = op.combine(a, shfl_down(a, static_cast<unsigned>(d), width));
    if (bx > 32) {
      // Each warp's total through shared memory to the slot's first warp, which combines them.
      const unsigned warps = bx / 32, warp = tx / 32, lane = tx % 32;
      if (lane == 0) smem[ty * warps + warp] = a;
      __syncthreads();
      if (warp == 0) {
        a = lane < warps ? smem[ty * warps + lane] : op.identity();
        for (int d = 16; d > 0; d /= 2)
          a = op.combine(a, shfl_down(a, static_cast<unsigned>(d), 32));
      }
      __syncthreads(); // smem is reused for the block's next outputs
    }
    return a;
  }
  smem[ty * bx + tx] = a;
  __syncthreads();
  for (unsigned s = by / 2; s > 0; s /= 2) {
    if (ty < s) smem[ty * bx + tx] = op.combine(smem[ty * bx + tx], smem[(ty + s) * bx + tx]);
    __syncthreads();
  }
  // No barrier needed before the next output: only this thread rewrites smem[tx] (row 0) first.
  return ty == 0 ? smem[tx] : a;
}

// Grid (output blocks, chunks); each block walks outputs grid-stride, its threads laid out as
// described at the top. With one chunk the result goes to op.store, else to
// partial[chunk * out_numel + o].
template <class T, class Op>
__global__ void reduce_kernel(Indexer ix, const T* x, Op op, typename Op::Acc* partial,
                              int64_t chunk, bool red_on_x) {
  using Acc = typename Op::Acc;
  SPLAT_DYNAMIC_SHARED(Acc, smem);
  const unsigned lane = red_on_x ? threadIdx.x : threadIdx.y,
                 lanes = red_on_x ? blockDim.x : blockDim.y;
  const unsigned slot = red_on_x ? threadIdx.y : threadIdx.x,
                 slots = red_on_x ? blockDim.y : blockDim.x;
  const int64_t r_begin = static_cast<int64_t>(blockIdx.y) * chunk;
  const int64_t r_end = r_begin + chunk < ix.red_numel ? r_begin + chunk : ix.red_numel;
  // The loop bounds are the same for every thread of the block, so all reach the barriers.
  for (int64_t first = static_cast<int64_t>(blockIdx.x) * slots; first < ix.out_numel;
       first += static_cast<int64_t>(gridDim.x) * slots) {
    const int64_t o = first + slot;
    Acc a = op.identity();
    if (o < ix.out_numel) {
      const int64_t base = ix.kept_offset(o);
      for (int64_t r = r_begin + lane; r < r_end; r += lanes)
        op.step(a, x[base + ix.red_offset(r)], r);
    }
    a = combine_lanes(op, a, smem, red_on_x);
    if (lane == 0 && o < ix.out_numel) {
      if (gridDim.y == 1)
        op.store(o, a);
      else
        partial[static_cast<int64_t>(blockIdx.y) * ix.out_numel + o] = a;
    }
  }
}

// Second pass: output o combines its chunks' partials in chunk order.
template <class Op>
__global__ void combine_chunks_kernel(Op op, const typename Op::Acc* partial, int64_t chunks,
                                      int64_t n) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n;
       o += stride) {
    typename Op::Acc a = partial[o];
    for (int64_t c = 1; c < chunks; ++c) a = op.combine(a, partial[c * n + o]);
    op.store(o, a);
  }
}

// ---------------------------------------------------------------------------------------------
// Launchers.

unsigned pow2_at_least(int64_t n, unsigned cap) {
  unsigned p = 1;
  while (p < cap && p < n) p *= 2;
  return p;
}

// Block shape, grid and chunking for a geometry; see the top of the file.
struct Plan {
  bool red_on_x;
  unsigned lanes, slots, out_blocks;
  int64_t chunks, chunk;
};

Plan make_plan(const ReduceGeometry& g) {
  Plan p{};
  const int64_t n_out = g.out_numel, n_red = g.red_numel;
  p.red_on_x = g.kept_sizes.empty() || g.red_sizes.empty() ||
               std::abs(g.red_strides.back()) <= std::abs(g.kept_strides.back());
  // Outputs on x keep at least a warp's worth of them side by side when there are that many.
  const unsigned max_lanes = p.red_on_x ? kThreads : kThreads / pow2_at_least(n_out, 32);
  p.lanes = pow2_at_least(n_red, max_lanes);
  p.slots = kThreads / p.lanes;
  p.out_blocks =
      static_cast<unsigned>(std::min<int64_t>((n_out + p.slots - 1) / p.slots, kMaxOutBlocks));
  const int64_t want = (n_red + p.lanes * kMinPerLane - 1) / (p.lanes * kMinPerLane);
  p.chunks = std::clamp<int64_t>(std::min({want, kTargetBlocks / p.out_blocks, kMaxChunks}), 1,
                                 kMaxChunks);
  p.chunk = std::max<int64_t>((n_red + p.chunks - 1) / p.chunks, 1);
  p.chunks = std::max<int64_t>((n_red + p.chunk - 1) / p.chunk, 1);
  return p;
}

template <class T, class Op> void run(const ReduceGeometry& g, const Tensor& x, const Op& op) {
  using Acc = typename Op::Acc;
  if (g.out_numel == 0) return;
  const Indexer ix = make_indexer(g, x);
  const Plan p = make_plan(g);
  splat::cuda::DeviceGuard guard(x.device());
  const Dim3 block = p.red_on_x ? Dim3(p.lanes, p.slots) : Dim3(p.slots, p.lanes);
  const size_t smem = sizeof(Acc) * kThreads;
  if (p.chunks == 1) {
    splat::cuda::launch(reduce_kernel<T, Op>, {Dim3(p.out_blocks), block, smem}, ix, x.data<T>(),
                        op, static_cast<Acc*>(nullptr), p.chunk, p.red_on_x);
    return;
  }
  const Tensor workspace = Tensor::empty(
      {p.chunks * g.out_numel * static_cast<int64_t>(sizeof(Acc))}, DType::u8, x.device());
  Acc* partial = reinterpret_cast<Acc*>(workspace.data<uint8_t>());
  splat::cuda::launch(reduce_kernel<T, Op>,
                      {Dim3(p.out_blocks, static_cast<unsigned>(p.chunks)), block, smem}, ix,
                      x.data<T>(), op, partial, p.chunk, p.red_on_x);
  splat::cuda::launch(combine_chunks_kernel<Op>, {blocks_for(g.out_numel), kThreads}, op,
                      static_cast<const Acc*>(partial), p.chunks, g.out_numel);
}

} // namespace

void reduce(ReduceOp op, const Tensor& out, const Tensor& x, const std::vector<bool>& reduced) {
  const ReduceGeometry g = make_reduce_geometry(x, reduced);
  dispatch<DTypeSet::all>(x.dtype(), "reduce", [&]<class T>() {
    using S = typename Sum<T>::Out; // i64 for integral and bool inputs
    switch (op) {
    case ReduceOp::sum: run<T>(g, x, Sum<T>{out.data<S>()}); break;
    case ReduceOp::prod: run<T>(g, x, Prod<T>{out.data<S>()}); break;
    case ReduceOp::mean:
      if constexpr (std::is_floating_point_v<T>)
        run<T>(g, x, Mean<T>{{out.data<T>()}, double(g.red_numel)});
      break;
    case ReduceOp::max: run<T>(g, x, Extreme<T, true>{out.data<T>()}); break;
    case ReduceOp::min: run<T>(g, x, Extreme<T, false>{out.data<T>()}); break;
    case ReduceOp::all: run<T>(g, x, Logical<T, true>{out.data<bool>()}); break;
    case ReduceOp::any: run<T>(g, x, Logical<T, false>{out.data<bool>()}); break;
    }
  });
}

void var(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced, int64_t correction) {
  const ReduceGeometry g = make_reduce_geometry(x, reduced);
  dispatch<DTypeSet::floating>(x.dtype(), "var", [&]<class T>() {
    run<T>(g, x, Var<T>{out.data<T>(), static_cast<double>(g.red_numel - correction)});
  });
}

void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& x,
                int64_t dim) {
  const ReduceGeometry g = make_reduce_geometry(x, single_dim_mask(x, dim));
  dispatch<DTypeSet::numeric>(x.dtype(), is_max ? "max" : "min", [&]<class T>() {
    if (is_max)
      run<T>(g, x, ArgExtreme<T, true>{values.data<T>(), indices.data<int64_t>()});
    else
      run<T>(g, x, ArgExtreme<T, false>{values.data<T>(), indices.data<int64_t>()});
  });
}

} // namespace splat::ops::cuda
