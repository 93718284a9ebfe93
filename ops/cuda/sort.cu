// Sorting on the GPU by (key, index) pairs. Each element becomes an unsigned integer key whose
// integer order is the requested order (NaN above every number, -0.0 == 0.0, inverted for
// descending), paired with its position along the dim. Comparing pairs lexicographically is a
// strict total order, so any correct sort of the pairs yields the one stable answer the CPU
// kernel gives; no step needs to be stable by construction.
//
// Pipeline for count slices of length n, on contiguous (count, n) pair buffers:
//  1. tile sort: each slice is cut into runs of width W = min(bit_ceil(n), kTile); a block loads
//     one tile of kTile pairs (several short runs, or one run of a long slice, padded with pairs
//     above every real one) into shared memory and bitonic-sorts every run, one compare-exchange
//     per thread per step.
//  2. merge passes (only when n > kTile): runs are merged pairwise, doubling their width, until
//     one run covers the slice. Every thread places one pair: its rank in its own run plus a
//     binary search for its rank in the partner run.
//  3. the first k pairs of each slice give indices, and values are gathered from x.
// topk with sorted = false marks the chosen positions and compacts them in index order with a
// cumsum of the marks.
//
// Cost: topk sorts the whole slice. For the RPN's pre-NMS topk over n = 200k anchors that is
// 98 tiles of 2048 pairs (66 bitonic steps each in shared memory) and 7 merge passes, each
// reading every pair once plus log2(width) <= 17 probes per pair: O(n log n) work with about
// 8 passes over 200k 16-byte pairs, well under a millisecond on an H100 by that count (not
// measured: no GPU here). A radix select would save the merge passes when k << n.
//
// unique sorts the flattened input with the same pipeline (in ops/sort.cpp), then marks run
// starts and numbers the runs with a cumsum.
#include "ops/cuda/sort.h"

#include "core/cuda/device_guard.h"
#include "core/cuda/kernel.cuh"
#include "ops/cuda/loop.cuh"
#include "ops/cuda/scan.h"
#include "ops/reduce_geometry.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

namespace splat::ops::cuda {

SliceGeometry slice_geometry(std::string_view op, const Tensor& t, int64_t dim) {
  SliceGeometry g;
  if (t.dim() == 0) return g;
  g.length = t.shape()[dim];
  g.stride = t.strides()[dim];
  Shape sizes;
  Strides strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t size = t.shape()[d], stride = t.strides()[d];
    if (d == dim) continue;
    g.count *= size;
    detail::push_coalesced_dim(sizes, strides, size, stride);
  }
  SPLAT_CHECK(sizes.size() <= static_cast<size_t>(kMaxSliceDims), op, ": slices of shape ",
              shape_str(t.shape()), " along dim ", dim, " need more than ", kMaxSliceDims,
              " non-mergeable dims");
  g.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < g.ndim; ++d) {
    g.sizes[d] = sizes[static_cast<size_t>(d)];
    g.strides[d] = strides[static_cast<size_t>(d)];
  }
  return g;
}

namespace {

constexpr int kTile = 2048;  // pairs one block sorts in shared memory (32 KiB with 8-byte keys)
constexpr int kMinTile = 64; // at least one full warp per block
constexpr int64_t kPadIndex = INT64_MAX;

template <class B> SPLAT_HD constexpr B sign_bit() { return B(1) << (8 * sizeof(B) - 1); }

// The integer key of a value: key order is ascending order; Bits is the key type.
template <class T> struct SortKey {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

  SPLAT_HD static Bits ascending(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (v != v) return ~Bits(0); // every NaN, whatever its sign and payload, above +inf
      if (v == T(0)) v = T(0);     // -0.0 joins 0.0
      Bits b;
      memcpy(&b, &v, sizeof b);
      // Negative floats order backwards as integers: flip them; lift the positives above.
      return (b & sign_bit<Bits>()) ? ~b : (b | sign_bit<Bits>());
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<Bits>(v) ^ sign_bit<Bits>();
    } else {
      return static_cast<Bits>(v);
    }
  }
  SPLAT_HD static Bits of(T v, bool descending) {
    return descending ? ~ascending(v) : ascending(v);
  }
};

