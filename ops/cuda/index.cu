// CUDA kernels for indexing ops (contracts in ops/cpu/index.h; the CPU kernels are the oracle).
//
// Conventions: tensors live on one CUDA device with any strides (outputs are never expanded).
// Index tensors are i64 or i32 and were checked by find_bad_index before any kernel here reads
// them, so kernels do no bounds checks. gather, index_select, masked_select, masked_scatter
// and nonzero overwrite; scatter_add and index_add accumulate (+=) into out. A "position" is a
// flat row-major position in a tensor's shape; per-thread element offsets come from the
// Offsets of ops/cuda/loop.cuh. Gathers take every dtype, the accumulating kernels numeric ones.
//
// Accumulation is deterministic and gives the CPU kernel's bits: each element of out that
// receives contributions is owned by one thread, which starts from out's value and adds them
// in increasing position along dim, the CPU's order. Two launchers do this:
//  * per line: one thread per 1-d slice of index along dim ("line"; all of it lands in one line
//    of out) walks the line in order. O(len) serial steps per thread and no scratch; chosen when
//    lines are short or numerous enough to fill the GPU.
//  * sorted: a stable LSD radix sort (one bit per pass, each pass a stable partition built on
//    the prefix scan below) orders index positions by destination element; one thread per run
//    of equal destinations then sums the run. Cost: B passes of 3 launches over the n sorted
//    positions, B = bit width of the number of destination lines times the dim size, and 4n
//    int64 of scratch. Dims along which index is expanded (stride 0, as index_add's 1-d index
//    is) are left out of the sort and become extra threads of the summing kernel, so index_add
//    sorts only its K indices. A run is summed serially, so one very popular destination
//    (a padding token) is one long serial loop; the order is what makes the result exact.
//
// Order-preserving ops (count_nonzero, masked_select, masked_scatter, nonzero) and the radix
// partitions share one exclusive prefix scan over per-position flags: (1) each block counts the
// flags of a contiguous range of tiles, (2) one block scans the block counts, (3) each block
// rescans its tiles in order (warp shuffles + shared memory), starting from its offset, and
// hands every position the number of flagged positions before it.
#include "ops/cuda/index.h"

#include "ops/cuda/loop.cuh"

#include <bit>
#include <limits>

