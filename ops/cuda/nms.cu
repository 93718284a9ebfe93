// CUDA NMS over boxes sorted by decreasing score (contract in ops/cpu/nms.h), in two kernels:
//
// 1. Overlap bitmask. The sorted boxes are cut into blocks of 64; a CUDA block of 64 threads
//    handles one (row block, column block) pair at or above the diagonal: it stages the column
//    block's boxes, areas and groups in shared memory, then thread t sets bit c of
//    mask[i * col_blocks + column block] (i = row block * 64 + t) when box i suppresses column
//    box c (same group, IoU above the threshold, c after i). Pairs below the diagonal are never
//    read and are skipped.
// 2. Sweep. One block walks the row blocks in order with `removed` (one u64 per column block,
//    shared memory) holding the boxes already suppressed. For row block r every thread replays
//    the 64 decisions of the block from removed[r] and the block's diagonal words (staged in
//    shared memory) - the same chain of decisions as the CPU loop, so identical in all threads;
//    thread 0 appends the kept positions to `keep`; then the threads OR the mask words of the
//    kept boxes into removed[c] for the later column blocks c, each thread owning a strided
//    set of c, and a barrier ends the row block. Serial in the row blocks (the decisions form a
//    chain) but with no host round trip; the number kept goes to *count.
// Memory: mask is N * ceil(N / 64) u64 (50 MB for N = 20000); removed needs ceil(N / 64) * 8
// bytes of shared memory, which limits N to about 390000 (the mask would then take 19 GB).
#include "ops/cuda/nms.h"

#include "ops/box_fns.h"
#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

constexpr int kBlockBoxes = 64;
constexpr unsigned kSweepThreads = 256;
// Dynamic shared memory for `removed`: the default 48 KiB less the static `diag`.
constexpr size_t kMaxSweepShared = 48 * 1024 - kBlockBoxes * sizeof(uint64_t);

template <class T>
__global__ void overlap_mask_kernel(int64_t n, int64_t col_blocks, const T* boxes,
                                    const int64_t* groups, double threshold, uint64_t* mask) {
  const int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (row_block > col_block) return; // the whole CUDA block leaves: no barrier is skipped
  SPLAT_SHARED(T, col_boxes, kBlockBoxes * 4);
  SPLAT_SHARED(double, col_areas, kBlockBoxes);
  SPLAT_SHARED(int64_t, col_groups, kBlockBoxes);
  const int64_t col_start = col_block * kBlockBoxes;
  const int64_t cols = n - col_start < kBlockBoxes ? n - col_start : kBlockBoxes;
  const int t = static_cast<int>(threadIdx.x);
  if (t < cols) {
    for (int k = 0; k < 4; ++k) col_boxes[t * 4 + k] = boxes[(col_start + t) * 4 + k];
    col_areas[t] = box::area(col_boxes + t * 4);
    col_groups[t] = groups ? groups[col_start + t] : 0;
  }
  __syncthreads();
  const int64_t i = row_block * kBlockBoxes + t;
  if (i >= n) return;
  const T* bi = boxes + i * 4;
  const double area_i = box::area(bi);
  const int64_t group_i = groups ? groups[i] : 0;
  uint64_t bits = 0;
  for (int c = row_block == col_block ? t + 1 : 0; c < cols; ++c)
    if (col_groups[c] == group_i &&
        box::iou_above(bi, area_i, col_boxes + c * 4, col_areas[c], threshold))
      bits |= uint64_t{1} << c;
  mask[i * col_blocks + col_block] = bits;
}

__global__ void sweep_kernel(int64_t n, int64_t col_blocks, const uint64_t* mask, int64_t max_kept,
                             int64_t* keep, int64_t* count) {
  SPLAT_DYNAMIC_SHARED(uint64_t, removed);
  SPLAT_SHARED(uint64_t, diag, kBlockBoxes);
  const int64_t t = threadIdx.x, threads = blockDim.x;
  for (int64_t c = t; c < col_blocks; c += threads) removed[c] = 0;
  int64_t kept = 0; // the same in every thread: all make the same decisions
  for (int64_t r = 0; r < col_blocks && kept != max_kept; ++r) {
    const int64_t start = r * kBlockBoxes;
    const int rows = n - start < kBlockBoxes ? static_cast<int>(n - start) : kBlockBoxes;
    for (int64_t b = t; b < rows; b += threads) diag[b] = mask[(start + b) * col_blocks + r];
    __syncthreads(); // diag staged; removed[r] final (its last writers ran before the last barrier)
    uint64_t gone = removed[r], kept_bits = 0;
    for (int b = 0; b < rows && kept != max_kept; ++b) {
      if (gone >> b & 1) continue;
      kept_bits |= uint64_t{1} << b;
      if (t == 0) keep[kept] = start + b;
      ++kept;
      gone |= diag[b];
    }
    for (int64_t c = r + 1 + t; c < col_blocks; c += threads) {
      uint64_t acc = removed[c];
      for (int b = 0; b < rows; ++b)
        if (kept_bits >> b & 1) acc |= mask[(start + b) * col_blocks + c];
      removed[c] = acc;
    }
    __syncthreads(); // removed[r + 1] is final; diag may be restaged
  }
  if (t == 0) *count = kept;
}

} // namespace

int64_t nms_sorted(const Tensor& keep, const Tensor& boxes, const Tensor& groups,
                   double iou_threshold, int64_t max_kept) {
  const int64_t n = boxes.size(0);
  if (n == 0 || max_kept == 0) return 0;
  const int64_t col_blocks = (n + kBlockBoxes - 1) / kBlockBoxes;
  const size_t removed_bytes = static_cast<size_t>(col_blocks) * sizeof(uint64_t);
  SPLAT_CHECK(removed_bytes <= kMaxSweepShared, "nms: ", n,
              " boxes is more than the CUDA kernel's limit of ",
              kMaxSweepShared / sizeof(uint64_t) * kBlockBoxes, " (pre-select with top_k_scores)");
  const Device dev = boxes.device();
  // Bytes in u8 tensors: the caching allocator owns the scratch memory.
  const Tensor mask = Tensor::empty({n * col_blocks * 8}, DType::u8, dev);
  const Tensor count = Tensor::empty({1}, DType::i64, dev);
  uint64_t* pmask = reinterpret_cast<uint64_t*>(mask.data<uint8_t>());
  splat::cuda::DeviceGuard guard(dev);
  dispatch<DTypeSet::floating>(boxes.dtype(), "nms", [&]<class T>() {
    const auto blocks = static_cast<unsigned>(col_blocks);
    splat::cuda::launch(overlap_mask_kernel<T>, {splat::cuda::Dim3(blocks, blocks), kBlockBoxes}, n,
                        col_blocks, boxes.data<T>(),
                        groups.defined() ? groups.data<int64_t>() : nullptr, iou_threshold, pmask);
  });
  splat::cuda::launch(sweep_kernel, {1, kSweepThreads, removed_bytes}, n, col_blocks,
                      static_cast<const uint64_t*>(pmask), max_kept, keep.data<int64_t>(),
                      count.data<int64_t>());
  return count.item<int64_t>();
}

} // namespace splat::ops::cuda