template <class K> SPLAT_HD bool pair_less(K ka, int64_t ia, K kb, int64_t ib) {
  return ka < kb || (ka == kb && ia < ib);
}

template <class K> __device__ void compare_exchange(K* keys, int64_t* idx, int a, int b) {
  if (pair_less(keys[b], idx[b], keys[a], idx[a])) {
    const K k = keys[a];
    keys[a] = keys[b];
    keys[b] = k;
    const int64_t i = idx[a];
    idx[a] = idx[b];
    idx[b] = i;
  }
}

// Sorts every aligned run of `width` pairs of the shared tile ascending; blockDim.x is half the
// tile, one compare-exchange per thread per step. Each merge stage starts with a "flip" step
// (i against the mirrored position), so every run ends ascending with no direction bits and
// runs never interact.
template <class K> __device__ void bitonic_sort_runs(K* keys, int64_t* idx, int width) {
  const int t = static_cast<int>(threadIdx.x);
  for (int size = 2; size <= width; size <<= 1) {
    const int half = size / 2, o = t % half, start = (t / half) * size;
    compare_exchange(keys, idx, start + o, start + size - 1 - o);
    __syncthreads();
    for (int j = size / 4; j > 0; j >>= 1) {
      const int a = (t / j) * 2 * j + t % j;
      compare_exchange(keys, idx, a, a + j);
      __syncthreads();
    }
  }
}

// x: count slices of length n (xs); keys, idx: (count, n) contiguous, written as sorted runs of
// `width`. Dynamic shared memory: tile int64 indices, then tile keys.
template <class T, class K>
__global__ void tile_sort_kernel(const T* x, SliceGeometry xs, bool descending,
                                 int64_t runs_per_slice, int width, int tile, K* keys,
                                 int64_t* idx) {
  SPLAT_DYNAMIC_SHARED(unsigned char, smem);
  int64_t* s_idx = reinterpret_cast<int64_t*>(smem);
  K* s_keys = reinterpret_cast<K*>(smem + sizeof(int64_t) * tile);
  const int64_t n = xs.length, total_runs = xs.count * runs_per_slice;
  const int runs_per_tile = tile / width;
  const int64_t tiles = (total_runs + runs_per_tile - 1) / runs_per_tile;
  for (int64_t b = blockIdx.x; b < tiles; b += gridDim.x) {
    for (int s = threadIdx.x; s < tile; s += blockDim.x) {
      const int64_t run = b * runs_per_tile + s / width;
      const int64_t r = run / runs_per_slice, p = (run % runs_per_slice) * width + s % width;
      if (run < total_runs && p < n) {
        s_keys[s] = SortKey<T>::of(x[xs.offset(r) + p * xs.stride], descending);
        s_idx[s] = p;
      } else {
        s_keys[s] = ~K(0);
        s_idx[s] = kPadIndex;
      }
    }
    __syncthreads();
    bitonic_sort_runs(s_keys, s_idx, width);
    // Padding sorts to the end of its run, so slot s of a run holds its s-th real pair.
    for (int s = threadIdx.x; s < tile; s += blockDim.x) {
      const int64_t run = b * runs_per_tile + s / width;
      const int64_t r = run / runs_per_slice, p = (run % runs_per_slice) * width + s % width;
      if (run < total_runs && p < n) {
        keys[r * n + p] = s_keys[s];
        idx[r * n + p] = s_idx[s];
      }
    }
    __syncthreads(); // the next tile reuses shared memory
  }
}

