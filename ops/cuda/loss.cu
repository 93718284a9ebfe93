// CUDA kernels of the fused losses, the counterparts of ops/cpu/loss.cpp (contract in
// ops/cuda/loss.h; per-element formulas in ops/loss_fns.h).
//
// cross_entropy: one block slot per row of logits (layout in ops/cuda/row_reduce.cuh): one pass
// folds the row into its online normaliser, then lane 0 writes lse and the loss. A target that
// is neither ignore_index nor a class lowers a device flag (integer atomicMin over row numbers,
// so the first bad row wins whatever the schedule), which the launcher reads back.
// cross_entropy_backward: one thread per logit. bce_with_logits(_backward): elementwise maps.
// Every kernel overwrites its outputs; no float atomics.
#include "ops/cuda/loss.h"

#include "core/cuda/device_guard.h"
#include "ops/cuda/loop.cuh"
#include "ops/cuda/row_reduce.cuh"
#include "ops/loss_fns.h"

namespace splat::ops::cuda {
namespace {

using Flag = unsigned long long;

template <class T>
__global__ void cross_entropy_kernel(cpu::SoftmaxRows r, const T* x, const int64_t* target,
                                     int64_t ignore_index, T* loss, T* lse, Flag* first_bad) {
  SPLAT_SHARED(MaxSum<T>, smem, kRowBlock);
  const RowThread t = row_thread(true);
  const int64_t rows = r.outer;
  for (int64_t first = static_cast<int64_t>(blockIdx.x) * t.slots; first < rows;
       first += static_cast<int64_t>(gridDim.x) * t.slots) {
    const int64_t row = first + t.slot;
    const MaxSum<T> ms = row_max_sum(r, x, row, rows, t, smem, true);
    if (row >= rows || t.lane != 0) continue;
    const int64_t k = target[row];
    const T row_lse = ms.m + std::log(ms.s);
    lse[row] = row_lse;
    if (k == ignore_index) {
      loss[row] = T(0);
    } else if (k < 0 || k >= r.n) {
      atomicMin(first_bad, static_cast<Flag>(row));
    } else {
      loss[row] = row_lse - x[row * r.n + k];
    }
  }
}

template <class T>
__global__ void cross_entropy_backward_kernel(int64_t rows, int64_t classes, const T* g, const T* x,
                                              const int64_t* target, const T* lse,
                                              int64_t ignore_index, T* dx) {
  const int64_t n = rows * classes;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t row = i / classes, k = target[row];
    dx[i] =
        k == ignore_index ? T(0) : fn::cross_entropy_grad(g[row], x[i], lse[row], i % classes == k);
  }
}

} // namespace

int64_t cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                      const Tensor& target, int64_t ignore_index) {
  const int64_t rows = logits.size(0);
  if (rows == 0) return -1;
  // Rows of C contiguous logits: the (outer, n, inner) split with inner 1.
  const RowPlan p = make_row_plan({rows, logits.size(1), 1});
  splat::cuda::DeviceGuard guard(logits.device());
  const Tensor flag = Tensor::empty({1}, DType::i64, logits.device());
  Flag* pflag = reinterpret_cast<Flag*>(flag.data<int64_t>());
  splat::cuda::memset(pflag, 0xff, sizeof(Flag)); // no bad row yet: the largest value
  dispatch<DTypeSet::floating>(logits.dtype(), "cross_entropy", [&]<class T>() {
    splat::cuda::launch(cross_entropy_kernel<T>, {p.blocks, p.block()}, p.rows, logits.data<T>(),
                        target.data<int64_t>(), ignore_index, loss.data<T>(), lse.data<T>(), pflag);
  });
  Flag bad = 0;
  copy_bytes_to_host(&bad, pflag, sizeof(Flag), logits.device());
  return bad == ~Flag{0} ? -1 : static_cast<int64_t>(bad);
}

void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits,
                            const Tensor& target, const Tensor& lse, int64_t ignore_index) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  if (rows * classes == 0) return;
  splat::cuda::DeviceGuard guard(logits.device());
  dispatch<DTypeSet::floating>(logits.dtype(), "cross_entropy backward", [&]<class T>() {
    splat::cuda::launch(cross_entropy_backward_kernel<T>, {blocks_for(rows * classes), kThreads},
                        rows, classes, g.data<T>(), logits.data<T>(), target.data<int64_t>(),
                        lse.data<T>(), ignore_index, dlogits.data<T>());
  });
}

void bce_with_logits(const Tensor& loss, const Tensor& x, const Tensor& t) {
  dispatch<DTypeSet::floating>(x.dtype(), "binary_cross_entropy_with_logits",
                               [&]<class T>() { map<T, T, T>(loss, fn::BceWithLogits{}, x, t); });
}

void bce_with_logits_backward(const Tensor& dx, const Tensor& g, const Tensor& x, const Tensor& t) {
  dispatch<DTypeSet::floating>(
      x.dtype(), "binary_cross_entropy_with_logits backward",
      [&]<class T>() { map<T, T, T, T>(dx, fn::BceWithLogitsGrad{}, g, x, t); });
}

} // namespace splat::ops::cuda