namespace splat::ops::cuda {
namespace {

constexpr unsigned kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr unsigned kScanThreads = 256;
constexpr int kScanItems = 4; // consecutive positions per thread in a tile
constexpr int64_t kTile = int64_t{kScanThreads} * kScanItems;
constexpr unsigned kMaxScanBlocks = 1024; // pass 2 scans the block counts in one block
// Scatter launcher choice (see the top of the file): lines this short, or this many, go per line.
constexpr int64_t kShortLine = 128;
constexpr int64_t kManyLines = 4096;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---------------------------------------------------------------------------------------------
// Block-level building blocks. blockDim.x is a multiple of 32 (at most 1024) and every thread
// of the block calls them; scratch is kWarp slots of shared memory, free again on return.

struct Sum {
  SPLAT_HD int64_t operator()(int64_t a, int64_t b) const { return a + b; }
};
struct Min {
  SPLAT_HD int64_t operator()(int64_t a, int64_t b) const { return a < b ? a : b; }
};

// Every thread gets op over the block's values.
template <class Op> __device__ int64_t block_reduce(int64_t v, Op op, int64_t* scratch) {
  const unsigned lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  for (int d = kWarp / 2; d > 0; d /= 2) v = op(v, __shfl_xor_sync(kFullMask, v, d));
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (unsigned w = 1; w < warps; ++w) v = op(v, scratch[w]);
  __syncthreads();
  return v;
}

__device__ int64_t warp_inclusive_scan(int64_t v) {
  const unsigned lane = threadIdx.x % kWarp;
  for (unsigned d = 1; d < kWarp; d *= 2) {
    const int64_t up = __shfl_up_sync(kFullMask, v, d);
    if (lane >= d) v += up;
  }
  return v;
}

// The sum of v over the threads before this one; total gets the block's sum.
__device__ int64_t block_exclusive_scan(int64_t v, int64_t* scratch, int64_t& total) {
  const unsigned lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  const int64_t inclusive = warp_inclusive_scan(v);
  if (lane == kWarp - 1) scratch[warp] = inclusive;
  __syncthreads();
  if (warp == 0) scratch[lane] = warp_inclusive_scan(lane < warps ? scratch[lane] : 0);
  __syncthreads();
  total = scratch[warps - 1];
  const int64_t before = warp == 0 ? 0 : scratch[warp - 1];
  __syncthreads();
  return before + inclusive - v;
}

// ---------------------------------------------------------------------------------------------
// The prefix scan. An Op has SPLAT_HD `bool flag(int64_t pos)` and
// `void apply(int64_t pos, bool flag, int64_t rank)`, rank = flagged positions before pos.
// Block b of a pass owns positions [b * span, (b + 1) * span), span a multiple of the tile.

template <class Op>
__global__ void scan_count_kernel(int64_t n, int64_t span, Op op, int64_t* counts) {
  SPLAT_SHARED(int64_t, scratch, kWarp);
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * span;
  const int64_t end = begin + span < n ? begin + span : n;
  int64_t c = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) c += op.flag(i) ? 1 : 0;
  c = block_reduce(c, Sum{}, scratch);
  if (threadIdx.x == 0) counts[blockIdx.x] = c;
}

// offsets[b] = counts before block b; offsets[blocks] = the total. One block, >= blocks threads.
__global__ void scan_blocks_kernel(unsigned blocks, const int64_t* counts, int64_t* offsets) {
  SPLAT_SHARED(int64_t, scratch, kWarp);
  int64_t total = 0;
  const int64_t before =
      block_exclusive_scan(threadIdx.x < blocks ? counts[threadIdx.x] : 0, scratch, total);
  if (threadIdx.x < blocks) offsets[threadIdx.x] = before;
  if (threadIdx.x == 0) offsets[blocks] = total;
}

template <class Op>
__global__ void scan_apply_kernel(int64_t n, int64_t span, Op op, const int64_t* offsets) {
  SPLAT_SHARED(int64_t, scratch, kWarp);
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * span;
  const int64_t end = begin + span < n ? begin + span : n;
  const int64_t tile = static_cast<int64_t>(blockDim.x) * kScanItems;
  int64_t rank = offsets[blockIdx.x];
  for (int64_t start = begin; start < end; start += tile) {
    const int64_t first = start + static_cast<int64_t>(threadIdx.x) * kScanItems;
    bool flags[kScanItems];
    int64_t count = 0;
    for (int k = 0; k < kScanItems; ++k) {
      flags[k] = first + k < end && op.flag(first + k);
      count += flags[k] ? 1 : 0;
    }
    int64_t tile_total = 0;
    int64_t r = rank + block_exclusive_scan(count, scratch, tile_total);
    for (int k = 0; k < kScanItems; ++k) {
      if (first + k < end) op.apply(first + k, flags[k], r);
      r += flags[k] ? 1 : 0;
    }
    rank += tile_total;
  }
}

// Passes 1 and 2 over [0, n), n > 0: offsets holds each block's starting rank, then the total.
struct ScanPlan {
  int64_t n = 0;
  int64_t span = 0;
  unsigned blocks = 0;
  Tensor offsets; // (blocks + 1) i64, then (blocks) block counts
  const int64_t* total() const { return offsets.data<int64_t>() + blocks; }
};

template <class Op> ScanPlan scan_count(Device device, int64_t n, const Op& op) {
  ScanPlan p;
  p.n = n;
  const int64_t tiles = ceil_div(n, kTile);
  const int64_t tiles_per_block = ceil_div(tiles, kMaxScanBlocks);
  p.span = tiles_per_block * kTile;
  p.blocks = static_cast<unsigned>(ceil_div(tiles, tiles_per_block));
  p.offsets = Tensor::empty({2 * int64_t{p.blocks} + 1}, DType::i64, device);
  int64_t* offsets = p.offsets.data<int64_t>();
  int64_t* counts = offsets + p.blocks + 1;
  const auto scan_threads = static_cast<unsigned>(ceil_div(p.blocks, kWarp) * kWarp);
  splat::cuda::launch(scan_count_kernel<Op>, {p.blocks, kScanThreads}, n, p.span, op, counts);
  splat::cuda::launch(scan_blocks_kernel, {1, scan_threads}, p.blocks,
                      static_cast<const int64_t*>(counts), offsets);
  return p;
}

template <class Op> void scan_apply(const ScanPlan& p, const Op& op) {
  splat::cuda::launch(scan_apply_kernel<Op>, {p.blocks, kScanThreads}, p.n, p.span, op,
                      static_cast<const int64_t*>(p.offsets.data<int64_t>()));
}

int64_t read_back(const int64_t* device_value, Device device) {
  int64_t v = 0;
  copy_bytes_to_host(&v, device_value, sizeof v, device);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Scan ops.

template <class T> struct NonzeroCount {
  Offsets<1> oc; // over the counted shape: {t}
  const T* t;
  SPLAT_HD bool flag(int64_t pos) const {
    int64_t off[1];
    oc.at(pos, off);
    return t[off[0]] != T(0);
  }
  SPLAT_HD void apply(int64_t, bool, int64_t) const {}
};

template <class T> struct MaskedSelect {
  Offsets<2> oc; // over x's shape: {x, mask}
  const T* x;
  const bool* mask;
  T* out;
  int64_t out_stride;
  SPLAT_HD bool flag(int64_t pos) const {
    int64_t off[2];
    oc.at(pos, off);
    return mask[off[1]];
  }
  SPLAT_HD void apply(int64_t pos, bool flag, int64_t rank) const {
    if (!flag) return;
    int64_t off[2];
    oc.at(pos, off);
    out[rank * out_stride] = x[off[0]];
  }
};

template <class T> struct MaskedScatter {
  Offsets<2> oc; // over out's shape: {out, mask}
  const bool* mask;
  const T* src;
  T* out;
  int64_t src_stride;
  SPLAT_HD bool flag(int64_t pos) const {
    int64_t off[2];
    oc.at(pos, off);
    return mask[off[1]];
  }
  SPLAT_HD void apply(int64_t pos, bool flag, int64_t rank) const {
    if (!flag) return;
    int64_t off[2];
    oc.at(pos, off);
    out[off[0]] = src[rank * src_stride];
  }
};

template <class T> struct Nonzero {
  NonzeroCount<T> count;
  int ndim;
  int64_t sizes[kMaxDims]; // x's shape, uncoalesced: coordinates are in it
  int64_t* out;
  int64_t row_stride, col_stride;
  SPLAT_HD bool flag(int64_t pos) const { return count.flag(pos); }
  SPLAT_HD void apply(int64_t pos, bool flag, int64_t rank) const {
    if (!flag) return;
    for (int d = ndim - 1; d >= 0; --d) {
      out[rank * row_stride + d * col_stride] = pos % sizes[d];
      pos /= sizes[d];
    }
  }
};

// One stable partition of an LSD radix sort: keys with bit `bit` clear first.
struct RadixPartition {
  const int64_t* keys_in;
  const int64_t* perm_in;
  int64_t* keys_out;
  int64_t* perm_out;
  int bit;
  const int64_t* zeros; // the scan's total: how many keys have the bit clear
  SPLAT_HD bool flag(int64_t pos) const { return ((keys_in[pos] >> bit) & 1) == 0; }
  SPLAT_HD void apply(int64_t pos, bool flag, int64_t rank) const {
    const int64_t dest = flag ? rank : *zeros + pos - rank;
    keys_out[dest] = keys_in[pos];
    perm_out[dest] = perm_in[pos];
  }
};

template <class T> NonzeroCount<T> nonzero_count(const Tensor& t) {
  return {offsets_of<1>(make_geometry<1>(t.shape(), {&t}), t.shape()), t.data<T>()};
}

// ---------------------------------------------------------------------------------------------
// Gathers and scatters.

// A 1-d index seen as a tensor of `shape` that varies only along dim (stride 0 elsewhere):
// index_select and index_add are then gather and scatter_add (as in the CPU kernels).
Tensor spread_along(const Tensor& index, const Shape& shape, int64_t dim) {
  Strides strides(shape.size(), 0);
  strides[dim] = index.strides()[0];
  return index.as_strided(shape, std::move(strides), index.offset());
}

// t seen with `shape` and stride 0 along dim: the base element of each line along dim.
Tensor line_bases(const Tensor& t, const Shape& shape, int64_t dim) {
  Strides strides(t.strides().begin(), t.strides().end());
  strides[dim] = 0;
  return t.as_strided(shape, std::move(strides), t.offset());
}

template <class I>
__global__ void find_bad_index_kernel(int64_t n, Offsets<1> oc, const I* index, int64_t size,
                                      unsigned long long* first) {
  SPLAT_SHARED(int64_t, scratch, kWarp);
  int64_t found = n; // none
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  // A thread's positions ascend, so its first bad one is its smallest.
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t off[1];
    oc.at(i, off);
    const auto v = static_cast<int64_t>(index[off[0]]);
    if (v < 0 || v >= size) {
      found = i;
      break;
    }
  }
  found = block_reduce(found, Min{}, scratch);
  if (threadIdx.x == 0 && found < n) atomicMin(first, static_cast<unsigned long long>(found));
}

template <class T, class I>
__global__ void gather_kernel(int64_t n, Offsets<3> oc, T* out, const T* x, const I* index,
                              int64_t x_dim_stride) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t off[3];
    oc.at(i, off);
    out[off[0]] = x[off[1] + static_cast<int64_t>(index[off[2]]) * x_dim_stride];
  }
}