// One merge pass over (count, n) buffers: runs of `width` pairs become runs of 2 * width.
template <class K>
__global__ void merge_kernel(int64_t count, int64_t n, int64_t width, const K* keys,
                             const int64_t* idx, K* keys_out, int64_t* idx_out) {
  const int64_t total = count * n, step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const int64_t base = e - e % n, p = e % n;
    const int64_t run = p / width, own_start = run * width, pair_start = (run - run % 2) * width;
    int64_t lo = run % 2 == 0 ? own_start + width : own_start - width;
    int64_t hi = lo + width;
    lo = lo < n ? lo : n;
    hi = hi < n ? hi : n;
    const int64_t other_start = lo;
    const K key = keys[e];
    const int64_t id = idx[e];
    while (lo < hi) { // first pair of the partner run that is not before (key, id)
      const int64_t mid = lo + (hi - lo) / 2;
      if (pair_less(keys[base + mid], idx[base + mid], key, id))
        lo = mid + 1;
      else
        hi = mid;
    }
    const int64_t dest = base + pair_start + (p - own_start) + (lo - other_start);
    keys_out[dest] = key;
    idx_out[dest] = id;
  }
}

// The first k sorted pairs of each slice: indices (is) and, if values != nullptr, the values (vs)
// gathered from x (xs).
template <class T>
__global__ void write_prefix_kernel(int64_t n, int64_t k, const int64_t* idx, const T* x,
                                    SliceGeometry xs, int64_t* indices, SliceGeometry is, T* values,
                                    SliceGeometry vs) {
  const int64_t total = xs.count * k, step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const int64_t r = e / k, j = e % k, id = idx[r * n + j];
    indices[is.offset(r) + j * is.stride] = id;
    if (values != nullptr) values[vs.offset(r) + j * vs.stride] = x[xs.offset(r) + id * xs.stride];
  }
}

// chosen: (count, n), zeroed; marks the positions of the first k sorted pairs of each slice.
__global__ void mark_chosen_kernel(int64_t count, int64_t n, int64_t k, const int64_t* idx,
                                   bool* chosen) {
  const int64_t total = count * k, step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const int64_t r = e / k;
    chosen[r * n + idx[r * n + e % k]] = true;
  }
}

// rank: (count, n), inclusive cumsum of chosen along each slice, so a chosen position goes to
// output slot rank - 1: the chosen elements in increasing index order.
template <class T>
__global__ void write_chosen_kernel(int64_t n, const bool* chosen, const int64_t* rank, const T* x,
                                    SliceGeometry xs, int64_t* indices, SliceGeometry is, T* values,
                                    SliceGeometry vs) {
  const int64_t total = xs.count * n, step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    if (!chosen[e]) continue;
    const int64_t r = e / n, i = e % n, j = rank[e] - 1;
    indices[is.offset(r) + j * is.stride] = i;
    if (values != nullptr) values[vs.offset(r) + j * vs.stride] = x[xs.offset(r) + i * xs.stride];
  }
}

template <class K> K* key_data(const Tensor& t) {
  if constexpr (sizeof(K) == 8)
    return reinterpret_cast<K*>(t.data<int64_t>());
  else
    return reinterpret_cast<K*>(t.data<int32_t>());
}

// How tile_sort_kernel covers count slices of length n.
struct TilePlan {
  int width; // run width: every slice is cut into runs this long (a power of two)
  int64_t runs_per_slice;
  int tile; // pairs per block, a multiple of width; blocks have tile / 2 threads
  unsigned blocks, threads;
  size_t shared_bytes;
};

TilePlan plan_tiles(int64_t count, int64_t n, size_t key_bytes) {
  TilePlan p;
  p.width = static_cast<int>(std::bit_ceil(static_cast<uint64_t>(std::min<int64_t>(n, kTile))));
  p.runs_per_slice = (n + p.width - 1) / p.width;
  // Few short slices need no full tile.
  const int64_t pairs = std::min<int64_t>(count * p.runs_per_slice * p.width, kTile);
  p.tile = std::max(kMinTile, static_cast<int>(std::bit_ceil(static_cast<uint64_t>(pairs))));
  const int64_t runs_per_tile = p.tile / p.width;
  const int64_t tiles = (count * p.runs_per_slice + runs_per_tile - 1) / runs_per_tile;
  p.blocks = static_cast<unsigned>(std::min<int64_t>(tiles, kMaxBlocks));
  p.threads = static_cast<unsigned>(p.tile / 2);
  p.shared_bytes = static_cast<size_t>(p.tile) * (sizeof(int64_t) + key_bytes);
  return p;
}

