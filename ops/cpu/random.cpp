#include "ops/cpu/random.h"

#include "ops/cpu/loop.h"
#include "ops/cpu/parallel.h"

#include <algorithm>
#include <vector>

namespace splat::ops::cpu {
namespace {

// A Philox block costs about as much as a few dozen arithmetic ops per element.
constexpr int64_t kBlockWork = 16;

// Writes f(i) into the i-th element of out in row-major order, for any strides. Each chunk
// finds the memory offset of its first element, then walks the dims like an odometer.
template <class T, class F> void fill_indexed(const Tensor& out, F f) {
  // Coalescing merges dims only when that keeps row-major order, so index i stays element i.
  const LoopGeometry<1> g = make_geometry<1>(out.shape(), {&out});
  const Shape& sizes = g.sizes;
  const Strides& strides = g.strides[0];
  const auto nd = static_cast<int64_t>(sizes.size());
  T* p = out.data<T>();
  parallel_for(out.numel(), kBlockWork, [&](int64_t begin, int64_t end) {
    Shape idx(static_cast<size_t>(nd));
    int64_t off = 0;
    for (int64_t d = nd - 1, r = begin; d >= 0; --d) {
      idx[d] = r % sizes[d];
      r /= sizes[d];
      off += idx[d] * strides[d];
    }
    for (int64_t i = begin; i < end; ++i) {
      p[off] = f(i);
      for (int64_t d = nd - 1; d >= 0; --d) {
        off += strides[d];
        if (++idx[d] < sizes[d]) break;
        off -= idx[d] * strides[d];
        idx[d] = 0;
      }
    }
  });
}

} // namespace

void uniform(const Tensor& out, PhiloxState st, double lo, double hi) {
  dispatch<DTypeSet::floating>(out.dtype(), "uniform_", [&]<class T>() {
    fill_indexed<T>(out, [=](int64_t i) {
      return philox_uniform_in<T>(philox_block(st.seed, st.offset + i), lo, hi);
    });
  });
}

void normal(const Tensor& out, PhiloxState st, double mean, double std) {
  dispatch<DTypeSet::floating>(out.dtype(), "normal_", [&]<class T>() {
    fill_indexed<T>(out, [=](int64_t i) {
      return static_cast<T>(mean + std * philox_normal(philox_block(st.seed, st.offset + i)));
    });
  });
}

void randint(const Tensor& out, PhiloxState st, int64_t low, uint64_t range) {
  dispatch<DTypeSet::numeric>(out.dtype(), "randint", [&]<class T>() {
    fill_indexed<T>(out, [=](int64_t i) {
      return static_cast<T>(philox_randint(philox_block(st.seed, st.offset + i), low, range));
    });
  });
}

void randperm(const Tensor& out, PhiloxState st) {
  struct Keyed {
    uint64_t key;
    int64_t index;
    bool operator<(const Keyed& o) const { return key != o.key ? key < o.key : index < o.index; }
  };
  const int64_t n = out.numel();
  std::vector<Keyed> keys(static_cast<size_t>(n));
  parallel_for(n, kBlockWork, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const PhiloxBlock b = philox_block(st.seed, st.offset + i);
      keys[i] = {philox_u64(b.w[0], b.w[1]), i};
    }
  });
  // A total order on (key, index): any correct sort, on any device, gives this permutation.
  std::sort(keys.begin(), keys.end());
  dispatch<DTypeSet::numeric>(out.dtype(), "randperm", [&]<class T>() {
    fill_indexed<T>(out, [&](int64_t i) { return static_cast<T>(keys[i].index); });
  });
}

} // namespace splat::ops::cpu