// One thread per line: oc runs over the lines ({out, src, index} bases), j along dim.
template <class T, class I>
__global__ void scatter_lines_kernel(int64_t lines, Offsets<3> oc, int64_t len,
                                     int64_t out_dim_stride, int64_t src_dim_stride,
                                     int64_t index_dim_stride, T* out, const T* src,
                                     const I* index) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t l = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; l < lines;
       l += stride) {
    int64_t off[3];
    oc.at(l, off);
    for (int64_t j = 0; j < len; ++j) {
      const auto k = static_cast<int64_t>(index[off[2] + j * index_dim_stride]);
      out[off[0] + k * out_dim_stride] += src[off[1] + j * src_dim_stride];
    }
  }
}

// keys[p] = (line of p) * size + index[p], perm[p] = p over the sorted shape. Lines number the
// positions with dim dropped: p = (outer * len + j) * inner + i is line outer * inner + i.
template <class I>
__global__ void sort_keys_kernel(int64_t n, Offsets<1> oc, const I* index, int64_t len,
                                 int64_t inner, int64_t size, int64_t* keys, int64_t* perm) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < n;
       p += stride) {
    int64_t off[1];
    oc.at(p, off);
    const int64_t line = p / (len * inner) * inner + p % inner;
    keys[p] = line * size + static_cast<int64_t>(index[off[0]]);
    perm[p] = p;
  }
}