template <class T>
void sort_prefix_impl(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim,
                      int64_t k, bool descending, bool in_index_order) {
  using K = typename SortKey<T>::Bits;
  const SliceGeometry xs = slice_geometry("sort", x, dim),
                      is = slice_geometry("sort", indices, dim);
  const SliceGeometry vs = values.defined() ? slice_geometry("sort", values, dim) : is;
  const int64_t n = xs.length, count = xs.count;
  if (k == 0 || count == 0) return;
  const Device dev = x.device();
  splat::cuda::DeviceGuard guard(dev);
  const DType key_dtype = sizeof(K) == 8 ? DType::i64 : DType::i32;
  Tensor keys[2] = {Tensor::empty({count * n}, key_dtype, dev), Tensor()};
  Tensor idx[2] = {Tensor::empty({count * n}, DType::i64, dev), Tensor()};

  const TilePlan plan = plan_tiles(count, n, sizeof(K));
  splat::cuda::launch(tile_sort_kernel<T, K>, {plan.blocks, plan.threads, plan.shared_bytes},
                      x.data<T>(), xs, descending, plan.runs_per_slice, plan.width, plan.tile,
                      key_data<K>(keys[0]), idx[0].data<int64_t>());

  int cur = 0;
  for (int64_t w = plan.width; w < n; w *= 2) {
    if (!keys[1].defined()) {
      keys[1] = Tensor::empty({count * n}, key_dtype, dev);
      idx[1] = Tensor::empty({count * n}, DType::i64, dev);
    }
    splat::cuda::launch(merge_kernel<K>, {blocks_for(count * n), kThreads}, count, n, w,
                        static_cast<const K*>(key_data<K>(keys[cur])),
                        static_cast<const int64_t*>(idx[cur].data<int64_t>()),
                        key_data<K>(keys[1 - cur]), idx[1 - cur].data<int64_t>());
    cur = 1 - cur;
  }

  const int64_t* sorted = idx[cur].data<int64_t>();
  T* pv = values.defined() ? values.data<T>() : nullptr;
  if (!in_index_order) {
    splat::cuda::launch(write_prefix_kernel<T>, {blocks_for(count * k), kThreads}, n, k, sorted,
                        static_cast<const T*>(x.data<T>()), xs, indices.data<int64_t>(), is, pv,
                        vs);
    return;
  }
  const Tensor chosen = Tensor::empty({count, n}, DType::b8, dev);
  splat::cuda::memset(chosen.data<bool>(), 0, static_cast<size_t>(count * n));
  splat::cuda::launch(mark_chosen_kernel, {blocks_for(count * k), kThreads}, count, n, k, sorted,
                      chosen.data<bool>());
  const Tensor rank = Tensor::empty({count, n}, DType::i64, dev);
  cumsum(rank, chosen, 1);
  splat::cuda::launch(write_chosen_kernel<T>, {blocks_for(count * n), kThreads}, n,
                      static_cast<const bool*>(chosen.data<bool>()),
                      static_cast<const int64_t*>(rank.data<int64_t>()),
                      static_cast<const T*>(x.data<T>()), xs, indices.data<int64_t>(), is, pv, vs);
}

// Sorted position j starts a run: each NaN starts its own, as NaN != NaN.
template <class T> SPLAT_HD bool starts_run(const T* p, int64_t s, int64_t j) {
  return j == 0 || !(p[j * s] == p[(j - 1) * s]);
}

// Adds the number of run starts among sorted's n elements (stride s) to *total.
template <class T>
__global__ void count_runs_kernel(int64_t n, const T* p, int64_t s, unsigned long long* total) {
  SPLAT_SHARED(unsigned long long, warp_sums, kThreads / 32);
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  unsigned long long c = 0;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n; j += step)
    c += starts_run(p, s, j);
  for (int d = 16; d > 0; d /= 2) c += __shfl_down_sync(0xffffffffu, c, d);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = c;
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned long long block = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) block += warp_sums[w];
    atomicAdd(total, block);
  }
}

