// CPU split-attention kernels (contracts in ops/cpu/split_attention.h). Parallel over (n, c)
// (or (n, k, j) for the r-softmax): every output element is owned by one iteration, which sums
// its terms in a fixed order, so results do not depend on the thread count.
#include "ops/cpu/split_attention.h"

#include "ops/cpu/parallel.h"
#include "ops/split_attention_fns.h"

namespace splat::ops::cpu {
namespace {

using namespace split_attention_fns;

Splits splits_of(const Tensor& x, int64_t radix) {
  return {x.shape()[0], x.shape()[1] / radix, radix, x.shape()[2] * x.shape()[3]};
}

template <class F> void floating(const Tensor& t, std::string_view op, F&& f) {
  dispatch<DTypeSet::floating>(t.dtype(), op, std::forward<F>(f));
}

} // namespace

void split_attention_pool(const Tensor& out, const Tensor& x, int64_t radix) {
  const Splits g = splits_of(x, radix);
  floating(x, "split_attention_pool", [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(g.n * g.c, g.radix * g.hw, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t ni = i / g.c, ci = i % g.c;
        double acc = 0;
        for (int64_t r = 0; r < g.radix; ++r) {
          const T* p = px + g.plane(ni, r, ci) * g.hw;
          for (int64_t k = 0; k < g.hw; ++k) acc += p[k];
        }
        po[i] = static_cast<T>(acc / static_cast<double>(g.hw));
      }
    });
  });
}

void split_attention_pool_backward(const Tensor& dx, const Tensor& dout, int64_t radix) {
  const Splits g = splits_of(dx, radix);
  floating(dx, "split_attention_pool_backward", [&]<class T>() {
    const T* pg = dout.data<T>();
    T* pdx = dx.data<T>();
    parallel_for(g.n * g.c, g.radix * g.hw, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t ni = i / g.c, ci = i % g.c;
        const T v = static_cast<T>(pg[i] / static_cast<double>(g.hw));
        for (int64_t r = 0; r < g.radix; ++r) {
          T* p = pdx + g.plane(ni, r, ci) * g.hw;
          for (int64_t k = 0; k < g.hw; ++k) p[k] = v;
        }
      }
    });
  });
}

void rsoftmax(const Tensor& a, const Tensor& z, int64_t radix, int64_t cardinality) {
  const int64_t n = z.shape()[0], c = z.shape()[1] / radix;
  const Groups g{c, c / cardinality, radix};
  floating(z, "rsoftmax", [&]<class T>() {
    const T* pz = z.data<T>();
    T* pa = a.data<T>();
    parallel_for(n * c, radix, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        rsoftmax_group(g, pz + g.z_offset(i), pa + g.a_offset(i));
    });
  });
}

void rsoftmax_backward(const Tensor& dz, const Tensor& da, const Tensor& a, int64_t radix,
                       int64_t cardinality) {
  const int64_t n = a.shape()[0], c = a.shape()[1] / radix;
  const Groups g{c, c / cardinality, radix};
  floating(a, "rsoftmax_backward", [&]<class T>() {
    const T *pa = a.data<T>(), *pda = da.data<T>();
    T* pdz = dz.data<T>();
    parallel_for(n * c, radix, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        rsoftmax_group_backward(g, pdz + g.z_offset(i), pda + g.a_offset(i), pa + g.a_offset(i));
    });
  });
}

void split_attention_combine(const Tensor& out, const Tensor& x, const Tensor& a, int64_t radix) {
  const Splits g = splits_of(x, radix);
  floating(x, "split_attention_combine", [&]<class T>() {
    const T *px = x.data<T>(), *pa = a.data<T>();
    T* po = out.data<T>();
    parallel_for(g.n * g.c, g.radix * g.hw, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t k = 0; k < g.hw; ++k) po[i * g.hw + k] = combine_at(g, px, pa, i, k);
      }
    });
  });
}

void split_attention_combine_backward(const Tensor& dx, const Tensor& da, const Tensor& dout,
                                      const Tensor& x, const Tensor& a, int64_t radix) {
  const Splits g = splits_of(x, radix);
  floating(x, "split_attention_combine_backward", [&]<class T>() {
    const T *px = x.data<T>(), *pa = a.data<T>(), *pg = dout.data<T>();
    T* pdx = dx.defined() ? dx.data<T>() : nullptr;
    T* pda = da.defined() ? da.data<T>() : nullptr;
    parallel_for(g.n * g.c, g.radix * g.hw, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* gi = pg + i * g.hw;
        for (int64_t r = 0; r < g.radix; ++r) {
          const int64_t p = g.first_plane(i) + r * g.c;
          if (pdx) {
            const T w = pa[p];
            T* d = pdx + p * g.hw;
            for (int64_t k = 0; k < g.hw; ++k) d[k] = gi[k] * w;
          }
          if (pda) {
            const T* xr = px + p * g.hw;
            double acc = 0;
            for (int64_t k = 0; k < g.hw; ++k) acc += double(gi[k]) * xr[k];
            pda[p] = static_cast<T>(acc);
          }
        }
      }
    });
  });
}

} // namespace splat::ops::cpu
