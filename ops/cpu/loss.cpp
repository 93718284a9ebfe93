// Cross-entropy runs one row per iteration of a parallel loop (max, then sum of exponentials);
// the binary cross-entropy kernels are elementwise maps. Formulas in ops/loss_fns.h.
#include "ops/cpu/loss.h"

#include "ops/cpu/loop.h"
#include "ops/cpu/parallel.h"
#include "ops/loss_fns.h"

#include <cmath>
#include <limits>

namespace splat::ops::cpu {
namespace {

// Position of the first target that is neither ignored nor a class, or -1. Runs before the
// parallel loop, which must not throw.
int64_t first_bad_target(const int64_t* t, int64_t n, int64_t classes, int64_t ignore_index) {
  for (int64_t i = 0; i < n; ++i)
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= classes)) return i;
  return -1;
}

} // namespace

int64_t cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                      const Tensor& target, int64_t ignore_index) {
  const int64_t n = logits.size(0), c = logits.size(1);
  const int64_t* pt = target.data<int64_t>();
  if (const int64_t bad = first_bad_target(pt, n, c, ignore_index); bad >= 0) return bad;
  dispatch<DTypeSet::floating>(logits.dtype(), "cross_entropy", [&]<class T>() {
    const T* px = logits.data<T>();
    T* pl = loss.data<T>();
    T* plse = lse.data<T>();
    parallel_for(n, c, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* row = px + r * c;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < c; ++j) m = std::max(m, row[j]);
        T s = 0;
        for (int64_t j = 0; j < c; ++j) s += std::exp(row[j] - m);
        plse[r] = m + std::log(s);
        pl[r] = pt[r] == ignore_index ? T(0) : plse[r] - row[pt[r]];
      }
    });
  });
  return -1;
}

void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits,
                            const Tensor& target, const Tensor& lse, int64_t ignore_index) {
  const int64_t n = logits.size(0), c = logits.size(1);
  dispatch<DTypeSet::floating>(logits.dtype(), "cross_entropy backward", [&]<class T>() {
    const T* px = logits.data<T>();
    const T* pg = g.data<T>();
    const T* plse = lse.data<T>();
    const int64_t* pt = target.data<int64_t>();
    T* pd = dlogits.data<T>();
    parallel_for(n, c, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const bool ignored = pt[r] == ignore_index;
        for (int64_t j = 0; j < c; ++j)
          pd[r * c + j] =
              ignored ? T(0) : fn::cross_entropy_grad(pg[r], px[r * c + j], plse[r], j == pt[r]);
      }
    });
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

} // namespace splat::ops::cpu