// starts: (n,) bool, one flag per sorted position.
template <class T>
__global__ void mark_starts_kernel(int64_t n, const T* p, int64_t s, bool* starts) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n; j += step)
    starts[j] = starts_run(p, s, j);
}

// run_no: inclusive cumsum of the starts, so sorted position j lies in run run_no[j] - 1.
// Writes each run's value and, when asked, its first position (first) and every element's run
// number through perm (inverse).
template <class T>
__global__ void scatter_runs_kernel(int64_t n, const T* p, int64_t s, const bool* starts,
                                    const int64_t* run_no, const int64_t* perm, int64_t ps,
                                    T* values, int64_t vs, int64_t* first, int64_t* inverse) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n; j += step) {
    const int64_t u = run_no[j] - 1;
    if (inverse != nullptr) inverse[perm[j * ps]] = u;
    if (!starts[j]) continue;
    values[u * vs] = p[j * s];
    if (first != nullptr) first[u] = j;
  }
}

// counts[u] = first[u + 1] - first[u], the last run ending at n.
__global__ void run_lengths_kernel(int64_t runs, int64_t n, const int64_t* first, int64_t* counts,
                                   int64_t cs) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < runs; u += step)
    counts[u * cs] = (u + 1 < runs ? first[u + 1] : n) - first[u];
}

} // namespace

void sort_prefix(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim,
                 int64_t k, bool descending, bool in_index_order) {
  dispatch<DTypeSet::all>(x.dtype(), "sort", [&]<class T>() {
    sort_prefix_impl<T>(values, indices, x, dim, k, descending, in_index_order);
  });
}

int64_t count_runs(const Tensor& sorted) {
  const int64_t n = sorted.numel();
  if (n == 0) return 0;
  splat::cuda::DeviceGuard guard(sorted.device());
  const Tensor total = Tensor::empty({1}, DType::i64, sorted.device());
  splat::cuda::memset(total.data<int64_t>(), 0, sizeof(int64_t));
  dispatch<DTypeSet::all>(sorted.dtype(), "unique", [&]<class T>() {
    splat::cuda::launch(count_runs_kernel<T>, {blocks_for(n), kThreads}, n,
                        static_cast<const T*>(sorted.data<T>()), sorted.stride(0),
                        reinterpret_cast<unsigned long long*>(total.data<int64_t>()));
  });
  return total.item<int64_t>();
}

void unique_runs(const Tensor& values, const Tensor& counts, const Tensor& inverse,
                 const Tensor& sorted, const Tensor& perm) {
  const int64_t n = sorted.numel(), runs = values.numel();
  if (n == 0) return;
  const Device dev = sorted.device();
  splat::cuda::DeviceGuard guard(dev);
  const Tensor starts = Tensor::empty({n}, DType::b8, dev),
               run_no = Tensor::empty({n}, DType::i64, dev);
  const Tensor first = counts.defined() ? Tensor::empty({runs}, DType::i64, dev) : Tensor();
  dispatch<DTypeSet::all>(sorted.dtype(), "unique", [&]<class T>() {
    const T* p = sorted.data<T>();
    splat::cuda::launch(mark_starts_kernel<T>, {blocks_for(n), kThreads}, n, p, sorted.stride(0),
                        starts.data<bool>());
    cumsum(run_no, starts, 0);
    splat::cuda::launch(scatter_runs_kernel<T>, {blocks_for(n), kThreads}, n, p, sorted.stride(0),
                        static_cast<const bool*>(starts.data<bool>()),
                        static_cast<const int64_t*>(run_no.data<int64_t>()),
                        static_cast<const int64_t*>(perm.data<int64_t>()), perm.stride(0),
                        values.data<T>(), values.stride(0),
                        first.defined() ? first.data<int64_t>() : nullptr,
                        inverse.defined() ? inverse.data<int64_t>() : nullptr);
  });
  if (counts.defined())
    splat::cuda::launch(run_lengths_kernel, {blocks_for(runs), kThreads}, runs, n,
                        static_cast<const int64_t*>(first.data<int64_t>()), counts.data<int64_t>(),
                        counts.stride(0));
}

} // namespace splat::ops::cuda