// Thread t = s * spread + b: if sorted position s starts a run of equal keys, sums the run's
// src elements at broadcast position b into their common out element. os runs over the sorted
// shape and ob over the broadcast one, both as {src, out line base}.
template <class T>
__global__ void segment_sum_kernel(int64_t n, int64_t spread, const int64_t* keys,
                                   const int64_t* perm, Offsets<2> os, Offsets<2> ob, int64_t size,
                                   int64_t out_dim_stride, T* out, const T* src) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t threads = n * spread;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < threads;
       t += stride) {
    const int64_t s = t / spread, b = t % spread;
    const int64_t key = keys[s];
    if (s > 0 && keys[s - 1] == key) continue;
    int64_t base[2], off[2];
    ob.at(b, base);
    os.at(perm[s], off);
    T* dst = out + off[1] + base[1] + key % size * out_dim_stride;
    T acc = *dst;
    for (int64_t r = s; r < n && keys[r] == key; ++r) {
      os.at(perm[r], off);
      acc += src[off[0] + base[0]];
    }
    *dst = acc;
  }
}

template <class T, class I>
void scatter_per_line(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  Shape lines_shape = index.shape();
  const int64_t len = lines_shape[dim];
  lines_shape[dim] = 1; // make_geometry drops it: what remains numbers the lines
  const int64_t lines = numel(lines_shape);
  const auto oc = offsets_of<3>(make_geometry<3>(lines_shape, {&out, &src, &index}), index.shape());
  splat::cuda::launch(scatter_lines_kernel<T, I>, {blocks_for(lines), kThreads}, lines, oc, len,
                      out.strides()[dim], src.strides()[dim], index.strides()[dim], out.data<T>(),
                      src.data<T>(), index.data<I>());
}

