// cumsum along one dim on the GPU. Sums accumulate in acc_t<T> (double for f32, i64 for integers
// and bool) and are cast to the output type once per element, as on the CPU. x and out are any
// strides; out is overwritten. Three strategies, chosen by the launcher:
//  - many strided slices (dim not innermost) or many short ones: one thread per slice, walking
//    it sequentially, with the sums added in exactly the CPU's order. Strided slices are
//    neighbours in memory, so a warp reads 32 adjacent elements per step; short dense slices
//    keep a warp within a few cache lines.
//  - otherwise one block per slice: the block walks the slice in tiles of kTileItems, each
//    thread summing kItems consecutive elements, a block scan (warp shuffles, then the warp
//    totals in shared memory) giving each thread its prefix, and a running carry.
//  - few long slices: each slice is cut into chunks scanned by separate blocks. A first kernel
//    sums every chunk, a one-block scan turns those sums into carries, and the chunk scans start
//    from their carry.
// Every strategy adds in a fixed order, so results are deterministic; integer sums are exact,
// floating ones may differ from the CPU's sequential order in the last bits of acc_t.
#include "ops/cuda/scan.h"

#include "core/cuda/device_guard.h"
#include "core/cuda/kernel.cuh"
#include "ops/cuda/loop.cuh"
#include "ops/cuda/sort.h"

#include <algorithm>
#include <type_traits>

namespace splat::ops::cuda {
namespace {

constexpr int kScanThreads = 256;
constexpr int kWarps = kScanThreads / 32;
constexpr int kItems = 4;
constexpr int64_t kTileItems = kScanThreads * kItems;
constexpr unsigned kFullMask = 0xffffffffu;
// Slices at least this many give the sequential strategy enough threads to hide its latency.
constexpr int64_t kSequentialSlices = 1024;
// Dense slices up to this long are too short to keep a block of kScanThreads busy.
constexpr int64_t kShortSlice = 32;
// A chunk shorter than this is not worth a block of its own.
constexpr int64_t kMinChunk = 8192;
// Blocks that keep a GPU busy (about two per SM on an H100); slices are chunked up to this.
constexpr int64_t kTargetBlocks = 256;

template <class Acc> __device__ Acc warp_inclusive_scan(Acc v) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  for (int d = 1; d < 32; d *= 2) {
    const Acc y = __shfl_up_sync(kFullMask, v, d);
    if (lane >= d) v += y;
  }
  return v;
}

// The sum of v over the threads of the block before this one, and the block's total. Every
// thread of the block must call it (blockDim.x == kScanThreads).
template <class Acc> __device__ Acc block_exclusive_scan(Acc v, Acc* warp_sums, Acc& total) {
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
  const Acc incl = warp_inclusive_scan(v);
  Acc excl = __shfl_up_sync(kFullMask, incl, 1);
  if (lane == 0) excl = Acc(0);
  if (lane == 31) warp_sums[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    const Acc s = warp_inclusive_scan(lane < kWarps ? warp_sums[lane] : Acc(0));
    if (lane < kWarps) warp_sums[lane] = s;
  }
  __syncthreads();
  total = warp_sums[kWarps - 1];
  const Acc prefix = warp > 0 ? warp_sums[warp - 1] + excl : excl;
  __syncthreads(); // warp_sums is rewritten by the next call
  return prefix;
}

// Segment seg = r * chunks + c is chunk c, [c * chunk_len, (c + 1) * chunk_len), of slice r.
// carries: (count, chunks) inclusive sums of the chunk totals, or nullptr when chunks == 1.
template <class In, class Out, class Acc>
__global__ void scan_kernel(int64_t chunks, int64_t chunk_len, const In* x, SliceGeometry xs,
                            Out* out, SliceGeometry os, const Acc* carries) {
  SPLAT_SHARED(Acc, warp_sums, kWarps);
  const int64_t n = xs.length, segments = xs.count * chunks;
  for (int64_t seg = blockIdx.x; seg < segments; seg += gridDim.x) {
    const int64_t r = seg / chunks, c = seg % chunks, begin = c * chunk_len;
    const int64_t end = begin + chunk_len < n ? begin + chunk_len : n;
    Acc carry = carries != nullptr && c > 0 ? carries[seg - 1] : Acc(0);
    const In* px = x + xs.offset(r);
    Out* po = out + os.offset(r);
    for (int64_t tile = begin; tile < end; tile += kTileItems) {
      const int64_t first = tile + static_cast<int64_t>(threadIdx.x) * kItems;
      Acc run[kItems];
      Acc sum = Acc(0);
      for (int m = 0; m < kItems; ++m) {
        if (first + m < end) sum += static_cast<Acc>(px[(first + m) * xs.stride]);
        run[m] = sum;
      }
      Acc total;
      const Acc base = carry + block_exclusive_scan(sum, warp_sums, total);
      for (int m = 0; m < kItems && first + m < end; ++m)
        po[(first + m) * os.stride] = static_cast<Out>(base + run[m]);
      carry += total;
    }
  }
}

// sums: (count, chunks), the total of every segment (numbered as in scan_kernel).
template <class In, class Acc>
__global__ void chunk_sum_kernel(int64_t chunks, int64_t chunk_len, const In* x, SliceGeometry xs,
                                 Acc* sums) {
  SPLAT_SHARED(Acc, warp_sums, kWarps);
  const int64_t n = xs.length, segments = xs.count * chunks;
  for (int64_t seg = blockIdx.x; seg < segments; seg += gridDim.x) {
    const int64_t r = seg / chunks, begin = (seg % chunks) * chunk_len;
    const int64_t end = begin + chunk_len < n ? begin + chunk_len : n;
    const In* px = x + xs.offset(r);
    Acc sum = Acc(0);
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
      sum += static_cast<Acc>(px[i * xs.stride]);
    Acc total;
    block_exclusive_scan(sum, warp_sums, total);
    if (threadIdx.x == 0) sums[seg] = total;
  }
}

template <class In, class Out, class Acc>
__global__ void scan_sequential_kernel(const In* x, SliceGeometry xs, Out* out, SliceGeometry os) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < xs.count;
       r += step) {
    const In* px = x + xs.offset(r);
    Out* po = out + os.offset(r);
    Acc acc = Acc(0);
    for (int64_t i = 0; i < xs.length; ++i) {
      acc += static_cast<Acc>(px[i * xs.stride]);
      po[i * os.stride] = static_cast<Out>(acc);
    }
  }
}

