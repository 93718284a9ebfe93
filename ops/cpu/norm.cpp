// CPU batch norm. Reductions run one channel per parallel item and walk its elements in (n, l)
// order, so results do not depend on the thread count (statistics: Welford by blocks of a row,
// rows merged in order with Chan's formula); elementwise kernels run one (n, c) row per
// item. The per-element arithmetic is shared with the CUDA kernels (ops/norm_math.h).
#include "ops/cpu/norm.h"

#include "ops/cpu/parallel.h"
#include "ops/norm_math.h"

namespace splat::ops::cpu {
namespace {

// Welford statistics of n contiguous values in one pass, a block of kBlock values at a time: the
// block's exact mean and M2 (from registers, with independent accumulators the compiler can
// vectorise), then Chan's merge into the running state, so the division of Welford's update
// happens once per block instead of once per element.
template <class T> Welford row_stats(const T* x, int64_t n) {
  constexpr int kBlock = 16;
  Welford w;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    double v[kBlock], sum = 0, m2 = 0;
    for (int k = 0; k < kBlock; ++k) v[k] = x[i + k];
    for (int k = 0; k < kBlock; ++k) sum += v[k];
    const double mean = sum / kBlock;
    for (int k = 0; k < kBlock; ++k) m2 += (v[k] - mean) * (v[k] - mean);
    w = Welford::merge(w, {double(kBlock), mean, m2});
  }
  for (; i < n; ++i) w.add(x[i]);
  return w;
}

// sum dy and sum dy * (x - mean) over n contiguous values, in four independent lanes.
template <class T> GradSums row_grad_sums(const T* dy, const T* x, double mean, int64_t n) {
  constexpr int kLanes = 4;
  double sum_dy[kLanes] = {}, sum_xmu[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      sum_dy[k] += dy[i + k];
      sum_xmu[k] += dy[i + k] * (x[i + k] - mean);
    }
  GradSums acc;
  for (int k = 0; k < kLanes; ++k) acc = GradSums::merge(acc, {sum_dy[k], sum_xmu[k]});
  for (; i < n; ++i) acc = GradSums::merge(acc, {double(dy[i]), dy[i] * (x[i] - mean)});
  return acc;
}

} // namespace

void batch_norm_stats(const BatchStats& stats, const Tensor& x) {
  const NclShape s = ncl_shape(x);
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_stats", [&]<class T>() {
    const T* px = x.data<T>();
    T *count = stats.count.data<T>(), *mean = stats.mean.data<T>(), *m2 = stats.m2.data<T>();
    parallel_for(s.c, s.per_channel(), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        Welford w;
        for (int64_t n = 0; n < s.n; ++n)
          w = Welford::merge(w, row_stats(px + (n * s.c + c) * s.l, s.l));
        count[c] = static_cast<T>(w.n);
        mean[c] = static_cast<T>(w.mean);
        m2[c] = static_cast<T>(w.m2);
      }
    });
  });
}

void batch_norm_merge_stats(const BatchStats& out, const BatchStats& sets) {
  const int64_t n_sets = sets.count.size(0), channels = sets.count.size(1);
  dispatch<DTypeSet::floating>(sets.mean.dtype(), "batch_norm_merge_stats", [&]<class T>() {
    const T *count = sets.count.data<T>(), *mean = sets.mean.data<T>(), *m2 = sets.m2.data<T>();
    T *out_count = out.count.data<T>(), *out_mean = out.mean.data<T>(), *out_m2 = out.m2.data<T>();
    for (int64_t c = 0; c < channels; ++c) {
      const Welford w = merge_sets(n_sets, channels, c, count, mean, m2);
      out_count[c] = static_cast<T>(w.n);
      out_mean[c] = static_cast<T>(w.mean);
      out_m2[c] = static_cast<T>(w.m2);
    }
  });
}

void batch_norm_elemt(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, Activation act) {
  const NclShape s = ncl_shape(x);
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_elemt", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const T *pm = mean.data<T>(), *pi = invstd.data<T>();
    const T *pw = data_or_null<T>(weight), *pb = data_or_null<T>(bias);
    parallel_for(s.n * s.c, s.l, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const auto f = ChannelAffine<T>::at(row % s.c, pm, pi, pw, pb, act == Activation::relu);
        for (int64_t l = 0; l < s.l; ++l) py[row * s.l + l] = f(px[row * s.l + l]);
      }
    });
  });
}

void batch_norm_backward_reduce(const BatchNormGradSums& sums, const Tensor& dy, const Tensor& x,
                                const Tensor& mean) {
  const NclShape s = ncl_shape(x);
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_backward_reduce", [&]<class T>() {
    const T *px = x.data<T>(), *pdy = dy.data<T>(), *pm = mean.data<T>();
    T *sum_dy = sums.sum_dy.data<T>(), *sum_dy_xmu = sums.sum_dy_xmu.data<T>();
    parallel_for(s.c, s.per_channel(), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const double m = pm[c];
        GradSums acc;
        for (int64_t n = 0; n < s.n; ++n) {
          const int64_t base = (n * s.c + c) * s.l;
          acc = GradSums::merge(acc, row_grad_sums(pdy + base, px + base, m, s.l));
        }
        sum_dy[c] = static_cast<T>(acc.dy);
        sum_dy_xmu[c] = static_cast<T>(acc.dy_xmu);
      }
    });
  });
}

void batch_norm_backward_elemt(const Tensor& dx, const Tensor& dy, const Tensor& x,
                               const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                               const BatchNormGradSums& sums, double count) {
  const NclShape s = ncl_shape(x);
  dispatch<DTypeSet::floating>(x.dtype(), "batch_norm_backward_elemt", [&]<class T>() {
    const T *px = x.data<T>(), *pdy = dy.data<T>();
    const T *pm = mean.data<T>(), *pi = invstd.data<T>(), *pw = data_or_null<T>(weight);
    const T *sdy = sums.sum_dy.data<T>(), *sxmu = sums.sum_dy_xmu.data<T>();
    T* pdx = dx.data<T>();
    parallel_for(s.n * s.c, s.l, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const auto f = ChannelGradInput<T>::at(row % s.c, pm, pi, pw, sdy, sxmu, count);
        for (int64_t l = 0; l < s.l; ++l)
          pdx[row * s.l + l] = f(pdy[row * s.l + l], px[row * s.l + l]);
      }
    });
  });
}

} // namespace splat::ops::cpu