template <class T, class I>
void scatter_sorted(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src,
                    const Shape& sorted_shape, const Shape& spread_shape) {
  const int64_t n = numel(sorted_shape), spread = numel(spread_shape), size = out.shape()[dim];
  const int64_t len = sorted_shape[dim];
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(dim) + 1; d < sorted_shape.size(); ++d)
    inner *= sorted_shape[d];
  const int64_t lines = n / len;
  SPLAT_CHECK(lines <= std::numeric_limits<int64_t>::max() / size, "scatter_add: ", lines,
              " lines of index times dim size ", size, " overflow the int64 sort keys");
  const int bits = static_cast<int>(std::bit_width(static_cast<uint64_t>(lines * size - 1)));

  const Device device = out.device();
  Tensor scratch = Tensor::empty({4, n}, DType::i64, device);
  int64_t* keys = scratch.data<int64_t>();
  int64_t* perm = keys + n;
  int64_t* keys_alt = keys + 2 * n;
  int64_t* perm_alt = keys + 3 * n;
  const Tensor index_s = index.as_strided(sorted_shape, index.strides(), index.offset());
  splat::cuda::launch(sort_keys_kernel<I>, {blocks_for(n), kThreads}, n,
                      offsets_of<1>(make_geometry<1>(sorted_shape, {&index_s}), sorted_shape),
                      index_s.data<I>(), len, inner, size, keys, perm);
  for (int bit = 0; bit < bits; ++bit) {
    RadixPartition op{keys, perm, keys_alt, perm_alt, bit, nullptr};
    const ScanPlan plan = scan_count(device, n, op);
    op.zeros = plan.total();
    scan_apply(plan, op);
    std::swap(keys, keys_alt);
    std::swap(perm, perm_alt);
  }

  const Tensor src_s = src.as_strided(sorted_shape, src.strides(), src.offset());
  const Tensor out_s = line_bases(out, sorted_shape, dim);
  const Tensor src_b = src.as_strided(spread_shape, src.strides(), src.offset());
  const Tensor out_b = line_bases(out, spread_shape, dim);
  const auto os = offsets_of<2>(make_geometry<2>(sorted_shape, {&src_s, &out_s}), sorted_shape);
  const auto ob = offsets_of<2>(make_geometry<2>(spread_shape, {&src_b, &out_b}), spread_shape);
  splat::cuda::launch(segment_sum_kernel<T>, {blocks_for(n * spread), kThreads}, n, spread,
                      static_cast<const int64_t*>(keys), static_cast<const int64_t*>(perm), os, ob,
                      size, out.strides()[dim], out.data<T>(), src.data<T>());
}

} // namespace

std::optional<BadIndex> find_bad_index(const Tensor& index, int64_t size) {
  const int64_t n = index.numel();
  if (n == 0) return std::nullopt;
  const Device device = index.device();
  splat::cuda::DeviceGuard guard(device);
  Tensor first = Tensor::empty({1}, DType::i64, device);
  splat::cuda::memset(first.raw_data(), 0xff, sizeof(int64_t)); // no bad position yet
  auto* first_ptr = reinterpret_cast<unsigned long long*>(first.data<int64_t>());
  const auto oc = offsets_of<1>(make_geometry<1>(index.shape(), {&index}), index.shape());
  dispatch<cpu::kIndexDTypes>(index.dtype(), "index", [&]<class I>() {
    splat::cuda::launch(find_bad_index_kernel<I>, {blocks_for(n), kThreads}, n, oc, index.data<I>(),
                        size, first_ptr);
  });
  const int64_t position = read_back(first.data<int64_t>(), device);
  if (position < 0) return std::nullopt;
  // Read the one offending value back for the message.
  int64_t offset = index.offset();
  for (int64_t d = index.dim() - 1, flat = position; d >= 0; --d) {
    offset += flat % index.shape()[d] * index.strides()[d];
    flat /= index.shape()[d];
  }
  return BadIndex{position, index.as_strided({}, {}, offset).item<int64_t>()};
}