unsigned grid_for(int64_t segments) {
  return static_cast<unsigned>(std::min<int64_t>(segments, kMaxBlocks));
}

template <class In, class Out> void cumsum_impl(const Tensor& out, const Tensor& x, int64_t dim) {
  using Acc = acc_t<In>;
  const SliceGeometry xs = slice_geometry("cumsum", x, dim),
                      os = slice_geometry("cumsum", out, dim);
  const int64_t n = xs.length, count = xs.count;
  if (n == 0 || count == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  const In* px = x.data<In>();
  Out* po = out.data<Out>();
  if (count >= kSequentialSlices && (xs.stride != 1 || n <= kShortSlice)) {
    splat::cuda::launch(scan_sequential_kernel<In, Out, Acc>, {blocks_for(count), kThreads}, px, xs,
                        po, os);
    return;
  }
  const int64_t chunks = std::clamp<int64_t>((n + kMinChunk - 1) / kMinChunk, 1,
                                             std::max<int64_t>(1, kTargetBlocks / count));
  const int64_t chunk_len = (n + chunks - 1) / chunks;
  if (chunks == 1) {
    splat::cuda::launch(scan_kernel<In, Out, Acc>, {grid_for(count), kScanThreads}, int64_t{1}, n,
                        px, xs, po, os, static_cast<const Acc*>(nullptr));
    return;
  }
  const Tensor sums = Tensor::empty({count, chunks}, dtype_of<Acc>, x.device());
  const Tensor carries = Tensor::empty({count, chunks}, dtype_of<Acc>, x.device());
  splat::cuda::launch(chunk_sum_kernel<In, Acc>, {grid_for(count * chunks), kScanThreads}, chunks,
                      chunk_len, px, xs, sums.data<Acc>());
  const SliceGeometry ss = slice_geometry("cumsum", sums, 1),
                      cs = slice_geometry("cumsum", carries, 1);
  splat::cuda::launch(scan_kernel<Acc, Acc, Acc>, {grid_for(count), kScanThreads}, int64_t{1},
                      chunks, static_cast<const Acc*>(sums.data<Acc>()), ss, carries.data<Acc>(),
                      cs, static_cast<const Acc*>(nullptr));
  splat::cuda::launch(scan_kernel<In, Out, Acc>, {grid_for(count * chunks), kScanThreads}, chunks,
                      chunk_len, px, xs, po, os, static_cast<const Acc*>(carries.data<Acc>()));
}

} // namespace

void cumsum(const Tensor& out, const Tensor& x, int64_t dim) {
  dispatch<DTypeSet::all>(x.dtype(), "cumsum", [&]<class T>() {
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    cumsum_impl<T, Out>(out, x, dim);
  });
}

} // namespace splat::ops::cuda