void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t n = out.numel();
  if (n == 0) return;
  splat::cuda::DeviceGuard guard(out.device());
  const Tensor bases = line_bases(x, out.shape(), dim);
  const auto oc = offsets_of<3>(make_geometry<3>(out.shape(), {&out, &bases, &index}), out.shape());
  dispatch<DTypeSet::all>(x.dtype(), "gather", [&]<class T>() {
    dispatch<cpu::kIndexDTypes>(index.dtype(), "gather", [&]<class I>() {
      splat::cuda::launch(gather_kernel<T, I>, {blocks_for(n), kThreads}, n, oc, out.data<T>(),
                          x.data<T>(), index.data<I>(), x.strides()[dim]);
    });
  });
}

void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (index.numel() == 0) return;
  splat::cuda::DeviceGuard guard(out.device());
  // Dims along which index is expanded repeat the same destinations: sort without them.
  Shape sorted_shape = index.shape(), spread_shape = index.shape();
  for (int64_t d = 0; d < index.dim(); ++d) {
    const bool spread = d != dim && index.strides()[d] == 0;
    (spread ? sorted_shape : spread_shape)[d] = 1;
  }
  const int64_t len = index.shape()[dim];
  const bool per_line = len <= kShortLine || numel(sorted_shape) / len >= kManyLines;
  dispatch<DTypeSet::numeric>(out.dtype(), "scatter_add", [&]<class T>() {
    dispatch<cpu::kIndexDTypes>(index.dtype(), "scatter_add", [&]<class I>() {
      if (per_line)
        scatter_per_line<T, I>(out, dim, index, src);
      else
        scatter_sorted<T, I>(out, dim, index, src, sorted_shape, spread_shape);
    });
  });
}

void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  gather(out, x, dim, spread_along(index, out.shape(), dim));
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_add(out, dim, spread_along(index, src.shape(), dim), src);
}

int64_t count_nonzero(const Tensor& t) {
  const int64_t n = t.numel();
  if (n == 0) return 0;
  splat::cuda::DeviceGuard guard(t.device());
  return dispatch<DTypeSet::all>(t.dtype(), "count_nonzero", [&]<class T>() {
    return read_back(scan_count(t.device(), n, nonzero_count<T>(t)).total(), t.device());
  });
}

void masked_select(const Tensor& out, const Tensor& x, const Tensor& mask) {
  const int64_t n = x.numel();
  if (n == 0 || out.numel() == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  const auto oc = offsets_of<2>(make_geometry<2>(x.shape(), {&x, &mask}), x.shape());
  dispatch<DTypeSet::all>(x.dtype(), "masked_select", [&]<class T>() {
    const MaskedSelect<T> op{oc, x.data<T>(), mask.data<bool>(), out.data<T>(), out.strides()[0]};
    scan_apply(scan_count(x.device(), n, op), op);
  });
}

void masked_scatter(const Tensor& out, const Tensor& mask, const Tensor& src) {
  const int64_t n = out.numel();
  if (n == 0) return;
  splat::cuda::DeviceGuard guard(out.device());
  const auto oc = offsets_of<2>(make_geometry<2>(out.shape(), {&out, &mask}), out.shape());
  dispatch<DTypeSet::all>(out.dtype(), "masked_scatter", [&]<class T>() {
    const MaskedScatter<T> op{oc, mask.data<bool>(), src.data<T>(), out.data<T>(),
                              src.strides()[0]};
    scan_apply(scan_count(out.device(), n, op), op);
  });
}

void nonzero(const Tensor& out, const Tensor& x) {
  const int64_t n = x.numel();
  if (x.dim() == 0 || n == 0 || out.numel() == 0) return; // (n, 0) or (0, d): nothing to write
  SPLAT_CHECK(x.dim() <= kMaxDims, "nonzero: cuda supports at most ", kMaxDims, " dims, got shape ",
              shape_str(x.shape()));
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::all>(x.dtype(), "nonzero", [&]<class T>() {
    Nonzero<T> op{nonzero_count<T>(x), static_cast<int>(x.dim()), {},
                  out.data<int64_t>(), out.strides()[0],          out.strides()[1]};
    for (int64_t d = 0; d < x.dim(); ++d) op.sizes[d] = x.shape()[d];
    scan_apply(scan_count(x.device(), n, op), op);
  });
}

} // namespace splat::ops::cuda
